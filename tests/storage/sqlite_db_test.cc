// SqliteDb's background checkpointer: commits leave the WAL to it (the auto-checkpoint threshold is not hit),
// it copies every committed frame back into the database file, and data survives reopening.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "storage/sqlite/sqlite_db.h"

namespace tamga {
namespace {

TEST(SqliteDb, BackgroundCheckpointerCopiesTheWalBackWithoutTheWriter) {
  auto dir = std::filesystem::temp_directory_path() / ("tamga-ckpt-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "t.db").string();
  {
    SqliteDb::Options o;
    o.path = path;
    o.background_checkpoint = true;
    o.checkpoint_interval_ms = 50;
    auto db = SqliteDb::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
    for (int batch = 0; batch < 20; ++batch) {
      ASSERT_TRUE((*db)->Exec("BEGIN").ok());
      for (int i = 0; i < 200; ++i) {
        auto st = (*db)->Prepare("INSERT INTO t (v) VALUES (?)");
        ASSERT_TRUE(st.ok());
        (*st)->Bind(1, std::string(300, 'x'));
        ASSERT_TRUE((*st)->Run().ok());
      }
      ASSERT_TRUE((*db)->Exec("COMMIT").ok());
    }
    // Within a few intervals the committed pages have been copied into the database file itself (nothing
    // else touches the file: the writer's auto-checkpoint threshold, 1000+ pages, is not reached).
    uintmax_t size = 0;
    for (int i = 0; i < 100 && size < (1u << 20); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      size = std::filesystem::file_size(path);
    }
    EXPECT_GE(size, 1u << 20);
  }
  auto again = SqliteDb::Open({path, true});
  ASSERT_TRUE(again.ok());
  auto st = (*again)->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(st.ok());
  auto row = (*st)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*st)->Int(0), 4000);
  std::filesystem::remove_all(dir);
}

TEST(SqliteDb, WithoutTheCheckpointerTheWalHoldsTheCommits) {  // the control: the test above can fail
  auto dir = std::filesystem::temp_directory_path() / ("tamga-nockpt-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "t.db").string();
  auto db = SqliteDb::Open({path});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE((*db)->Exec("BEGIN").ok());
  for (int i = 0; i < 4000; ++i) {
    auto st = (*db)->Prepare("INSERT INTO t (v) VALUES (?)");
    ASSERT_TRUE(st.ok());
    (*st)->Bind(1, std::string(300, 'x'));
    ASSERT_TRUE((*st)->Run().ok());
  }
  ASSERT_TRUE((*db)->Exec("COMMIT").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LT(std::filesystem::file_size(path), 1u << 20);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tamga

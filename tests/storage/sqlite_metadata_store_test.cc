#include "storage/sqlite/sqlite_stores.h"

#include <filesystem>

#include "storage/job_store.h"
#include "storage/sql/migrations.h"
#include "storage/sqlite/sqlite_db.h"

#include "conformance/auth_store_conformance.h"
#include "conformance/dataset_store_conformance.h"
#include "conformance/metadata_store_conformance.h"
#include "conformance/registry_store_conformance.h"

namespace tamga {
namespace {

std::string TempDbPath() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("tamga-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "tamga.db").string();
}

std::unique_ptr<MetadataStore> MakeSqlite() {
  auto s = OpenSqliteMetadataStore({TempDbPath()});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(*s);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreConformance, ::testing::Values(StoreFactory(MakeSqlite)));

std::unique_ptr<AuthStore> MakeSqliteAuth() {
  std::string path = TempDbPath();
  EXPECT_TRUE(OpenSqliteMetadataStore({path}).ok());  // the schema (the identity tables are in it)
  auto s = OpenSqliteAuthStore(path, "NORMAL");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}
INSTANTIATE_TEST_SUITE_P(Sqlite, AuthStoreConformance, ::testing::Values(AuthStoreFactory(MakeSqliteAuth)));
INSTANTIATE_TEST_SUITE_P(Sqlite, RegistryStoreConformance, ::testing::Values(StoreFactory(MakeSqlite)));

std::unique_ptr<DatasetStore> MakeSqliteDatasets() {
  std::string path = TempDbPath();
  EXPECT_TRUE(OpenSqliteMetadataStore({path}).ok());  // the schema
  auto s = OpenSqliteDatasetStore(path, "NORMAL");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}
INSTANTIATE_TEST_SUITE_P(Sqlite, DatasetStoreConformance,
                         ::testing::Values(DatasetStoreFactory(MakeSqliteDatasets)));

TEST(SqlMetadataStore, MigrationsAreRecordedAndIdempotent) {
  std::string path = TempDbPath();
  {
    auto s = OpenSqliteMetadataStore({path});
    ASSERT_TRUE(s.ok());
    EXPECT_GE((*s)->SchemaVersion(), 1);
  }
  auto again = OpenSqliteMetadataStore({path});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GE((*again)->SchemaVersion(), 1);
}

TEST(SqlMetadataStore, RefusesANewerSchema) {
  std::string path = TempDbPath();
  {
    auto s = OpenSqliteMetadataStore({path});
    ASSERT_TRUE(s.ok());
    auto txn = (*s)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    (void)(*txn)->Rollback();
  }
  {
    auto db = SqliteDb::Open({path});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO schema_migrations(version, name) VALUES (9999, 'future')").ok());
  }
  auto s = OpenSqliteMetadataStore({path});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
}

// A database written before migration 0007 has no metric min/max: opening it fills them from the chunks.
TEST(SqlMetadataStore, FillsMetricRangesOfOlderDatabases) {
  std::string path = TempDbPath();
  {
    auto s = OpenSqliteMetadataStore({path});
    ASSERT_TRUE(s.ok());
    auto txn = (*s)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    Experiment e;
    e.name = "e";
    auto exp = (*txn)->CreateExperiment(e);
    ASSERT_TRUE(exp.ok());
    RunInfo info;
    info.run_id = std::string(32, 'a');
    info.experiment_id = *exp;
    ASSERT_TRUE((*txn)->CreateRun(info, {}).ok());
    ASSERT_TRUE((*txn)->LogMetrics(info.run_id, {{"m", 3, 1, 0}, {"m", -2, 2, 1}}).ok());
    ASSERT_TRUE((*txn)->LogMetrics(info.run_id, {{"m", 7, 3, 2}, {"m", std::nan(""), 4, 3}}).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    auto db = SqliteDb::Open({path});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE latest_metrics SET min_value = NULL, max_value = NULL, range_known = 0").ok());
  }
  auto s = OpenSqliteMetadataStore({path});
  ASSERT_TRUE(s.ok());
  auto run = (*s)->GetRun(std::string(32, 'a'));
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->metric_ranges.size(), 1u);
  EXPECT_EQ(run->metric_ranges[0].first, -2);
  EXPECT_EQ(run->metric_ranges[0].second, 7);
}

// jobs.db has numbered migrations too; a file written before them (tables, no schema_migrations) is adopted
// as version 1 with its rows intact.
TEST(SqliteJobStore, AdoptsADatabaseFromBeforeNumberedMigrations) {
  std::string path = TempDbPath() + ".jobs";
  {
    auto db = SqliteDb::Open({path});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(JobMigrations()[0].sql).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO job_queues(name, created_ms) VALUES ('old', 1)").ok());
  }
  auto store = OpenSqliteJobStore(path, "NORMAL");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store->reset();
  auto db = SqliteDb::Open({path});
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare(
      "SELECT (SELECT MAX(version) FROM schema_migrations), (SELECT COUNT(*) FROM job_queues)");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*(*q)->Step());
  EXPECT_EQ((*q)->Int(0), static_cast<int64_t>(JobMigrations().back().version));
  EXPECT_EQ((*q)->Int(1), 1);
}

}  // namespace
}  // namespace tamga

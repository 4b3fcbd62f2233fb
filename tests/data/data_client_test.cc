// The CLI's local side (src/data/client; docs/data.md): the hash cache, the local object cache, parallel
// scans and checkouts that never lose work or write through links.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/hmac.h"
#include "data/client/data_workflow.h"
#include "data/client/hash_cache.h"
#include "data/client/local_cache.h"
#include "data/client/workspace.h"

namespace tamga {
namespace {

template <typename T>
T Take(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(*r);
}
namespace fs = std::filesystem;

class DataClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tamga-dc-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "ws");
    cache_ = Take(LocalCache::Open((dir_ / "cache").string()));
    hashes_ = Take(HashCache::Open((dir_ / "cache" / "hashes.v1").string()));
    ctx_ = {cache_.get(), hashes_.get(), nullptr, LinkMode::kCopy, 2};
  }
  void TearDown() override {
    std::error_code ec;
    // Never through a link: a test tree holds a symlink to /etc/passwd.
    for (auto& e : fs::recursive_directory_iterator(dir_, ec))
      if (!e.is_symlink(ec)) fs::permissions(e.path(), fs::perms::owner_all, ec);
    fs::remove_all(dir_);
  }
  // Writes a file with an mtime an hour ago (old enough for the hash cache to remember it).
  void Write(const std::string& rel, const std::string& content, bool old = true) {
    fs::path p = dir_ / "ws" / rel;
    fs::create_directories(p.parent_path());
    if (fs::exists(p)) fs::permissions(p, fs::perms::owner_all);
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    if (old) {
      struct timespec times[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
      ::utimensat(AT_FDCWD, p.c_str(), times, 0);
    }
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(dir_ / "ws" / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string Ws(const std::string& rel = "") { return (dir_ / "ws" / rel).string(); }

  fs::path dir_;
  std::unique_ptr<LocalCache> cache_;
  std::unique_ptr<HashCache> hashes_;
  DataContext ctx_;
};

TEST_F(DataClientTest, HashCacheRemembersAcrossOpensSkipsFreshFilesAndSurvivesATornRecord) {
  std::string path = (dir_ / "h.v1").string();
  FileKey old{1, 2, 3, 1'000'000'000};
  FileKey fresh{1, 3, 3, 10'000'000'000};
  {
    auto h = Take(HashCache::Open(path));
    h->Insert(old, Sha256Hex("a"), 10'500'000'000);
    h->Insert(fresh, Sha256Hex("b"), 10'500'000'000);  // modified 0.5 s before: not remembered
    ASSERT_TRUE(h->Flush().ok());
  }
  std::ofstream(path, std::ios::app) << "torn";  // a crash in the middle of an append
  auto h = Take(HashCache::Open(path));
  EXPECT_EQ(h->Lookup(old), Sha256Hex("a"));
  EXPECT_FALSE(h->Lookup(fresh).has_value());
  EXPECT_FALSE(h->Lookup(FileKey{1, 2, 4, 1'000'000'000}).has_value());  // another size
}

TEST_F(DataClientTest, CacheRefusesBytesThatDoNotMatchTheirDigest) {
  auto w = cache_->NewWriter(Sha256Hex("right"), 5);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("wrong").ok());
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(cache_->Has(Sha256Hex("right"), 5));
  auto d = cache_->PutBytes("right");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(cache_->Has(*d, 5));
  struct stat st {};
  ASSERT_EQ(::stat(cache_->ObjectPath(*d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);  // cached objects are read-only
}

TEST_F(DataClientTest, ScanHashesInParallelAndNeverRereadsUnchangedFiles) {
  for (int i = 0; i < 200; ++i)
    Write("d/sub" + std::to_string(i % 7) + "/f" + std::to_string(i), std::to_string(i * i));
  Write("d/.git/objects/x", "ignored");
  Write("d/other.tamga", "ignored");
  ::symlink("/etc/passwd", Ws("d/link").c_str());
  ScanOptions o;
  o.ingest = true;
  o.threads = 4;
  auto first = ScanPath(Ws("d"), hashes_.get(), cache_.get(), o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->manifest.files.size(), 200u);
  EXPECT_EQ(first->hashed_files, 200);
  EXPECT_EQ(first->skipped, 1);
  for (const auto& f : first->manifest.files) EXPECT_TRUE(cache_->Has(f.digest, f.size)) << f.path;
  auto second = ScanPath(Ws("d"), hashes_.get(), cache_.get(), o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->hashed_files, 0);
  EXPECT_EQ(second->manifest.files, first->manifest.files);
  Write("d/sub0/f0", "changed");
  auto third = ScanPath(Ws("d"), hashes_.get(), cache_.get(), o);
  EXPECT_EQ(third->hashed_files, 1);
}

TEST_F(DataClientTest, AddCheckoutRestoresBytesAndRefusesToLoseUnsavedWork) {
  Write("data/a.csv", "x,y\n1,2\n");
  Write("data/deep/b.bin", std::string(100000, 'b'));
  auto added = AddPath(ctx_, Ws("data"), "");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->pointer.dataset, "data");
  EXPECT_EQ(added->pointer.files, 2);
  std::string v1 = added->pointer.manifest;

  Write("data/a.csv", "edited, not added", false);
  Write("data/new.txt", "new", false);
  auto st = PointerStatus(ctx_, Ws("data.tamga"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->diff.modified.size(), 1u);
  EXPECT_EQ(st->diff.added.size(), 1u);

  // Checkout would lose the edit and the new file: refused, nothing touched.
  auto refused = PullPointer(ctx_, Ws("data.tamga"), false, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("a.csv"), std::string::npos);
  EXPECT_EQ(Read("data/a.csv"), "edited, not added");
  auto forced = PullPointer(ctx_, Ws("data.tamga"), true, false);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(Read("data/a.csv"), "x,y\n1,2\n");
  EXPECT_FALSE(fs::exists(Ws("data/new.txt")));
  EXPECT_TRUE(PointerStatus(ctx_, Ws("data.tamga"))->diff.empty());

  // A saved edit (added, so in the cache) can be switched away from and back without --force.
  Write("data/a.csv", "v2", false);
  auto v2 = AddPath(ctx_, Ws("data"), "");
  ASSERT_TRUE(v2.ok());
  auto back = PullManifest(ctx_, "data", v1, Ws("data"), false, false, false);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Read("data/a.csv"), "x,y\n1,2\n");
  EXPECT_EQ(back->written, 1);
  EXPECT_EQ(back->unchanged, 1);
}

TEST_F(DataClientTest, CheckoutNeverWritesThroughASymbolicLink) {
  Write("data/sub/a", "a");
  auto added = AddPath(ctx_, Ws("data"), "");
  ASSERT_TRUE(added.ok());
  fs::remove_all(Ws("data"));
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directories(Ws("data"));
  ::symlink((dir_ / "elsewhere").c_str(), Ws("data/sub").c_str());
  auto r = PullPointer(ctx_, Ws("data.tamga"), true, false);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(dir_ / "elsewhere"));
  // The data path itself as a link: refused too.
  fs::remove_all(Ws("data"));
  ::symlink((dir_ / "elsewhere").c_str(), Ws("data").c_str());
  EXPECT_EQ(PullPointer(ctx_, Ws("data.tamga"), true, false).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::is_empty(dir_ / "elsewhere"));
}

TEST_F(DataClientTest, HardlinkedCheckoutsShareTheCachesReadOnlyBytes) {
  Write("data/a", "shared");
  ASSERT_TRUE(AddPath(ctx_, Ws("data"), "").ok());
  fs::remove_all(Ws("data"));
  DataContext linked = ctx_;
  linked.link = LinkMode::kHardlink;
  ASSERT_TRUE(PullPointer(linked, Ws("data.tamga"), false, false).ok());
  struct stat a {
  }, c{};
  ASSERT_EQ(::stat(Ws("data/a").c_str(), &a), 0);
  ASSERT_EQ(::stat(cache_->ObjectPath(Sha256Hex("shared")).c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_mode & 0222, 0u);
}

}  // namespace
}  // namespace tamga

#include "artifacts/local/local_blob_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "conformance/blob_store_conformance.h"

namespace tamga {
namespace {

// A local store over a fresh folder, removed with the store.
class TempDirBlobStore final : public BlobStore {
 public:
  TempDirBlobStore() {
    static std::atomic<int> n{0};
    root_ = std::filesystem::temp_directory_path() /
            ("tamga-blobconf-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(root_);
    auto made = LocalBlobStore::Create({root_.string()}, &random_);
    if (made.ok()) inner_ = std::move(*made);
  }
  ~TempDirBlobStore() override {
    inner_.reset();
    std::filesystem::remove_all(root_);
  }
  Result<std::unique_ptr<BlobWriter>> OpenWriter(const std::string& p) override {
    return inner_->OpenWriter(p);
  }
  Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& p) override {
    return inner_->OpenReader(p);
  }
  Result<std::vector<BlobEntry>> List(const std::string& d) override { return inner_->List(d); }
  Status Delete(const std::string& p) override { return inner_->Delete(p); }
  Status CopyTree(const std::string& f, const std::string& t) override { return inner_->CopyTree(f, t); }

 private:
  std::filesystem::path root_;
  SystemRandom random_{11};
  std::unique_ptr<LocalBlobStore> inner_;
};

INSTANTIATE_TEST_SUITE_P(Local, BlobStoreConformance, ::testing::Values([] {
                           return std::unique_ptr<BlobStore>(new TempDirBlobStore());
                         }));

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("tamga-blobs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    auto s = LocalBlobStore::Create({root_.string()}, &random_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string ReadAll(const std::string& path) {
    auto r = store_->OpenReader(path);
    EXPECT_TRUE(r.ok());
    std::string out;
    char buf[7];
    for (;;) {
      auto n = (*r)->Read(buf, sizeof(buf));
      if (!n.ok() || *n == 0) break;
      out.append(buf, *n);
    }
    return out;
  }

  std::filesystem::path root_;
  SystemRandom random_{7};
  std::unique_ptr<LocalBlobStore> store_;
};

TEST_F(LocalBlobStoreTest, StreamedWritePublishesOnCommitOnly) {
  auto w = store_->OpenWriter("a/b/file.txt");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("hello ").ok());
  ASSERT_TRUE((*w)->Append("world").ok());
  EXPECT_EQ(store_->OpenReader("a/b/file.txt").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(ReadAll("a/b/file.txt"), "hello world");
}

TEST_F(LocalBlobStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->OpenWriter("x.bin");
    ASSERT_TRUE((*w)->Append("partial").ok());
  }
  EXPECT_EQ(store_->OpenReader("x.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(std::filesystem::is_empty(root_ / ".tmp"));
}

TEST_F(LocalBlobStoreTest, ListAndDelete) {
  for (const char* p : {"d/a.txt", "d/sub/b.txt"}) {
    auto w = store_->OpenWriter(p);
    ASSERT_TRUE((*w)->Append("12345").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto list = store_->List("d");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a.txt");
  EXPECT_EQ((*list)[0].size, 5);
  EXPECT_TRUE((*list)[1].is_dir);
  auto root = store_->List("");
  ASSERT_EQ(root->size(), 1u);  // .tmp is hidden
  EXPECT_EQ(store_->List("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Delete("d/sub").ok());
  EXPECT_EQ(store_->Delete("d/sub").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->List("d")->size(), 1u);
}

TEST_F(LocalBlobStoreTest, RejectsTraversalAndInternalPaths) {
  EXPECT_FALSE(store_->OpenWriter("../escape").ok());
  EXPECT_FALSE(store_->OpenReader("/etc/passwd").ok());
  EXPECT_FALSE(store_->OpenWriter(".tmp/x").ok());
  EXPECT_FALSE(store_->Delete("..").ok());
  EXPECT_EQ(store_->OpenReader("d").status().code(), StatusCode::kNotFound);
}

// A symbolic link placed inside the store (by a job, by hand) must not lead reads, writes, listings or
// deletes outside it, wherever it sits on the path.
TEST_F(LocalBlobStoreTest, SymlinksInsideTheStoreDoNotEscapeIt) {
  auto outside = root_.string() + "-outside";
  std::filesystem::create_directories(outside + "/dir");
  {
    FILE* f = std::fopen((outside + "/dir/secret.txt").c_str(), "w");
    std::fputs("secret", f);
    std::fclose(f);
  }
  std::filesystem::create_directories(root_ / "exp");
  std::filesystem::create_directory_symlink(outside + "/dir", root_ / "exp" / "link");
  EXPECT_FALSE(store_->OpenReader("exp/link/secret.txt").ok());
  EXPECT_FALSE(store_->List("exp/link").ok());
  EXPECT_FALSE(store_->OpenWriter("exp/link/new.txt").ok());
  EXPECT_FALSE(store_->Delete("exp/link/secret.txt").ok());
  EXPECT_TRUE(std::filesystem::exists(outside + "/dir/secret.txt"));
  EXPECT_FALSE(std::filesystem::exists(outside + "/dir/new.txt"));
  std::filesystem::remove_all(outside);
}

}  // namespace
}  // namespace tamga

#pragma once
// Conformance suite every BlobStore passes (local folder, S3 on a real Ceph RGW). Instantiate with
// INSTANTIATE_TEST_SUITE_P(Backend, BlobStoreConformance, Values(factory)); the factory returns a store over
// a fresh, empty root (a new folder or key prefix).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "artifacts/blob_store.h"
#include "core/hmac.h"

namespace tamga {

using BlobStoreFactory = std::function<std::unique_ptr<BlobStore>()>;

class BlobStoreConformance : public ::testing::TestWithParam<BlobStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_TRUE(store_ != nullptr);
  }

  void Put(const std::string& path, const std::string& bytes, size_t piece = 1 << 20) {
    auto w = store_->OpenWriter(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (size_t i = 0; i < bytes.size(); i += piece) {
      ASSERT_TRUE((*w)->Append(std::string_view(bytes).substr(i, piece)).ok());
    }
    Status s = (*w)->Commit();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string Get(const std::string& path, int64_t from = 0, size_t buf_size = 7000) {
    auto r = store_->OpenReader(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "<missing>";
    if (from > 0) {
      EXPECT_TRUE((*r)->SkipTo(from).ok());
    }
    std::string out;
    std::string buf(buf_size, '\0');
    for (;;) {
      auto n = (*r)->Read(buf.data(), buf.size());
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      out.append(buf.data(), *n);
    }
    return out;
  }

  std::vector<std::string> Names(const std::string& dir) {
    std::vector<std::string> out;
    auto list = store_->List(dir);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (const auto& e : *list) out.push_back(e.name + (e.is_dir ? "/" : ""));
    }
    return out;
  }

 public:
  static std::string Pattern(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    uint32_t x = seed;
    for (size_t i = 0; i < n; ++i) {
      x = x * 1664525u + 1013904223u;
      s[i] = static_cast<char>(x >> 24);
    }
    return s;
  }

 protected:
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobStoreConformance, StreamedWritePublishesOnCommitOnly) {
  auto w = store_->OpenWriter("a/b/file.txt");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("hello ").ok());
  ASSERT_TRUE((*w)->Append("world").ok());
  EXPECT_EQ(store_->OpenReader("a/b/file.txt").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(Get("a/b/file.txt"), "hello world");
  EXPECT_EQ((*store_->OpenReader("a/b/file.txt"))->size(), 11);
}

TEST_P(BlobStoreConformance, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->OpenWriter("x.bin");
    ASSERT_TRUE((*w)->Append("partial").ok());
  }
  {  // also once a large upload has started sending parts
    auto w = store_->OpenWriter("big.bin");
    ASSERT_TRUE((*w)->Append(Pattern(12 << 20, 1)).ok());
  }
  EXPECT_EQ(store_->OpenReader("x.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenReader("big.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Names("").empty());
}

TEST_P(BlobStoreConformance, EmptyBlobsAndOverwrites) {
  Put("e/empty", "");
  EXPECT_EQ(Get("e/empty"), "");
  EXPECT_EQ((*store_->OpenReader("e/empty"))->size(), 0);
  Put("e/f", "first version");
  Put("e/f", "v2");
  EXPECT_EQ(Get("e/f"), "v2");
}

// Sizes around the part and chunk boundaries, read whole and from offsets (HTTP Range downloads).
TEST_P(BlobStoreConformance, LargeBlobsRoundTripByteForByte) {
  for (size_t size : {size_t{5} << 20, (size_t{8} << 20) + 1, size_t{21} << 20}) {
    std::string data = Pattern(size, static_cast<uint32_t>(size));
    Put("large/blob", data, 3 << 20);
    std::string back = Get("large/blob", 0, 1 << 20);
    ASSERT_EQ(back.size(), size);
    EXPECT_EQ(Sha256Hex(back), Sha256Hex(data)) << size;
    for (int64_t off : {int64_t{1}, int64_t{8} << 20, static_cast<int64_t>(size) - 3}) {
      if (off >= static_cast<int64_t>(size)) continue;
      std::string tail = Get("large/blob", off, 65536);
      EXPECT_EQ(tail.size(), size - off);
      EXPECT_TRUE(tail == data.substr(off)) << "offset " << off;
    }
    EXPECT_EQ(Get("large/blob", static_cast<int64_t>(size)), "");
  }
}

TEST_P(BlobStoreConformance, ListingIsSortedWithFoldersAndSizes) {
  Put("d/b.txt", "12345");
  Put("d/a.txt", "1");
  Put("d/sub/c.txt", "x");
  Put("d/sub/deeper/d.txt", "y");
  Put("top.txt", "z");
  EXPECT_EQ(Names("d"), (std::vector<std::string>{"a.txt", "b.txt", "sub/"}));
  EXPECT_EQ(Names("d/sub"), (std::vector<std::string>{"c.txt", "deeper/"}));
  EXPECT_EQ(Names(""), (std::vector<std::string>{"d/", "top.txt"}));
  auto list = store_->List("d");
  EXPECT_EQ((*list)[1].size, 5);
  EXPECT_EQ(store_->List("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenReader("d").status().code(), StatusCode::kInvalidArgument);  // a folder
  EXPECT_EQ(store_->OpenReader("d/none").status().code(), StatusCode::kNotFound);
}

// Names that need escaping on the wire (S3 signs the encoded path): spaces, '+', '%', '?', '=', '&', quotes,
// non-ASCII.
TEST_P(BlobStoreConformance, NamesThatNeedEscaping) {
  std::vector<std::string> names = {"with space.txt",   "plus+sign",  "pct%20lit",
                                    "q?x=1&y=2",        "quote\"'",   "\xc3\xbc\xc3\xb1\xc3\xaf.txt",
                                    "semi;colon,comma", "tilde~star*"};
  for (const auto& n : names) Put("esc/" + n, "data:" + n);
  std::set<std::string> want(names.begin(), names.end());
  auto got = Names("esc");
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want);
  for (const auto& n : names) EXPECT_EQ(Get("esc/" + n), "data:" + n) << n;
  ASSERT_TRUE(store_->Delete("esc/plus+sign").ok());
  EXPECT_EQ(store_->OpenReader("esc/plus+sign").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("esc/with space.txt"), "data:with space.txt");
}

TEST_P(BlobStoreConformance, DeleteFilesAndWholeFolders) {
  Put("d/a.txt", "1");
  Put("d/sub/b.txt", "2");
  Put("d/sub/c/d.txt", "3");
  Put("dx", "sibling with a common prefix");
  ASSERT_TRUE(store_->Delete("d/sub").ok());
  EXPECT_EQ(store_->Delete("d/sub").code(), StatusCode::kNotFound);
  EXPECT_EQ(Names("d"), (std::vector<std::string>{"a.txt"}));
  ASSERT_TRUE(store_->Delete("d/a.txt").ok());
  // A folder emptied file by file: gone (S3 has no folders) or empty (a local folder stays).
  auto emptied = store_->List("d");
  EXPECT_TRUE(emptied.status().code() == StatusCode::kNotFound || (emptied.ok() && emptied->empty()));
  EXPECT_EQ(Get("dx"), "sibling with a common prefix");
}

// More entries than one listing page or one batch delete (1000).
TEST_P(BlobStoreConformance, FoldersBeyondOnePage) {
  for (int i = 0; i < 1010; ++i) Put("many/f" + std::to_string(10000 + i), "x");
  auto list = store_->List("many");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1010u);
  EXPECT_EQ(list->back().name, "f11009");
  ASSERT_TRUE(store_->Delete("many").ok());
  EXPECT_EQ(store_->List("many").status().code(), StatusCode::kNotFound);
}

TEST_P(BlobStoreConformance, CopyTreeMakesAnIndependentCopy) {
  Put("src/MLmodel", "flavors: {}");
  Put("src/data/model.pt", Pattern(6 << 20, 9));
  ASSERT_TRUE(store_->CopyTree("src", "copy").ok());
  EXPECT_EQ(Names("copy"), (std::vector<std::string>{"MLmodel", "data/"}));
  EXPECT_EQ(Sha256Hex(Get("copy/data/model.pt")), Sha256Hex(Pattern(6 << 20, 9)));
  Put("src/MLmodel", "changed");
  ASSERT_TRUE(store_->Delete("src/data").ok());
  EXPECT_EQ(Get("copy/MLmodel"), "flavors: {}");
  EXPECT_EQ(Get("copy/data/model.pt").size(), size_t{6} << 20);
  EXPECT_EQ(store_->CopyTree("src", "copy").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CopyTree("absent", "elsewhere").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->CopyTree("src/MLmodel", "single").ok());  // one file
  EXPECT_EQ(Get("single"), "changed");
}

TEST_P(BlobStoreConformance, RejectsTraversalAndBadPaths) {
  EXPECT_EQ(store_->OpenWriter("../escape").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->OpenReader("/etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->OpenWriter("a/./b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->OpenWriter("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->Delete("..").ok());
  EXPECT_FALSE(store_->Delete("").ok());
  EXPECT_FALSE(store_->CopyTree("a", "../b").ok());
  EXPECT_FALSE(store_->List("a/../..").ok());
}

}  // namespace tamga

// DatasetService on real SQLite and a real local blob store (docs/data.md): verified uploads, the per-dataset
// object index, versions that must name held objects with their true sizes, references.
#include "data/dataset_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "artifacts/local/local_blob_store.h"
#include "core/hmac.h"
#include "core/random.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {
namespace {

template <typename T>
T Take(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(*r);
}

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamga-ds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string db = (dir_ / "tamga.db").string();
    meta_ = Take(OpenSqliteMetadataStore({db}));
    store_ = Take(OpenSqliteDatasetStore(db, "NORMAL"));
    blobs_ = Take(LocalBlobStore::Create({(dir_ / "artifacts").string()}, &random_));
    service_ = std::make_unique<DatasetService>(store_.get(), blobs_.get(), &clock_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Uploads {content...} as one pack through the service; returns the upload's status.
  Status Upload(const DatasetRecord& d, const std::vector<std::string>& contents, bool corrupt_last = false) {
    auto up = service_->StartUpload(d);
    PackParser parser(up.get());
    for (size_t i = 0; i < contents.size(); ++i) {
      std::string bytes = contents[i];
      std::string digest = Sha256Hex(bytes);
      if (corrupt_last && i + 1 == contents.size()) bytes[0] ^= 1;
      TAMGA_RETURN_IF_ERROR(
          parser.Feed(PackRecordHeader(digest, static_cast<int64_t>(bytes.size())) + bytes));
    }
    TAMGA_RETURN_IF_ERROR(parser.Finish());
    return up->Finish().status();
  }
  std::string ManifestOf(const std::vector<std::pair<std::string, std::string>>& files) {
    Manifest m;
    for (const auto& [path, content] : files)
      m.files.push_back({path, static_cast<int64_t>(content.size()), Sha256Hex(content)});
    EXPECT_TRUE(Canonicalize(&m).ok());
    return EncodeManifest(m);
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  SystemRandom random_;
  std::unique_ptr<SqlMetadataStore> meta_;
  std::unique_ptr<DatasetStore> store_;
  std::unique_ptr<LocalBlobStore> blobs_;
  std::unique_ptr<DatasetService> service_;
};

TEST_F(DatasetServiceTest, PushThenVersionThenReadBack) {
  auto d = service_->Create("mnist", "digits", "ana");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::string manifest = ManifestOf({{"a.txt", "hello\n"}, {"b/c.bin", std::string(1000, 'x')}});
  auto missing = service_->Missing(*d, {Sha256Hex("hello\n"), Sha256Hex(manifest)});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->size(), 2u);
  ASSERT_TRUE(Upload(*d, {"hello\n", std::string(1000, 'x'), manifest}).ok());
  EXPECT_TRUE(service_->Missing(*d, {Sha256Hex("hello\n"), Sha256Hex(manifest)})->empty());

  DatasetService::NewVersion nv;
  nv.manifest = Sha256Hex(manifest);
  nv.tags = {"gold"};
  nv.metadata_json = R"({"rows": 3})";
  auto v = service_->CreateVersion(*d, nv);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->created);
  EXPECT_EQ(v->version.version, 1);
  EXPECT_EQ(v->version.file_count, 2);
  EXPECT_EQ(v->version.total_size, 1006);
  // The same data again: the latest version, not a new one.
  auto again = service_->CreateVersion(*d, nv);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  auto got = service_->Get("mnist");
  ASSERT_TRUE(got.ok());
  for (const char* ref : {"", "latest", "1", "v1", "gold"})
    EXPECT_EQ(service_->Resolve(*got, ref)->version, 1) << ref;
  EXPECT_EQ(service_->Resolve(*got, "v2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Resolve(*got, "nope").status().code(), StatusCode::kNotFound);
  auto m = service_->ReadManifest(Sha256Hex(manifest));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->files.size(), 2u);

  auto pack = service_->Fetch(*got, {Sha256Hex("hello\n")});
  ASSERT_TRUE(pack.ok());
  std::string body(static_cast<size_t>((*pack)->size()), '\0');
  size_t n = 0;
  while (n < body.size()) n += *(*pack)->Read(body.data() + n, body.size() - n);
  EXPECT_EQ(body, PackRecordHeader(Sha256Hex("hello\n"), 6) + "hello\n");
}

TEST_F(DatasetServiceTest, CorruptedUploadsStoreNothingAndAreNotIndexed) {
  auto d = service_->Create("d", "", "");
  Status s = Upload(*d, {"good", "bad bytes"}, /*corrupt_last=*/true);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("hash to"), std::string::npos) << s.message();
  EXPECT_FALSE(*blobs_->Exists(DatasetService::ObjectPath(Sha256Hex("bad bytes"))));
  // Nothing of an unfinished upload is indexed (the good object is stored, but not yet the dataset's).
  EXPECT_EQ(service_->Missing(*d, {Sha256Hex("good")})->size(), 1u);
}

TEST_F(DatasetServiceTest, ADatasetNeverSeesOrReferencesAnotherDatasetsObjects) {
  auto a = service_->Create("a", "", "");
  auto b = service_->Create("b", "", "");
  std::string manifest = ManifestOf({{"secret.csv", "salaries"}});
  ASSERT_TRUE(Upload(*a, {"salaries", manifest}).ok());
  // b knows the digests but never uploaded the bytes.
  EXPECT_EQ(service_->Missing(*b, {Sha256Hex("salaries")})->size(), 1u);
  EXPECT_EQ(service_->Fetch(*b, {Sha256Hex("salaries")}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ObjectPathFor(*b, Sha256Hex("salaries")).status().code(), StatusCode::kNotFound);
  DatasetService::NewVersion nv;
  nv.manifest = Sha256Hex(manifest);
  EXPECT_EQ(service_->CreateVersion(*b, nv).status().code(), StatusCode::kFailedPrecondition);
  // Uploading the manifest alone is not enough either.
  ASSERT_TRUE(Upload(*b, {manifest}).ok());
  auto v = service_->CreateVersion(*b, nv);
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("secret.csv"), std::string::npos) << v.status().message();
}

TEST_F(DatasetServiceTest, RunsRecordOnlyUsesOfDatasetsTheirAuthorMayRead) {
  auto d = service_->Create("secret", "", "alice");
  std::string manifest = ManifestOf({{"a", "abc"}});
  ASSERT_TRUE(Upload(*d, {"abc", manifest}).ok());
  DatasetService::NewVersion nv;
  nv.manifest = Sha256Hex(manifest);
  ASSERT_TRUE(service_->CreateVersion(*d, nv).ok());
  DatasetInput in;
  in.dataset.source = R"({"uri": "tamga-data://secret@latest"})";
  auto none = service_->RecordInputs("bobrun", {in}, [](const std::string&) { return false; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(service_->UsesOf(*service_->Get("secret"), 1, 10)->empty());
  EXPECT_EQ(*service_->RecordInputs("alicerun", {in}), 1);
  EXPECT_EQ(service_->UsesOf(*service_->Get("secret"), 1, 10)->size(), 1u);
}

TEST_F(DatasetServiceTest, AManifestThatLiesAboutSizesIsRefused) {
  auto d = service_->Create("d", "", "");
  Manifest m;
  m.files = {{"a", 999, Sha256Hex("abc")}};
  std::string text = EncodeManifest(m);
  ASSERT_TRUE(Upload(*d, {"abc", text}).ok());
  DatasetService::NewVersion nv;
  nv.manifest = Sha256Hex(text);
  auto v = service_->CreateVersion(*d, nv);
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("999"), std::string::npos) << v.status().message();
  nv.manifest = Sha256Hex("not a manifest");
  ASSERT_TRUE(Upload(*d, {"not a manifest"}).ok());
  EXPECT_EQ(service_->CreateVersion(*d, nv).status().code(), StatusCode::kInvalidArgument);
  nv.manifest = Sha256Hex(text);
  nv.metadata_json = "[1]";
  EXPECT_EQ(service_->CreateVersion(*d, nv).status().code(), StatusCode::kInvalidArgument);
  nv.metadata_json = "";
  nv.tags = {"v3"};
  EXPECT_EQ(service_->CreateVersion(*d, nv).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DatasetServiceTest, AStoredObjectAlteredOnDiskIsDetectedOnRead) {
  auto d = service_->Create("d", "", "");
  std::string manifest = ManifestOf({{"a", "abc"}});
  ASSERT_TRUE(Upload(*d, {"abc", manifest}).ok());
  std::string path = (dir_ / "artifacts" / DatasetService::ObjectPath(Sha256Hex(manifest))).string();
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  std::ofstream(path, std::ios::trunc) << "tamga-manifest 1\n";
  auto m = service_->ReadManifest(Sha256Hex(manifest));
  EXPECT_EQ(m.status().code(), StatusCode::kInternal);
  EXPECT_NE(m.status().message().find("does not match"), std::string::npos);
}

TEST_F(DatasetServiceTest, NamesAndLimitsAreChecked) {
  EXPECT_EQ(service_->Create("a/b", "", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Create("", "", "").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(service_->Create("ok", "", "").ok());
  EXPECT_EQ(service_->Create("ok", "", "").status().code(), StatusCode::kAlreadyExists);
  auto d = service_->Get("ok");
  EXPECT_EQ(service_->Missing(*d, {"zz"}).status().code(), StatusCode::kInvalidArgument);
  std::vector<std::string> many(100'001, Sha256Hex("x"));
  EXPECT_EQ(service_->Missing(*d, many).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tamga

// DVC's formats as DVC documents them (src/data/client/dvc_interop.h): .dvc files, .dir listings, caches in
// DVC 3 and DVC 2 layouts, and a version exported as a DVC remote that imports back to the same manifest.
#include "data/client/dvc_interop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/digest.h"

namespace tamga {
namespace {
namespace fs = std::filesystem;

std::string Md5(const std::string& s) {
  Md5Hasher h;
  h.Update(s);
  return h.FinishHex();
}

template <typename T>
T Take(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(*r);
}

void Put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

TEST(DvcFormats, ParsesDvc3AndDvc2OutsAndRefusesOthers) {
  auto outs = ParseDvcFile(
      "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  size: 10\n  nfiles: 2\n"
      "  hash: md5\n  path: data\n- md5: fedcba9876543210fedcba9876543210\n  path: m.pkl\n");
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();
  ASSERT_EQ(outs->size(), 2u);
  EXPECT_TRUE((*outs)[0].is_dir);
  EXPECT_EQ((*outs)[0].md5, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ((*outs)[0].size, 10);
  EXPECT_FALSE((*outs)[1].is_dir);
  for (const char* bad :
       {"", "outs: 3", "outs:\n- md5: xyz\n  path: a\n",
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: ../a\n",
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: a\n  hash: sha256\n", "[[[[", "outs: []"})
    EXPECT_EQ(ParseDvcFile(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  auto dir = ParseDvcDirListing(R"([{"md5": "0123456789abcdef0123456789abcdef", "relpath": "a/b.txt"}])");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ((*dir)[0].relpath, "a/b.txt");
  EXPECT_FALSE(
      ParseDvcDirListing(R"([{"md5": "0123456789abcdef0123456789abcdef", "relpath": "/etc/x"}])").ok());
  EXPECT_EQ(
      EncodeDvcDirListing(
          {{"0123456789abcdef0123456789abcdef", "b"}, {"fedcba9876543210fedcba9876543210", "a"}}),
      R"([{"md5": "fedcba9876543210fedcba9876543210", "relpath": "a"}, {"md5": "0123456789abcdef0123456789abcdef", "relpath": "b"}])");
}

class DvcProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tamga-dvc-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    cache_ = Take(LocalCache::Open((dir_ / "cache").string()));
    ctx_ = {cache_.get(), nullptr, nullptr, LinkMode::kCopy, 2};
  }
  void TearDown() override {
    std::error_code ec;
    // Never through a link: a test tree holds a symlink to /etc/passwd.
    for (auto& e : fs::recursive_directory_iterator(dir_, ec))
      if (!e.is_symlink(ec)) fs::permissions(e.path(), fs::perms::owner_all, ec);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<LocalCache> cache_;
  DataContext ctx_;
};

TEST_F(DvcProjectTest, ImportsFromADvc3RemoteAndADvc2CacheThenExportsBackToTheSameData) {
  // A project as `dvc add data model.pkl` + `dvc push` leave it: .dvc files, objects in a remote (DVC 3
  // layout) and, for the model, in an old DVC 2 cache layout. No workspace data.
  fs::path proj = dir_ / "proj";
  std::vector<std::pair<std::string, std::string>> files = {
      {"a.csv", "x,y\n1,2\n"}, {"sub/b.bin", std::string(5000, 'b')}, {"sub/c", ""}};
  std::vector<DvcDirEntry> entries;
  for (const auto& [rel, content] : files) {
    std::string m = Md5(content);
    Put(dir_ / "remote" / "files" / "md5" / m.substr(0, 2) / m.substr(2), content);
    entries.push_back({m, rel});
  }
  std::string listing = EncodeDvcDirListing(entries);
  std::string lm = Md5(listing);
  Put(dir_ / "remote" / "files" / "md5" / lm.substr(0, 2) / (lm.substr(2) + ".dir"), listing);
  Put(proj / "data.dvc",
      "outs:\n- md5: " + lm + ".dir\n  size: 5008\n  nfiles: 3\n  hash: md5\n  path: data\n");
  std::string model = "pickled model";
  Put(proj / ".dvc" / "cache" / Md5(model).substr(0, 2) / Md5(model).substr(2), model);
  Put(proj / "models" / "model.pkl.dvc", "outs:\n- md5: " + Md5(model) + "\n  size: 13\n  path: model.pkl\n");
  Put(proj / ".dvc" / "config",
      "[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../../remote\n");

  auto remotes = DvcLocalRemotes(proj.string());
  ASSERT_EQ(remotes.size(), 1u);
  EXPECT_EQ(fs::weakly_canonical(remotes[0]), fs::weakly_canonical(dir_ / "remote"));
  DvcImportOptions o;
  o.object_roots = {(proj / ".dvc" / "cache").string(), remotes[0]};
  auto imported = Take(ImportDvcProject(ctx_, proj.string(), o));
  ASSERT_EQ(imported.size(), 2u);
  const DataPointer& data = imported[0].added.pointer;
  EXPECT_EQ(imported[0].added.pointer_path, (proj / "data.tamga").lexically_normal().string());
  EXPECT_EQ(data.files, 3);
  EXPECT_EQ(data.size, 5008);
  EXPECT_EQ(imported[1].added.pointer_path,
            (proj / "models" / "model.pkl.tamga").lexically_normal().string());
  EXPECT_TRUE(imported[1].added.pointer.is_file);

  // Checked out, the bytes are DVC's.
  ASSERT_TRUE(PullPointer(ctx_, imported[0].added.pointer_path, false, false).ok());
  std::ifstream in(proj / "data" / "sub" / "b.bin", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string(5000, 'b'));

  // Exported as a DVC remote: the same md5 layout and .dir listing, so a re-import gives the same manifest.
  auto m = Take(LoadManifest(ctx_, "data", data.manifest));
  auto exported = Take(ExportDvcRemote(ctx_, m, (dir_ / "out").string(), "data"));
  EXPECT_EQ(exported.written, 4);  // three files and the listing
  EXPECT_NE(exported.dvc_file_text.find("md5: " + lm + ".dir"), std::string::npos) << exported.dvc_file_text;
  fs::path proj2 = dir_ / "proj2";
  Put(proj2 / "data.dvc", exported.dvc_file_text);
  DvcImportOptions o2;
  o2.object_roots = {(dir_ / "out").string()};
  auto again = Take(ImportDvcProject(ctx_, proj2.string(), o2));
  EXPECT_EQ(again[0].added.pointer.manifest, data.manifest);
}

TEST_F(DvcProjectTest, ADamagedOrMissingObjectIsAClearErrorAndNothingIsWritten) {
  fs::path proj = dir_ / "proj";
  std::string content = "real bytes";
  Put(proj / ".dvc" / "cache" / "files" / "md5" / Md5(content).substr(0, 2) / Md5(content).substr(2),
      "fake bytes");
  Put(proj / "f.dvc", "outs:\n- md5: " + Md5(content) + "\n  path: f\n");
  DvcImportOptions o;
  o.object_roots = {(proj / ".dvc" / "cache").string()};
  auto r = ImportDvcProject(ctx_, proj.string(), o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("does not match its md5"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(proj / "f.tamga"));
  Put(proj / "f.dvc", "outs:\n- md5: 00000000000000000000000000000000\n  path: f\n");
  EXPECT_EQ(ImportDvcProject(ctx_, proj.string(), o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tamga

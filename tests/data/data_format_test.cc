// Manifests, object packs, references and pointer files (src/data; docs/data.md).
#include <gtest/gtest.h>

#include "core/hmac.h"
#include "data/client/pointer_file.h"
#include "data/dataset_ref.h"
#include "data/digest.h"
#include "data/manifest.h"
#include "data/object_pack.h"

namespace tamga {
namespace {

const std::string kHello = Sha256Hex("hello\n");

TEST(Digest, StreamingHashEqualsOneShotAndChecksTheForm) {
  Sha256Hasher h;
  h.Update("hel");
  h.Update("lo\n");
  EXPECT_EQ(h.FinishHex(), kHello);
  EXPECT_EQ(h.FinishHex(), Sha256Hex(""));  // starts over
  EXPECT_TRUE(IsDigestHex(kHello));
  EXPECT_FALSE(IsDigestHex(kHello.substr(1)));
  std::string upper = kHello;
  upper[0] = 'A';
  EXPECT_FALSE(IsDigestHex(upper));
}

TEST(DataPath, RefusesEverythingThatLeavesTheFolder) {
  for (const char* ok : {"a", "a/b.csv", "x y/z", "ünï/çødé", ".hidden", "a..b"})
    EXPECT_TRUE(ValidateDataPath(ok).ok()) << ok;
  for (const char* bad :
       {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "a\\b", "a\nb", "a\tb", "."})
    EXPECT_EQ(ValidateDataPath(bad).code(), StatusCode::kInvalidArgument) << bad;
  EXPECT_FALSE(ValidateDataPath(std::string(256, 'x')).ok());
  EXPECT_FALSE(ValidateDataPath("\xff\xfe").ok());  // not UTF-8: two different paths could print the same
  std::string deep;
  for (int i = 0; i < 129; ++i) deep += "d/";
  EXPECT_FALSE(ValidateDataPath(deep + "f").ok());
}

TEST(Manifest, CanonicalTextRoundTripsAndDiffs) {
  Manifest m;
  m.files = {{"b/x.csv", 6, kHello}, {"a.txt", 0, Sha256Hex("")}};
  ASSERT_TRUE(Canonicalize(&m).ok());
  EXPECT_EQ(m.files[0].path, "a.txt");
  std::string text = EncodeManifest(m);
  EXPECT_EQ(text, "tamga-manifest 1\n" + Sha256Hex("") + " 0 a.txt\n" + kHello + " 6 b/x.csv\n");
  auto back = DecodeManifest(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->files, m.files);
  EXPECT_EQ(m.TotalSize(), 6);

  Manifest n = m;
  n.files[1].digest = Sha256Hex("other");
  n.files.push_back({"c", 1, Sha256Hex("c")});
  n.files.erase(n.files.begin());
  ManifestDiff d = DiffManifests(m, n);
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].path, "a.txt");
  ASSERT_EQ(d.modified.size(), 1u);
  EXPECT_EQ(d.modified[0].second.path, "b/x.csv");
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_TRUE(DiffManifests(m, m).empty());
}

TEST(Manifest, RefusesWhatIsNotCanonicalOrSafe) {
  const std::string h = kHello;
  auto bad = [](const std::string& body) {
    return DecodeManifest("tamga-manifest 1\n" + body).status().code();
  };
  EXPECT_EQ(bad(h + " 6 b\n" + h + " 6 a\n"), StatusCode::kInvalidArgument);    // unsorted
  EXPECT_EQ(bad(h + " 6 a\n" + h + " 6 a\n"), StatusCode::kInvalidArgument);    // repeated
  EXPECT_EQ(bad(h + " 6 a\n" + h + " 6 a/b\n"), StatusCode::kInvalidArgument);  // file and folder
  EXPECT_EQ(bad(h + " 6 ../a\n"), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(h + " 06 a\n"), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(h + " -6 a\n"), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(h + " 6 a"), StatusCode::kInvalidArgument);  // no final newline
  EXPECT_EQ(bad("zz 6 a\n"), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeManifest("something else\n").status().code(), StatusCode::kInvalidArgument);
  Manifest m;
  m.files = {{"a", 1, h}, {"a", 2, h}};
  EXPECT_FALSE(Canonicalize(&m).ok());
  m.files = {{"a", 1, h}, {"a.b", 1, h}, {"a/c", 1, h}};  // "a.b" sorts between "a" and "a/c"
  EXPECT_FALSE(Canonicalize(&m).ok());
}

struct Collect final : PackSink {
  std::vector<std::pair<std::string, std::string>> objects;
  Status Begin(const std::string& d, int64_t) override {
    objects.push_back({d, ""});
    return Status::Ok();
  }
  Status Data(std::string_view b) override {
    objects.back().second.append(b);
    return Status::Ok();
  }
  Status End() override { return Status::Ok(); }
};

TEST(ObjectPack, ParsesAnySplitAndRefusesTruncationAndBadHeaders) {
  std::string pack = PackRecordHeader(kHello, 6) + "hello\n" + PackRecordHeader(Sha256Hex(""), 0);
  for (size_t piece = 1; piece <= pack.size(); ++piece) {
    Collect c;
    PackParser p(&c);
    for (size_t pos = 0; pos < pack.size(); pos += piece) ASSERT_TRUE(p.Feed(pack.substr(pos, piece)).ok());
    ASSERT_TRUE(p.Finish().ok());
    ASSERT_EQ(c.objects.size(), 2u);
    EXPECT_EQ(c.objects[0].second, "hello\n");
    EXPECT_EQ(c.objects[1].second, "");
  }
  Collect c;
  PackParser truncated(&c);
  ASSERT_TRUE(truncated.Feed(PackRecordHeader(kHello, 6) + "hel").ok());
  EXPECT_EQ(truncated.Finish().code(), StatusCode::kInvalidArgument);
  for (std::string bad : {std::string("x 1\nx"), kHello + " -1\n", kHello + " 01\nx", kHello + "  1\nx",
                          kHello + " 99999999999999999999\n", std::string(200, 'a')}) {
    Collect s;
    PackParser p(&s);
    Status st = p.Feed(bad);
    if (st.ok()) st = p.Finish();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
  }
  PackLimits limits;
  limits.max_object_bytes = 5;
  Collect s;
  PackParser limited(&s, limits);
  EXPECT_FALSE(limited.Feed(PackRecordHeader(kHello, 6)).ok());
}

TEST(DatasetRef, ParsesNamesVersionsAndTags) {
  auto r = ParseDatasetRef("mnist@v3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "mnist");
  EXPECT_EQ(*VersionNumberOf(r->ref), 3);
  EXPECT_EQ(ParseDatasetRef("train@2026-11")->ref, "2026-11");
  EXPECT_EQ(ParseDatasetRef("mnist")->ref, "");
  for (const char* bad : {"", "@x", "a b", "a/b", "mnist@", "-x", "x@-y", "x@a/b"})
    EXPECT_FALSE(ParseDatasetRef(bad).ok()) << bad;
  EXPECT_FALSE(ValidateTagName("v12").ok());  // reads as a version
  EXPECT_FALSE(ValidateTagName("12").ok());
  EXPECT_FALSE(ValidateTagName("999999999999999999999").ok());  // too big for a version, still reads as one
  EXPECT_FALSE(ValidateTagName("v9223372036854775808").ok());
  EXPECT_TRUE(ValidateTagName("v12a").ok());
  EXPECT_EQ(FormatDatasetRef("d", 4), "d@v4");
}

TEST(PointerFile, RoundTripsAndRefusesPathsOutsideItsFolder) {
  DataPointer p;
  p.dataset = "mnist";
  p.path = "data";
  p.manifest = kHello;
  p.files = 2;
  p.size = 12;
  p.version = 3;
  std::string text = FormatPointer(p);
  EXPECT_NE(text.find("\n  \"dataset\": \"mnist\""), std::string::npos) << text;
  auto back = ParsePointer(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->path, "data");
  std::string escape = text;
  escape.replace(escape.find("\"data\""), 6, "\"../x\"");
  EXPECT_FALSE(ParsePointer(escape).ok());
  std::string nested = text;
  nested.replace(nested.find("\"data\""), 6, "\"a/b\"");
  EXPECT_FALSE(ParsePointer(nested).ok());
  EXPECT_FALSE(ParsePointer("{}").ok());
  EXPECT_FALSE(ParsePointer("[").ok());
  EXPECT_EQ(PointerPathFor("data/"), "data.tamga");
  EXPECT_EQ(DataPathOf("x/data.tamga", p), "x/data");
}

}  // namespace
}  // namespace tamga

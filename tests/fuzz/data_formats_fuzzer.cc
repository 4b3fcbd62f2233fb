// The data formats a client or server reads from others (src/data, docs/data.md): manifests, object packs
// (fed in random pieces), pointer files and dataset references. Byte 0 picks the parser.
// Properties: no crash, hang or escaped exception; errors are InvalidArgument; an accepted manifest encodes
// back to the same bytes and every path in it is a safe relative path; a pack's objects come out with exactly
// the announced sizes; an accepted pointer round-trips through FormatPointer; an accepted reference
// re-parses.
#include <cstdint>
#include <string>

#include "data/client/pointer_file.h"
#include "data/dataset_ref.h"
#include "data/manifest.h"
#include "data/object_pack.h"
#include "fuzz/fuzz_input.h"

namespace {

class CountingSink final : public tamga::PackSink {
 public:
  tamga::Status Begin(const std::string&, int64_t size) override {
    TAMGA_FUZZ_ASSERT(!open_, "Begin inside an object");
    open_ = true;
    expected_ = size;
    got_ = 0;
    return tamga::Status::Ok();
  }
  tamga::Status Data(std::string_view bytes) override {
    TAMGA_FUZZ_ASSERT(open_, "Data outside an object");
    got_ += static_cast<int64_t>(bytes.size());
    TAMGA_FUZZ_ASSERT(got_ <= expected_, "more bytes than announced");
    return tamga::Status::Ok();
  }
  tamga::Status End() override {
    TAMGA_FUZZ_ASSERT(open_ && got_ == expected_, "object ended early");
    open_ = false;
    return tamga::Status::Ok();
  }

 private:
  bool open_ = false;
  int64_t expected_ = 0, got_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t which = in.Byte();
  switch (which % 4) {
    case 0: {
      std::string text(in.Rest());
      ManifestLimits limits;
      limits.max_entries = 10000;
      auto m = DecodeManifest(text, limits);
      if (!m.ok()) {
        TAMGA_FUZZ_ASSERT(m.status().code() == StatusCode::kInvalidArgument, text);
        return 0;
      }
      TAMGA_FUZZ_ASSERT(EncodeManifest(*m) == text, text);
      for (const auto& f : m->files) TAMGA_FUZZ_ASSERT(ValidateDataPath(f.path).ok(), f.path);
      Manifest copy = *m;
      TAMGA_FUZZ_ASSERT(Canonicalize(&copy).ok() && copy.files == m->files, text);
      break;
    }
    case 1: {
      CountingSink sink;
      PackLimits limits;
      limits.max_objects = 1000;
      PackParser parser(&sink, limits);
      // The body arrives in pieces whose sizes follow from the seed byte (a network read splits anywhere).
      uint8_t seed = in.Byte();
      std::string_view body = in.Rest();
      Status s = Status::Ok();
      for (size_t pos = 0, k = 1; s.ok() && pos < body.size(); ++k) {
        size_t piece = 1 + (seed * k + k * k) % 64;
        s = parser.Feed(body.substr(pos, piece));
        pos += piece;
      }
      if (s.ok()) s = parser.Finish();
      if (!s.ok()) TAMGA_FUZZ_ASSERT(s.code() == StatusCode::kInvalidArgument, s.message());
      break;
    }
    case 2: {
      std::string text(in.Rest());
      auto p = ParsePointer(text);
      if (!p.ok()) {
        TAMGA_FUZZ_ASSERT(p.status().code() == StatusCode::kInvalidArgument, text);
        return 0;
      }
      TAMGA_FUZZ_ASSERT(p->path.find('/') == std::string::npos && p->path != ".." && p->path != ".", p->path);
      auto again = ParsePointer(FormatPointer(*p));
      TAMGA_FUZZ_ASSERT(again.ok() && again->manifest == p->manifest && again->path == p->path, text);
      break;
    }
    default: {
      std::string text(in.Rest());
      auto r = ParseDatasetRef(text);
      if (!r.ok()) {
        TAMGA_FUZZ_ASSERT(r.status().code() == StatusCode::kInvalidArgument, text);
        return 0;
      }
      auto again = ParseDatasetRef(r->ref.empty() ? r->name : r->name + "@" + r->ref);
      TAMGA_FUZZ_ASSERT(again.ok() && again->name == r->name && again->ref == r->ref, text);
      break;
    }
  }
  return 0;
}

#pragma once
// FuzzInput: splits one fuzzer input into the pieces a target needs (a selector byte, a first line, the rest)
// so one byte string can drive a parser with several arguments. Reading past the end yields zeros and empty
// strings: every input is usable. Not thread-safe (one per call).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tamga::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  // Up to the first '\n' (consumed, not returned), or everything when there is none.
  std::string_view Line() {
    size_t nl = rest_.find('\n');
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
    return line;
  }
  std::string_view Rest() {
    std::string_view r = rest_;
    rest_ = {};
    return r;
  }

 private:
  std::string_view rest_;
};

// A broken property: print what and abort, so libFuzzer saves the input as a crash and the replay test fails.
[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "FUZZ PROPERTY FAILED: %s\n%.*s\n", what,
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

#define TAMGA_FUZZ_ASSERT(cond, detail)                \
  do {                                                 \
    if (!(cond)) ::tamga::fuzz::Fail(#cond, (detail)); \
  } while (0)

}  // namespace tamga::fuzz

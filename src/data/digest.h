#pragma once
// Content digests of dataset objects (docs/data.md): SHA-256 written as 64 lower-case hex digits. OpenSSL's
// implementation uses the CPU's SHA extensions where present. A Sha256Hasher is used by one thread at a time;
// the functions are thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  // The digest of everything given so far; the hasher starts over afterwards.
  std::string FinishHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// MD5, only to read and write DVC's md5-addressed caches and remotes (client/dvc_interop.h); never a
// content address of ours.
class Md5Hasher {
 public:
  Md5Hasher();
  ~Md5Hasher();
  Md5Hasher(const Md5Hasher&) = delete;
  Md5Hasher& operator=(const Md5Hasher&) = delete;
  void Update(std::string_view data);
  std::string FinishHex();  // 32 hex digits; starts over

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};
bool IsMd5Hex(std::string_view s);

// 64 lower-case hex digits.
bool IsDigestHex(std::string_view s);
// InvalidArgument naming `what` unless IsDigestHex.
Status CheckDigest(std::string_view s, const char* what = "digest");

struct FileDigest {
  std::string digest;
  int64_t size = 0;
};
// Hashes a file by streaming it (1 MiB reads). NotFound when absent, InvalidArgument when not a regular file,
// Internal on read errors.
Result<FileDigest> HashFile(const std::string& path);

}  // namespace tamga

#pragma once
// Password hashing with scrypt (OpenSSL 3's EVP_PBE_scrypt: memory-hard; Debian 12's OpenSSL has no argon2),
// N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds), a 16-byte random salt and a 32-byte key, stored as
// `scrypt$<log2 N>$<r>$<p>$<salt base64>$<key base64>`. Verification is constant-time. Slow on purpose: the
// request path verifies a password once and then uses the verified-credential cache (docs/identity.md).
// Thread-safe.
#include <string>

#include "core/result.h"

namespace tamga {

struct ScryptParams {
  int log2_n = 15;
  int r = 8;
  int p = 1;
};

Result<std::string> HashPassword(const std::string& password, ScryptParams params = {});
// False for a wrong password or a stored value that does not parse (never an error a caller could leak).
bool VerifyPassword(const std::string& password, const std::string& stored);

}  // namespace tamga

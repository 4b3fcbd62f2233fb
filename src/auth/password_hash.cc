#include "auth/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <vector>

#include "core/ids.h"

namespace tamga {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;
constexpr uint64_t kMaxMemory = uint64_t{1} << 30;

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

bool Unbase64(const std::string& in, size_t want, std::vector<unsigned char>* out) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 64) return false;
  out->assign(in.size() / 4 * 3, 0);
  int n = EVP_DecodeBlock(out->data(), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  size_t pad = in.size() - in.find_last_not_of('=') - 1;
  if (n < 0 || static_cast<size_t>(n) < pad || static_cast<size_t>(n) - pad != want) return false;
  out->resize(want);
  return true;
}

bool Derive(const std::string& password, const unsigned char* salt, size_t salt_len, ScryptParams p,
            unsigned char* key) {
  return EVP_PBE_scrypt(password.data(), password.size(), salt, salt_len, uint64_t{1} << p.log2_n,
                        static_cast<uint64_t>(p.r), static_cast<uint64_t>(p.p), kMaxMemory, key,
                        kKeyBytes) == 1;
}

}  // namespace

Result<std::string> HashPassword(const std::string& password, ScryptParams p) {
  if (p.log2_n < 10 || p.log2_n > 20 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16)
    return InvalidArgument("scrypt parameters out of range");
  unsigned char salt[kSaltBytes], key[kKeyBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return Internal("no randomness for a password salt");
  if (!Derive(password, salt, sizeof salt, p, key)) return Internal("scrypt failed");
  std::string out = "scrypt$" + std::to_string(p.log2_n) + "$" + std::to_string(p.r) + "$" +
                    std::to_string(p.p) + "$" + Base64(salt, sizeof salt) + "$" + Base64(key, sizeof key);
  OPENSSL_cleanse(key, sizeof key);
  return out;
}

bool VerifyPassword(const std::string& password, const std::string& stored) {
  // scrypt$N$r$p$salt$key
  std::vector<std::string> parts;
  size_t pos = 0;
  while (parts.size() < 7) {
    size_t d = stored.find('$', pos);
    parts.push_back(stored.substr(pos, d == std::string::npos ? std::string::npos : d - pos));
    if (d == std::string::npos) break;
    pos = d + 1;
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  ScryptParams p;
  int64_t n = 0, r = 0, par = 0;
  if (!ParseDecimalId(parts[1], &n) || !ParseDecimalId(parts[2], &r) || !ParseDecimalId(parts[3], &par)) {
    return false;
  }
  if (n > 64 || r > 64 || par > 64) return false;
  p.log2_n = static_cast<int>(n);
  p.r = static_cast<int>(r);
  p.p = static_cast<int>(par);
  if (p.log2_n < 10 || p.log2_n > 20 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16) return false;
  std::vector<unsigned char> salt, want;
  if (!Unbase64(parts[4], kSaltBytes, &salt) || !Unbase64(parts[5], kKeyBytes, &want)) return false;
  unsigned char key[kKeyBytes];
  if (!Derive(password, salt.data(), salt.size(), p, key)) return false;
  bool ok = CRYPTO_memcmp(key, want.data(), kKeyBytes) == 0;
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

}  // namespace tamga

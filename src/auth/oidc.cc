#include "auth/oidc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "core/log.h"

namespace tamga {
namespace {

using json = nlohmann::json;

Status Refuse(const std::string& why) { return Unauthenticated("The OIDC token is not valid: " + why + "."); }

// RFC 7515 base64url without padding (a trailing '=' is tolerated); anything else is an error.
bool Base64UrlDecode(std::string_view in, std::string* out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string std_b64;
  std_b64.reserve(in.size() + 3);
  for (char c : in) {
    if (c == '-')
      std_b64 += '+';
    else if (c == '_')
      std_b64 += '/';
    else if (std::isalnum(static_cast<unsigned char>(c)))
      std_b64 += c;
    else
      return false;
  }
  if (std_b64.size() % 4 == 1) return false;
  while (std_b64.size() % 4) std_b64 += '=';
  return Base64Decode(std_b64, out);
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return Pkey(key);
}

Pkey RsaKey(const std::string& n, const std::string& e) {
  if (n.size() < 256 || n.size() > 1024 || e.empty() || e.size() > 8) return nullptr;  // 2048 to 8192 bits
  BIGNUM* bn_n =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    key = FromParams("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

Pkey P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1) {
    key = FromParams("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return key;
}

// ES256 signatures are r||s (RFC 7518 3.4); OpenSSL verifies DER.
bool EcdsaRawToDer(const std::string& raw, std::string* der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der->assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return true;
}

bool VerifySha256(EVP_PKEY* key, const std::string& data, const std::string& sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::optional<std::string> StringField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

struct OidcVerifier::Key {
  std::string alg;  // RS256 | ES256: decided by the key type, never by a token
  Pkey pkey;
};

OidcVerifier::OidcVerifier(const Options& options, Fetch fetch, Clock* clock)
    : options_(options), fetch_(std::move(fetch)), clock_(clock) {}
OidcVerifier::~OidcVerifier() = default;

Result<OidcVerifier::Parts> OidcVerifier::Split(std::string_view token) {
  if (token.size() > kMaxJwtBytes) return Refuse("longer than 8 KiB");
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return Refuse("not a compact JWS (header.payload.signature)");
  }
  Parts p;
  if (!Base64UrlDecode(token.substr(0, a), &p.header_json) ||
      !Base64UrlDecode(token.substr(a + 1, b - a - 1), &p.payload_json) ||
      !Base64UrlDecode(token.substr(b + 1), &p.signature)) {
    return Refuse("malformed base64url");
  }
  if (p.signature.empty()) return Refuse("unsigned");
  p.signing_input = std::string(token.substr(0, b));
  return p;
}

Status OidcVerifier::Refresh() {
  MutexLock l(&mu_);
  Status s = RefreshLocked();
  last_fetch_ms_ =
      0;  // the rate limit is for fetches that unknown kids trigger: the first one may go at once
  return s;
}

Status OidcVerifier::RefreshLocked() {
  last_fetch_ms_ = clock_->NowMillis();
  std::string issuer = options_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  TAMGA_ASSIGN_OR_RETURN(std::string doc_text,
                         fetch_(issuer + "/.well-known/openid-configuration", options_.fetch_timeout_ms));
  auto doc = ParseJson(doc_text);
  if (!doc.ok() || !doc->is_object()) return Unavailable("the OIDC discovery document is not a JSON object");
  auto doc_issuer = StringField(*doc, "issuer");
  if (!doc_issuer || *doc_issuer != options_.issuer) {
    return Unavailable("the OIDC discovery document names issuer '" + doc_issuer.value_or("").substr(0, 200) +
                       "', not '" + options_.issuer + "' (--oidc-issuer must match exactly)");
  }
  auto jwks_uri = StringField(*doc, "jwks_uri");
  if (!jwks_uri || (jwks_uri->rfind("https://", 0) != 0 && jwks_uri->rfind("http://", 0) != 0)) {
    return Unavailable("the OIDC discovery document has no http(s) jwks_uri");
  }
  jwks_uri_ = *jwks_uri;
  endpoints_.authorization = StringField(*doc, "authorization_endpoint").value_or("");
  endpoints_.token = StringField(*doc, "token_endpoint").value_or("");
  TAMGA_ASSIGN_OR_RETURN(std::string jwks_text, fetch_(jwks_uri_, options_.fetch_timeout_ms));
  auto jwks = ParseJson(jwks_text);
  if (!jwks.ok() || !jwks->is_object() || !jwks->contains("keys") || !(*jwks)["keys"].is_array()) {
    return Unavailable("the OIDC JWKS is not {\"keys\": [...]}");
  }
  std::map<std::string, std::shared_ptr<Key>> keys;
  for (const auto& k : (*jwks)["keys"]) {
    if (keys.size() >= 100) break;
    if (!k.is_object()) continue;
    auto kty = StringField(k, "kty");
    auto use = StringField(k, "use");
    auto alg = StringField(k, "alg");
    if (use && *use != "sig") continue;
    auto key = std::make_shared<Key>();
    std::string a, b;
    if (kty == "RSA" && (!alg || *alg == "RS256")) {
      auto n = StringField(k, "n"), e = StringField(k, "e");
      if (!n || !e || !Base64UrlDecode(*n, &a) || !Base64UrlDecode(*e, &b)) continue;
      key->alg = "RS256";
      key->pkey = RsaKey(a, b);
    } else if (kty == "EC" && StringField(k, "crv") == "P-256" && (!alg || *alg == "ES256")) {
      auto x = StringField(k, "x"), y = StringField(k, "y");
      if (!x || !y || !Base64UrlDecode(*x, &a) || !Base64UrlDecode(*y, &b)) continue;
      key->alg = "ES256";
      key->pkey = P256Key(a, b);
    }
    if (!key->pkey) continue;  // unsupported type or algorithm, or a malformed key
    keys[StringField(k, "kid").value_or("")] = key;
  }
  if (keys.empty()) return Unavailable("the OIDC JWKS holds no RS256 or ES256 signing key");
  keys_ = std::move(keys);
  fetched_ = true;
  return Status::Ok();
}

Result<OidcClaims> OidcVerifier::Verify(std::string_view token) {
  TAMGA_ASSIGN_OR_RETURN(Parts parts, Split(token));
  auto header = ParseJson(parts.header_json);
  auto payload = ParseJson(parts.payload_json);
  if (!header.ok() || !header->is_object() || !payload.ok() || !payload->is_object()) {
    return Refuse("the header or payload is not a JSON object");
  }
  if (header->contains("crit")) return Refuse("it names critical extensions");
  auto alg = StringField(*header, "alg");
  if (!alg || (*alg != "RS256" && *alg != "ES256")) return Refuse("only RS256 and ES256 are accepted");
  std::string kid = StringField(*header, "kid").value_or("");

  std::shared_ptr<Key> key;
  {
    MutexLock l(&mu_);
    auto find = [&]() -> std::shared_ptr<Key> {
      mu_.AssertHeld();  // called only below, under the lock
      auto it = keys_.find(kid);
      if (it != keys_.end()) return it->second;
      if (kid.empty() && keys_.size() == 1) return keys_.begin()->second;
      return nullptr;
    };
    key = find();
    if (!key && (!fetched_ || clock_->NowMillis() - last_fetch_ms_ >= options_.refresh_interval_ms)) {
      Status s = RefreshLocked();  // a new kid: the issuer may have rotated its keys
      if (!s.ok())
        TAMGA_LOG(kWarn, "cannot refresh the OIDC keys",
                  {{"issuer", options_.issuer}, {"error", s.ToString()}});
      // The client learns nothing about the issuer's address or configuration; the log has the detail.
      if (!s.ok() && keys_.empty())
        return Unavailable("The OIDC issuer cannot be reached to verify the token; retry shortly.");
      key = find();
    }
  }
  if (!key) return Refuse("signed by an unknown key (kid '" + kid.substr(0, 64) + "')");
  if (key->alg != *alg) return Refuse("its alg does not match the issuer's key");
  std::string sig = parts.signature;
  if (key->alg == "ES256" && !EcdsaRawToDer(parts.signature, &sig))
    return Refuse("malformed ES256 signature");
  if (!VerifySha256(key->pkey.get(), parts.signing_input, sig)) return Refuse("bad signature");

  const json& c = *payload;
  if (StringField(c, "iss") != options_.issuer) return Refuse("issued by another issuer");
  if (!options_.audience.empty()) {
    bool ok = false;
    if (auto it = c.find("aud"); it != c.end()) {
      if (it->is_string()) ok = *it == options_.audience;
      if (it->is_array()) {
        for (const auto& a : *it) ok = ok || (a.is_string() && a == options_.audience);
      }
    }
    if (!ok) return Refuse("issued for another audience");
  }
  int64_t now_s = clock_->NowMillis() / 1000;
  auto exp = c.find("exp");
  if (exp == c.end() || !exp->is_number()) return Refuse("no exp claim");
  double exp_s = exp->get<double>();
  if (exp_s + options_.leeway_s <= static_cast<double>(now_s)) return Refuse("expired");
  if (auto nbf = c.find("nbf"); nbf != c.end()) {
    if (!nbf->is_number() || nbf->get<double>() - options_.leeway_s > static_cast<double>(now_s)) {
      return Refuse("not valid yet (nbf)");
    }
  }
  OidcClaims out;
  out.subject = StringField(c, "sub").value_or("");
  out.username = StringField(c, options_.username_claim.c_str()).value_or("");
  // The email names the user only when the issuer verified it.
  auto verified = c.find("email_verified");
  if (out.username.empty() && verified != c.end() && verified->is_boolean() && verified->get<bool>()) {
    out.username = StringField(c, "email").value_or("");
  }
  if (out.username.empty()) out.username = out.subject;
  out.nonce = StringField(c, "nonce").value_or("");
  if (out.username.empty()) return Refuse("it names no user (username claim, email or sub)");
  out.expires_ms = static_cast<int64_t>(std::min(exp_s + options_.leeway_s, 9.0e15 / 1000)) * 1000;
  // Groups: a dotted path into the claims ("groups", "realm_access.roles").
  const json* node = &c;
  size_t start = 0;
  while (node && start <= options_.groups_claim.size() && !options_.groups_claim.empty()) {
    size_t dot = options_.groups_claim.find('.', start);
    std::string part =
        options_.groups_claim.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto it = node->is_object() ? node->find(part) : node->end();
    node = node->is_object() && it != node->end() ? &*it : nullptr;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (node && node->is_array()) {
    for (const auto& g : *node) {
      if (g.is_string() && out.groups.size() < 256 && g.get<std::string>().size() <= 256) {
        out.groups.push_back(g.get<std::string>());
      }
    }
  } else if (node && node->is_string()) {
    out.groups.push_back(node->get<std::string>().substr(0, 256));
  }
  return out;
}

Result<OidcVerifier::Endpoints> OidcVerifier::LoginEndpoints() {
  MutexLock l(&mu_);
  // Fetched when unknown, at most once per refresh interval (a sign-in storm cannot hammer the issuer).
  if (endpoints_.authorization.empty() &&
      (last_fetch_ms_ == 0 || clock_->NowMillis() - last_fetch_ms_ >= options_.refresh_interval_ms)) {
    Status s = RefreshLocked();
    if (!s.ok()) return s;
  }
  auto http = [](const std::string& u) { return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0; };
  if (!http(endpoints_.authorization) || !http(endpoints_.token))
    return Unavailable(
        "the OIDC discovery document names no http(s) authorization_endpoint and token_endpoint");
  return endpoints_;
}

}  // namespace tamga

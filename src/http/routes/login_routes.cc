// The browser sign-in (docs/security.md, "Browser sign-in"): GET /login (a small page: username and password,
// and "Sign in with SSO" when an OIDC issuer is configured), POST /login (password), GET /login/oidc and
// GET /login/callback (Authorization Code + PKCE through OidcLogin), POST /logout, and GET
// /api/2.0/tamga/session (who is signed in, and the CSRF token the web UI sends with changes). The session
// is an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the sign-in form itself is protected against login
// CSRF by a double-submit cookie. Only registered with --auth on.
#include <memory>

#include <openssl/crypto.h>

#include "auth/tokens.h"
#include "core/bounded_executor.h"
#include "core/hmac.h"
#include "core/markup_escape.h"

#include "core/json_writer.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/access_control.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

constexpr std::string_view kLoginCsrfCookie = "tamga_login";

// The login form's anti-CSRF value: random, expiring in 10 minutes, signed with the store's shared key (an
// attacker cannot pick it, as they could a bare double-submit value). "<random>.<expiry s>.<HMAC>".
std::string MakeLoginNonce(const std::string& key, int64_t now_ms) {
  std::string payload = RandomUrlToken(16) + "." + std::to_string(now_ms / 1000 + 600);
  return payload + "." + Base64UrlNoPad(HmacSha256(key, payload));
}

bool CheckLoginNonce(const std::string& key, std::string_view nonce, int64_t now_ms) {
  size_t mac_at = nonce.rfind('.');
  if (mac_at == std::string_view::npos || nonce.size() > 200) return false;
  std::string_view payload = nonce.substr(0, mac_at);
  std::string want = Base64UrlNoPad(HmacSha256(key, payload));
  std::string_view got = nonce.substr(mac_at + 1);
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), want.size()) != 0) return false;
  size_t exp_at = payload.rfind('.');
  if (exp_at == std::string_view::npos) return false;
  int64_t exp = 0;
  for (char c : payload.substr(exp_at + 1)) {
    if (c < '0' || c > '9' || exp > INT64_MAX / 20) return false;
    exp = exp * 10 + (c - '0');
  }
  return exp > now_ms / 1000;
}

// Sign-in attempts are audited here (the generic audit would record every POST /login as an anonymous "ok").
void AuditLogin(AuthService* auth, const HttpRequest& req, const std::string& who, bool ok, const char* how) {
  AuditRecord a;
  a.principal = who.empty() ? "anonymous" : std::string(Utf8Prefix(who, 256));
  a.method = req.method == HttpMethod::kGet ? "GET" : "POST";
  a.route = req.path.rfind("/login/callback", 0) == 0 ? "/login/callback" : "/login";
  a.object = how;
  a.status = ok ? 303 : 401;
  a.outcome = ok ? "ok" : "denied";
  a.remote_addr = req.remote_addr;
  auth->audit()->Append(std::move(a));
}

// A string field, or nullopt when it is absent or not a string.
std::optional<std::string> Opt(const RequestFields& f, const char* key) {
  auto v = f.OptString(key);
  return v.ok() ? *v : std::nullopt;
}

// Where to go after signing in: a path on this server only ("/..." but not "//host" or "/\\host"), else "/".
std::string SafeReturnTo(const std::optional<std::string>& v) {
  if (!v || v->empty() || v->size() > 2000 || (*v)[0] != '/') return "/";
  if (v->size() > 1 && ((*v)[1] == '/' || (*v)[1] == '\\')) return "/";
  for (unsigned char c : *v) {
    if (c < 0x20 || c == 0x7f) return "/";
  }
  return *v;
}

std::string CookieAttrs(const RouteContext& ctx, int64_t max_age_s) {
  std::string a = "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age_s);
  if (ctx.secure_cookies) a += "; Secure";
  return a;
}

HttpResponse Redirect(const std::string& to) {
  HttpResponse r = HttpResponse::Text("", 303);
  r.headers.push_back({"Location", to});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

HttpResponse WithSession(const RouteContext& ctx, HttpResponse r, const AuthService::Session& s) {
  int64_t now = ctx.clock != nullptr ? ctx.clock->NowMillis() : 0;
  int64_t max_age = std::max<int64_t>(1, (s.expires_ms - now) / 1000);
  r.headers.push_back({"Set-Cookie", std::string(kSessionCookie) + "=" + s.id + CookieAttrs(ctx, max_age)});
  r.headers.push_back({"Set-Cookie", std::string(kLoginCsrfCookie) + "=" + CookieAttrs(ctx, 0)});
  return r;
}

std::string LoginPage(const std::string& return_to, const std::string& csrf, const std::string& error,
                      bool sso) {
  std::string page =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in - Tamga</title>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}"
      "label,input,button,a.sso{display:block;width:100%;box-sizing:border-box;margin:.4rem 0}"
      "input,button,a.sso{padding:.5rem;font-size:1rem}a.sso{text-align:center;border:1px solid #888;"
      "text-decoration:none;color:inherit}.error{color:#b00020}</style></head><body><h1>Tamga</h1>";
  if (!error.empty()) page += "<p class=\"error\" role=\"alert\">" + MarkupEscape(error) + "</p>";
  if (sso)
    page += "<a class=\"sso\" href=\"/login/oidc?return_to=" + MarkupEscape(FormEscape(return_to)) +
            "\">Sign in with SSO</a><p>or with a local account:</p>";
  page +=
      "<form method=\"post\" action=\"/login\"><label for=\"u\">Username</label>"
      "<input id=\"u\" name=\"username\" autocomplete=\"username\" required autofocus>"
      "<label for=\"p\">Password</label>"
      "<input id=\"p\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
      "<input type=\"hidden\" name=\"return_to\" value=\"" +
      MarkupEscape(return_to) + "\"><input type=\"hidden\" name=\"login_csrf\" value=\"" +
      MarkupEscape(csrf) + "\"><button type=\"submit\">Sign in</button></form></body></html>";
  return page;
}

HttpResponse LoginPageResponse(const RouteContext& ctx, const std::string& key, const std::string& return_to,
                               const std::string& error, int status = 200) {
  std::string csrf = MakeLoginNonce(key, ctx.clock != nullptr ? ctx.clock->NowMillis() : 0);
  HttpResponse r = HttpResponse::Text(LoginPage(return_to, csrf, error, ctx.oidc_login != nullptr), status,
                                      "text/html; charset=utf-8");
  r.headers.push_back({"Set-Cookie", std::string(kLoginCsrfCookie) + "=" + csrf + CookieAttrs(ctx, 600)});
  r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back(
      {"Content-Security-Policy",
       "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"});
  r.headers.push_back({"X-Frame-Options", "DENY"});
  return r;
}

}  // namespace

void RegisterLoginRoutes(Router& router, const RouteContext& ctx) {
  if (ctx.auth == nullptr) return;
  AuthService* auth = ctx.auth;
  // Signs login-form nonces: a key every replica shares (the form may be posted to another one).
  auto key = std::make_shared<const std::string>(auth->login_form_key());
  // Sign-ins that talk to the issuer run here: a few threads and a bounded queue (429 beyond), never a
  // thread per request.
  BoundedExecutor::Options po;
  po.name = "oidc-sign-in";
  po.threads = 2;
  po.max_queued = 64;
  auto pool = std::shared_ptr<BoundedExecutor>(new BoundedExecutor(po));
  auto busy = [] {
    return ErrorResponse(ResourceExhausted("Too many sign-ins in progress; try again in a moment."));
  };

  router.Add(HttpMethod::kGet, "/login", [ctx, key](HttpRequest& req, Responder respond) {
    auto q = RequestFields::FromQueryString(req.query);
    std::optional<std::string> rt, err;
    if (q.ok()) {
      rt = Opt(*q, "return_to");
      err = Opt(*q, "error");
    }
    std::string message;
    if (err && *err == "password") message = "Wrong username or password.";
    if (err && *err == "expired") message = "The sign-in form expired; please try again.";
    if (err && *err == "sso") message = "Single sign-on did not complete; please try again.";
    respond(LoginPageResponse(ctx, *key, SafeReturnTo(rt), message));
  });

  router.Add(HttpMethod::kPost, "/login", [ctx, auth, key](HttpRequest& req, Responder respond) {
    auto form = RequestFields::FromQueryString(req.body);
    if (!form.ok()) return respond(ErrorResponse(form.status()));
    auto user = Opt(*form, "username");
    auto password = Opt(*form, "password");
    std::string return_to = SafeReturnTo(Opt(*form, "return_to"));
    auto token = Opt(*form, "login_csrf");
    auto cookie = req.headers.find("cookie");
    std::string_view expected =
        cookie == req.headers.end() ? std::string_view() : CookieValue(cookie->second, kLoginCsrfCookie);
    // Login CSRF: the form must come from our own page (the value in its cookie).
    int64_t now = ctx.clock != nullptr ? ctx.clock->NowMillis() : 0;
    if (!token || expected.empty() || *token != expected || !CheckLoginNonce(*key, *token, now)) {
      return respond(Redirect("/login?error=expired&return_to=" + FormEscape(return_to)));
    }
    if (!user || !password || user->empty() || user->find(':') != std::string::npos) {
      AuditLogin(auth, req, user.value_or(""), false, "password");
      return respond(Redirect("/login?error=password&return_to=" + FormEscape(return_to)));
    }
    // A password only: tokens are for scripts, not for starting browser sessions.
    std::string basic = "Basic " + Base64Encode(*user + ":" + *password);
    if (password->rfind("tmg_", 0) == 0) {
      AuditLogin(auth, req, *user, false, "password");
      return respond(Redirect("/login?error=password&return_to=" + FormEscape(return_to)));
    }
    HttpRequest seen;  // for the audit row: no body, no headers
    seen.method = req.method;
    seen.path = req.path;
    seen.remote_addr = req.remote_addr;
    auth->Authenticate(basic, [ctx, auth, return_to, respond, seen, name = *user](Result<PrincipalPtr> who) {
      bool ok = who.ok() && (*who)->kind == Principal::Kind::kUser;
      AuditLogin(auth, seen, name, ok, "password");
      if (!ok) return respond(Redirect("/login?error=password&return_to=" + FormEscape(return_to)));
      auto session = auth->StartSession(**who);
      if (!session.ok()) return respond(ErrorResponse(session.status()));
      respond(WithSession(ctx, Redirect(return_to), *session));
    });
  });

  router.Add(HttpMethod::kGet, "/login/oidc", [ctx, pool, busy](HttpRequest& req, Responder respond) {
    if (ctx.oidc_login == nullptr)
      return respond(
          ErrorResponse(NotFound("Single sign-on is not configured (--oidc-issuer, --public-url).")));
    auto q = RequestFields::FromQueryString(req.query);
    std::string return_to = SafeReturnTo(q.ok() ? Opt(*q, "return_to") : std::nullopt);
    OidcLogin* login = ctx.oidc_login;
    bool queued = pool->TrySubmit([login, return_to, respond] {  // may fetch the discovery document
      auto url = login->Begin(return_to);
      if (!url.ok()) return respond(ErrorResponse(Unavailable("The identity provider cannot be reached.")));
      HttpResponse r = Redirect(*url);
      r.status = 302;
      respond(std::move(r));
    });
    if (!queued) respond(busy());
  });

  router.Add(
      HttpMethod::kGet, "/login/callback", [ctx, auth, pool, busy](HttpRequest& req, Responder respond) {
        HttpRequest seen;  // for the audit row: no body, no headers
        seen.method = req.method;
        seen.path = req.path;
        seen.remote_addr = req.remote_addr;
        if (ctx.oidc_login == nullptr)
          return respond(
              ErrorResponse(NotFound("Single sign-on is not configured (--oidc-issuer, --public-url).")));
        auto q = RequestFields::FromQueryString(req.query);
        if (!q.ok()) return respond(ErrorResponse(q.status()));
        std::string state = Opt(*q, "state").value_or("");
        std::string code = Opt(*q, "code").value_or("");
        OidcLogin* login = ctx.oidc_login;
        bool queued =
            pool->TrySubmit([ctx, auth, login, state, code, respond, seen] {  // the code exchange: network
              auto done = login->Finish(state, code);
              if (!done.ok()) {
                TAMGA_LOG(kInfo, "browser sign-in refused", {{"reason", done.status().message()}});
                AuditLogin(auth, seen, "", false, "oidc");
                return respond(Redirect("/login?error=sso"));
              }
              auto who = auth->PrincipalForOidcClaims(done->claims);
              AuditLogin(auth, seen, done->claims.username, who.ok(), "oidc");
              if (!who.ok()) return respond(Redirect("/login?error=sso"));
              auto session = auth->StartSession(*who);
              if (!session.ok()) return respond(ErrorResponse(session.status()));
              respond(WithSession(ctx, Redirect(done->return_to), *session));
            });
        if (!queued) respond(busy());
      });

  router.Add(HttpMethod::kPost, "/logout", [ctx, auth](HttpRequest& req, Responder respond) {
    if (auto c = req.headers.find("cookie"); c != req.headers.end()) {
      std::string_view id = CookieValue(c->second, kSessionCookie);
      if (!id.empty()) auth->EndSession(id);
    }
    HttpResponse r = HttpResponse::Json("{}");
    r.headers.push_back({"Set-Cookie", std::string(kSessionCookie) + "=" + CookieAttrs(ctx, 0)});
    respond(std::move(r));
  });

  router.Add(HttpMethod::kGet, "/api/2.0/tamga/session", [auth](HttpRequest& req, Responder respond) {
    std::string csrf;
    if (auto c = req.headers.find("cookie"); c != req.headers.end() && !req.headers.count("authorization")) {
      std::string_view id = CookieValue(c->second, kSessionCookie);
      if (!id.empty()) csrf = auth->SessionCsrf(id);
    }
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Field("username", req.principal ? req.principal->username : "");
    w.FieldBool("is_admin", req.principal && req.principal->is_admin);
    if (!csrf.empty()) w.Field("csrf_token", csrf);
    w.EndObject();
    HttpResponse r = HttpResponse::Json(std::move(body));
    r.headers.push_back({"Cache-Control", "no-store"});
    respond(std::move(r));
  });
}

}  // namespace tamga

// The web UI's static files (docs/ui.md): GET / answers index.html (revalidated each time), GET /static/NAME
// the content-hashed bundle (cached for a year) and the favicon. Public: the page holds no data; everything
// it shows comes from the API, which checks the caller. The UI routes by the URL's #fragment, so a deep link
// (/#/experiments/1/runs?...) needs nothing from the server, and a sign-in redirect keeps it (return_to).
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/routes/route_context.h"

namespace tamga {
namespace {

// The comma-separated items of a header, trimmed (Accept-Encoding, If-None-Match).
std::vector<std::string_view> Items(std::string_view h) {
  std::vector<std::string_view> out;
  while (!h.empty()) {
    size_t comma = h.find(',');
    std::string_view item = h.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    h.remove_prefix(comma + 1);
  }
  return out;
}

// "gzip" (or "*") listed without q=0.
bool AcceptsGzip(const HttpRequest& req) {
  std::string h = req.Header("accept-encoding");
  for (std::string_view item : Items(h)) {
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    size_t q = item.find("q=");
    if (q == std::string_view::npos) return true;
    std::string v(item.substr(q + 2, 8));
    return std::strtod(v.c_str(), nullptr) > 0;  // q=0 (or 0.000): "not acceptable"
  }
  return false;
}

// If-None-Match: "*", or a list of tags (weak W/ ones compare equal: RFC 9110 13.1.2).
bool NotModified(const HttpRequest& req, const std::string& etag) {
  std::string h = req.Header("if-none-match");
  for (std::string_view item : Items(h)) {
    if (item == "*") return true;
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == etag) return true;
  }
  return false;
}

HttpResponse AssetResponse(const HttpRequest& req, const UiAsset& a) {
  HttpResponse r;
  std::string etag = "\"" + std::string(a.etag) + "\"";
  r.headers.push_back({"ETag", etag});
  r.headers.push_back({"Cache-Control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Vary", "Accept-Encoding"});
  if (a.name == "index.html") {
    // Scripts and styles only from this server; nothing may frame the UI (clickjacking).
    r.headers.push_back({"Content-Security-Policy",
                         "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                         "base-uri 'none'; form-action 'self'"});
    r.headers.push_back({"X-Frame-Options", "DENY"});
    r.headers.push_back({"Referrer-Policy", "same-origin"});
  }
  if (NotModified(req, etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = std::string(a.content_type);
  if (!a.gzip.empty() && AcceptsGzip(req)) {
    r.headers.push_back({"Content-Encoding", "gzip"});
    r.body.assign(a.gzip);
  } else {
    r.body.assign(a.body);
  }
  return r;
}

constexpr std::string_view kNoUiPage =
    "<!doctype html><meta charset=utf-8><title>Tamga</title><p>This Tamga binary was built without its web "
    "UI "
    "(-DTAMGA_BUILD_UI=OFF). The API is served under /api/2.0/mlflow and /api/2.0/tamga.</p>";

}  // namespace

void RegisterUiRoutes(Router& router, const RouteContext& ctx) {
  const UiAssets* ui = ctx.ui;
  if (ui == nullptr) return;
  router.Add(HttpMethod::kGet, "/", [ui](HttpRequest& req, Responder respond) {
    const UiAsset* index = ui->Find("index.html");
    if (index == nullptr)
      return respond(HttpResponse::Text(std::string(kNoUiPage), 200, "text/html; charset=utf-8"));
    respond(AssetResponse(req, *index));
  });
  // Without --auth there is no sign-in: the UI asks who is signed in and learns that nobody needs to be.
  if (ctx.auth == nullptr) {
    router.Add(HttpMethod::kGet, "/api/2.0/tamga/session",
               [](HttpRequest&, Responder respond) { respond(HttpResponse::Json("{\"auth\":false}")); });
  }
  router.AddPrefix(HttpMethod::kGet, "/static/", [ui](HttpRequest& req, Responder respond) {
    const std::string& name = req.path_params.empty() ? std::string() : req.path_params[0];
    const UiAsset* a = name == "index.html" ? nullptr : ui->Find(name);
    if (a == nullptr) return respond(HttpResponse::Text("Not Found", 404));
    respond(AssetResponse(req, *a));
  });
}

}  // namespace tamga

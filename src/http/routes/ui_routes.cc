// The web UI's static files (docs/ui.md): GET / answers index.html (revalidated each time), GET /static/NAME
// the content-hashed bundle (cached for a year) and the favicon. Public: the page holds no data; everything
// it shows comes from the API, which checks the caller. The UI routes by the URL's #fragment, so a deep link
// (/#/experiments/1/runs?...) needs nothing from the server, and a sign-in redirect keeps it (return_to).
#include "http/routes/route_context.h"

namespace tamga {
namespace {

bool AcceptsGzip(const HttpRequest& req) {
  return req.Header("accept-encoding").find("gzip") != std::string::npos;
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
  if (req.Header("if-none-match") == etag) {
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

#pragma once
// Router: maps (method, path) to handlers. Exact routes, plus prefix routes whose remainder is passed
// in HttpRequest::path_params[0] (artifact paths). MLflow routes are also served under /ajax-api/.
// Build it at start-up, then treat it as immutable: Match is thread-safe after that.
#include <map>
#include <string>
#include <vector>

#include "http/http_types.h"

namespace tamga {

struct RouteMatch {
  const Handler* handler = nullptr;
  const UploadHandler* upload = nullptr;
  std::string
      label;  // route template for metrics ("/api/2.0/mlflow/runs/get", "/prefix/*"); empty: unmatched
  bool path_exists = false;  // some method is routed at this path (405 vs 404)
};

class Router {
 public:
  void Add(HttpMethod method, const std::string& path, Handler handler);
  void AddPrefix(HttpMethod method, const std::string& prefix, Handler handler);
  void AddUploadPrefix(HttpMethod method, const std::string& prefix, UploadHandler handler);
  // Fills req.path_params for prefix routes; merges consecutive slashes in req.path first.
  RouteMatch Match(HttpRequest& req) const;
  // Every route as (method, template): exact paths, and "prefix*" for prefix routes; /ajax-api/ aliases
  // included. For the access-rule check (http/access_control.h).
  std::vector<std::pair<HttpMethod, std::string>> Routes() const;

 private:
  struct Entry {
    Handler handler;
    UploadHandler upload;
  };
  std::map<std::pair<HttpMethod, std::string>, Entry> exact_;
  std::vector<std::pair<std::pair<HttpMethod, std::string>, Entry>> prefixes_;  // longest first
  std::map<std::string, bool> paths_;
};

}  // namespace tamga

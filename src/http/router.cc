#include "http/router.h"

#include <algorithm>

namespace tamga {
namespace {
constexpr std::string_view kApi = "/api/";
std::string AjaxAlias(const std::string& path) {
  if (path.rfind("/api/2.0/mlflow", 0) == 0 || path.rfind("/api/3.0/mlflow", 0) == 0) {
    return "/ajax-api/" + path.substr(kApi.size());
  }
  return "";
}
}  // namespace

void Router::Add(HttpMethod method, const std::string& path, Handler handler) {
  exact_[{method, path}] = Entry{handler, nullptr};
  paths_[path] = true;
  std::string alias = AjaxAlias(path);
  if (!alias.empty()) {
    exact_[{method, alias}] = Entry{std::move(handler), nullptr};
    paths_[alias] = true;
  }
}

void Router::AddPrefix(HttpMethod method, const std::string& prefix, Handler handler) {
  prefixes_.push_back({{method, prefix}, Entry{handler, nullptr}});
  std::string alias = AjaxAlias(prefix);
  if (!alias.empty()) prefixes_.push_back({{method, alias}, Entry{std::move(handler), nullptr}});
  std::stable_sort(prefixes_.begin(), prefixes_.end(), [](const auto& a, const auto& b) {
    return a.first.second.size() > b.first.second.size();
  });
}

void Router::AddUploadPrefix(HttpMethod method, const std::string& prefix, UploadHandler handler) {
  prefixes_.push_back({{method, prefix}, Entry{nullptr, handler}});
  std::string alias = AjaxAlias(prefix);
  if (!alias.empty()) prefixes_.push_back({{method, alias}, Entry{nullptr, std::move(handler)}});
  std::stable_sort(prefixes_.begin(), prefixes_.end(), [](const auto& a, const auto& b) {
    return a.first.second.size() > b.first.second.size();
  });
}

std::vector<std::pair<HttpMethod, std::string>> Router::Routes() const {
  std::vector<std::pair<HttpMethod, std::string>> out;
  for (const auto& [key, entry] : exact_) out.push_back(key);
  for (const auto& [key, entry] : prefixes_) out.push_back({key.first, key.second + "*"});
  return out;
}

RouteMatch Router::Match(HttpRequest& req) const {
  RouteMatch m;
  // Consecutive slashes are one, as MLflow's server (Werkzeug) merges them: "//api/2.0/..." is served.
  if (req.path.find("//") != std::string::npos) {
    std::string merged;
    merged.reserve(req.path.size());
    for (char c : req.path) {
      if (c == '/' && !merged.empty() && merged.back() == '/') continue;
      merged.push_back(c);
    }
    req.path = std::move(merged);
  }
  HttpMethod method = req.method == HttpMethod::kHead ? HttpMethod::kGet : req.method;
  auto it = exact_.find({method, req.path});
  if (it != exact_.end()) {
    m.handler = it->second.handler ? &it->second.handler : nullptr;
    m.label = req.path;
    m.path_exists = true;
    return m;
  }
  // Labels name route templates only, never the raw path, so metrics stay bounded whatever clients send.
  if (paths_.count(req.path) > 0) {
    m.path_exists = true;
    m.label = req.path;
  }
  for (const auto& [key, entry] : prefixes_) {
    const std::string& prefix = key.second;
    if (req.path.compare(0, prefix.size(), prefix) != 0) continue;
    if (!m.path_exists) m.label = prefix + "*";
    m.path_exists = true;
    if (key.first != method) continue;
    req.path_params = {req.path.substr(prefix.size())};
    m.handler = entry.handler ? &entry.handler : nullptr;
    m.upload = entry.upload ? &entry.upload : nullptr;
    m.label = prefix + "*";
    return m;
  }
  return m;
}

}  // namespace tamga

#include "serving/lifecycle/registry_source.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "artifacts/artifact_path.h"
#include "core/log.h"
#include "net/http_client.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
      out.push_back(static_cast<char>(c));
    else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

static std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

HttpRegistrySource::HttpRegistrySource(std::string registry_url, std::string model_uri, std::string cache_dir)
    : registry_(TrimSlash(std::move(registry_url))),
      uri_(std::move(model_uri)),
      cache_(std::move(cache_dir)) {}

HttpRegistrySource::~HttpRegistrySource() { Stop(); }

void HttpRegistrySource::Stop() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

Result<std::string> HttpRegistrySource::Get(const std::string& path_and_query, int64_t timeout_ms) const {
  HttpClientRequest req;
  req.url = registry_ + path_and_query;
  req.timeout_ms = timeout_ms;
  req.max_response_bytes = size_t{4} << 30;
  if (!authorization_.empty()) req.headers.push_back({"Authorization", authorization_});
  req.pinned_cert_file = pinned_cert_file_;
  TAMGA_ASSIGN_OR_RETURN(auto resp, HttpCall(req));
  if (resp.status == 404)
    return NotFound("registry answered 404 for " + path_and_query + ": " + resp.body.substr(0, 300));
  if (resp.status != 200) {
    return Unavailable("registry answered " + std::to_string(resp.status) + " for " + path_and_query + ": " +
                       resp.body.substr(0, 300));
  }
  return std::move(resp.body);
}

Result<ResolvedVersion> HttpRegistrySource::Resolve() const {
  TAMGA_ASSIGN_OR_RETURN(std::string body,
                         Get("/api/2.0/tamga/models/resolve?uri=" + UrlEncode(uri_), 10000));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("version") || !j.contains("artifact_location")) {
    return Internal("unexpected resolve answer from the registry: " + body.substr(0, 200));
  }
  ResolvedVersion v;
  v.name = j.value("name", RegisteredNameOf(uri_));
  v.version = j["version"].get<std::string>();
  v.location = j["artifact_location"].get<std::string>();
  return v;
}

Status HttpRegistrySource::Download(const std::string& blob_dir, const std::string& local_dir,
                                    int depth) const {
  if (depth > 32) return InvalidArgument("model directory nests too deeply");
  TAMGA_ASSIGN_OR_RETURN(std::string body,
                         Get("/api/2.0/mlflow-artifacts/artifacts?path=" + UrlEncode(blob_dir), 30000));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return Internal("unexpected artifact listing from the registry");
  std::error_code mk;
  fs::create_directories(local_dir, mk);
  if (mk) return Unavailable("cannot create " + local_dir + ": " + mk.message());
  for (const auto& f : j.value("files", nlohmann::json::array())) {
    std::string name = f.value("path", "");
    // Listing entries are base names; anything path-like is refused (no traversal out of the cache).
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return InvalidArgument("refusing artifact entry '" + name.substr(0, 100) + "'");
    }
    std::string child = blob_dir + "/" + name;
    if (f.value("is_dir", false)) {
      TAMGA_RETURN_IF_ERROR(Download(child, local_dir + "/" + name, depth + 1));
      continue;
    }
    TAMGA_ASSIGN_OR_RETURN(std::string data,
                           Get("/api/2.0/mlflow-artifacts/artifacts/" + UrlEncode(child), 600000));
    std::ofstream out(local_dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Internal("cannot write " + local_dir + "/" + name);
  }
  return Status::Ok();
}

Result<std::string> HttpRegistrySource::Fetch(const ResolvedVersion& v) const {
  auto blob = ProxiedArtifactPath(v.location);
  if (!blob)
    return InvalidArgument("version " + v.version + " of '" + v.name + "' is stored outside the registry (" +
                           v.location + "); only registry-stored models can be served");
  return FetchIntoCache(cache_, *blob, [&](const std::string& tmp) { return Download(*blob, tmp, 0); });
}

void HttpRegistrySource::Follow(ResolvedVersion current,
                                std::function<bool(const ResolvedVersion&)> changed) {
  follower_ = std::thread([this, current, changed = std::move(changed)]() mutable {
    int64_t after = 0;
    bool caught_up = false;
    while (!stop_) {
      auto body = Get("/api/2.0/tamga/events?max_results=1000&after=" + std::to_string(after) +
                          (caught_up ? "&wait=5s" : ""),
                      15000);
      if (!body.ok()) {
        TAMGA_LOG(kWarn, "registry events poll failed; retrying", {{"error", body.status().message()}});
        for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      auto j = nlohmann::json::parse(*body, nullptr, false);
      int64_t next = j.is_object() ? j.value("next_after", after) : after;
      size_t n = j.is_object() && j.contains("events") ? j["events"].size() : 0;
      bool had_events = next > after;
      after = next;
      if (!caught_up) {
        if (n >= 1000) continue;  // history: only where the outbox ends matters
        caught_up = true;         // then check once for a change made before we caught up
      } else if (!had_events) {
        continue;
      }
      NoteResolved(uri_, Resolve(), &current, changed);
    }
  });
}

}  // namespace tamga

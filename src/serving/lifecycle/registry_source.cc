#include "serving/lifecycle/registry_source.h"

#include "serving/lifecycle/model_manager.h"

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

std::string RegisteredNameOf(const std::string& uri) {
  if (uri.rfind("models:/", 0) != 0) return "";
  std::string rest = uri.substr(8);
  size_t cut = rest.find_first_of("@/");
  return rest.substr(0, cut);
}

static std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

RegistrySource::RegistrySource(std::string registry_url, std::string model_uri, std::string cache_dir)
    : registry_(TrimSlash(std::move(registry_url))),
      uri_(std::move(model_uri)),
      cache_(std::move(cache_dir)) {}

RegistrySource::~RegistrySource() { Stop(); }

void RegistrySource::Stop() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

Result<std::string> RegistrySource::Get(const std::string& path_and_query, int64_t timeout_ms) const {
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

Result<ResolvedVersion> RegistrySource::Resolve() const {
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

Status RegistrySource::Download(const std::string& blob_dir, const std::string& local_dir, int depth) const {
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

Result<std::string> RegistrySource::Fetch(const ResolvedVersion& v) const {
  auto blob = ProxiedArtifactPath(v.location);
  if (!blob)
    return InvalidArgument("version " + v.version + " of '" + v.name + "' is stored outside the registry (" +
                           v.location + "); only registry-stored models can be served");
  std::string key;
  for (char c : *blob)
    key.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_');
  std::string dir = cache_ + "/" + key;
  std::error_code ec;
  if (fs::exists(dir + "/MLmodel", ec) || fs::exists(dir + "/.complete", ec)) return dir;  // cached
  std::string tmp =
      dir + ".partial-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  Status s = Download(*blob, tmp, 0);
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  std::ofstream(tmp + "/.complete").put('\n');
  fs::rename(tmp, dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    if (!fs::exists(dir, ec)) return Internal("cannot publish the model cache directory " + dir);
  }
  return dir;
}

void RegistrySource::Follow(ResolvedVersion current, std::function<void(const ResolvedVersion&)> changed) {
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
      auto v = Resolve();
      if (!v.ok()) {
        TAMGA_LOG(kWarn, "cannot resolve the served model URI",
                  {{"uri", uri_}, {"error", v.status().message()}});
        continue;
      }
      if (v->version != current.version || v->location != current.location) {
        current = *v;
        changed(*v);
      }
    }
  });
}

void ServeFromRegistry(RegistrySource* source, ModelManager* models, const std::string& name, bool follow,
                       const std::atomic<bool>* stopping) {
  ResolvedVersion current;
  for (;;) {
    auto v = source->Resolve();
    Status s = v.status();
    if (v.ok()) {
      auto dir = source->Fetch(*v);
      s = dir.status();
      if (dir.ok()) {
        s = models->LoadVersion(name, v->version, *dir);
        current = *v;
        if (s.ok() || s.code() != StatusCode::kUnavailable) break;
      }
    }
    // An alias not set yet is waited for when following the registry; a pinned version that does not
    // exist, or a model that cannot be loaded, is final.
    bool final = s.code() == StatusCode::kInvalidArgument || (s.code() == StatusCode::kNotFound && !follow);
    TAMGA_LOG(kWarn,
              final ? "cannot load the model from the registry"
                    : "cannot load the model from the registry yet; retrying",
              {{"model", name}, {"error", s.message()}});
    models->NoteProblem(name, s.message(), final);
    if (final) return;
    int waits = s.code() == StatusCode::kNotFound ? 50 : 10;
    for (int i = 0; i < waits && !*stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (*stopping) return;
  }
  if (!follow || *stopping) return;
  source->Follow(current, [source, models, name](const ResolvedVersion& v) {
    TAMGA_LOG(kInfo, "registry moved the served model; reloading", {{"model", name}, {"version", v.version}});
    auto dir = source->Fetch(v);
    if (!dir.ok()) {
      TAMGA_LOG(kError, "cannot fetch the new version; the old one keeps serving",
                {{"model", name}, {"error", dir.status().message()}});
      return;
    }
    (void)models->LoadVersion(name, v.version, *dir);
  });
}

}  // namespace tamga

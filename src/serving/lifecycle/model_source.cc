#include "serving/lifecycle/model_source.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/log.h"
#include "serving/lifecycle/model_manager.h"
#include "serving/monitoring/reference_stats.h"

namespace tamga {
namespace fs = std::filesystem;

std::string RegisteredNameOf(const std::string& uri) {
  if (uri.rfind("models:/", 0) != 0) return "";
  std::string rest = uri.substr(8);
  size_t cut = rest.find_first_of("@/");
  return rest.substr(0, cut);
}

Result<std::string> FetchIntoCache(const std::string& cache_dir, const std::string& blob_path,
                                   const std::function<Status(const std::string& tmp_dir)>& download) {
  std::string key;
  for (char c : blob_path)
    key.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_');
  std::string dir = cache_dir + "/" + key;
  std::error_code ec;
  if (fs::exists(dir + "/MLmodel", ec) || fs::exists(dir + "/.complete", ec)) return dir;  // cached
  std::string tmp =
      dir + ".partial-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  fs::create_directories(tmp, ec);
  if (ec) return Unavailable("cannot create " + tmp + ": " + ec.message());
  Status s = download(tmp);
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

void NoteResolved(const std::string& uri, const Result<ResolvedVersion>& v, ResolvedVersion* current,
                  const std::function<bool(const ResolvedVersion&)>& changed) {
  if (!v.ok()) {
    TAMGA_LOG(kWarn, "cannot resolve the served model URI", {{"uri", uri}, {"error", v.status().message()}});
    return;
  }
  if (v->version != current->version || v->location != current->location) {
    *current = *v;
    if (!changed(*v)) *current = ResolvedVersion{};  // not taken: offered again at the next change
  }
}

namespace {

// After a load: hands the version's reference statistics (if any) to the manager.
void LoadReferenceStats(ModelSource* source, ModelManager* models, const std::string& name,
                        const ResolvedVersion& v) {
  auto json = source->ReferenceStatsJson(v);
  if (!json.ok()) return;
  auto stats = ReferenceStats::FromJson(*json);
  if (!stats.ok()) {
    TAMGA_LOG(kWarn, "ignoring unreadable reference statistics",
              {{"model", name}, {"version", v.version}, {"error", stats.status().message()}});
    return;
  }
  models->SetReferenceStats(name, v.version, std::make_shared<const ReferenceStats>(std::move(*stats)));
}

}  // namespace

void ServeFromSource(ModelSource* source, ModelManager* models, const std::string& name,
                     const std::string& variant, bool follow, const std::atomic<bool>* stopping) {
  ResolvedVersion current;
  for (;;) {
    auto v = source->Resolve();
    Status s = v.status();
    if (v.ok()) {
      auto dir = source->Fetch(*v);
      s = dir.status();
      if (dir.ok()) {
        s = models->LoadVariant(name, variant, v->version, *dir);
        current = *v;
        if (s.ok()) LoadReferenceStats(source, models, name, *v);
        if (s.ok() || s.code() != StatusCode::kUnavailable) break;
      }
    }
    // An alias not set yet is waited for when following the registry; a pinned version that does not
    // exist, or a model that cannot be loaded, is final.
    bool final = s.code() == StatusCode::kInvalidArgument || (s.code() == StatusCode::kNotFound && !follow);
    TAMGA_LOG(kWarn,
              final ? "cannot load the model from the registry"
                    : "cannot load the model from the registry yet; retrying",
              {{"model", name}, {"variant", variant}, {"error", s.message()}});
    models->NoteProblem(name, variant, s.message(), final);
    if (final) return;
    int waits = s.code() == StatusCode::kNotFound ? 50 : 10;
    for (int i = 0; i < waits && !*stopping; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (*stopping) return;
  }
  if (!follow || *stopping) return;
  source->Follow(current, [source, models, name, variant](const ResolvedVersion& v) {
    TAMGA_LOG(kInfo, "registry moved the served model; reloading",
              {{"model", name}, {"variant", variant}, {"version", v.version}});
    auto dir = source->Fetch(v);
    if (!dir.ok()) {
      TAMGA_LOG(kError, "cannot fetch the new version; the old one keeps serving",
                {{"model", name}, {"variant", variant}, {"error", dir.status().message()}});
      return false;  // tried again at the next registry change
    }
    Status s = models->LoadVariant(name, variant, v.version, *dir);
    if (s.ok()) LoadReferenceStats(source, models, name, v);
    // No room on a GPU (or a transient failure) is tried again at the next registry change; a model that
    // cannot load is not reloaded until the URI moves.
    return s.ok() || (s.code() != StatusCode::kResourceExhausted && s.code() != StatusCode::kUnavailable);
  });
}

}  // namespace tamga

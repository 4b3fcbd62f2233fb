#include "server/in_process_source.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "artifacts/artifact_path.h"
#include "rollout/reference_tests.h"

namespace tamga {
namespace fs = std::filesystem;

InProcessRegistrySource::InProcessRegistrySource(RegistryService* registry, EventHub* hub,
                                                 std::string model_uri, std::string cache_dir)
    : registry_(registry), hub_(hub), uri_(std::move(model_uri)), cache_(std::move(cache_dir)) {}

InProcessRegistrySource::~InProcessRegistrySource() { Stop(); }

Result<std::string> InProcessRegistrySource::ReferenceStatsJson(const ResolvedVersion& v) const {
  return ReadReferenceStats(registry_, v.name, v.version);
}

void InProcessRegistrySource::Stop() {
  stop_ = true;
  if (follower_.joinable()) follower_.join();
}

Result<ResolvedVersion> InProcessRegistrySource::Resolve() const {
  TAMGA_ASSIGN_OR_RETURN(ResolvedModel m, registry_->Resolve(uri_));
  if (!m.version) return InvalidArgument(uri_ + " is not a registered model version");
  ResolvedVersion v;
  v.name = m.version->name;
  v.version = std::to_string(m.version->version);
  v.location = m.blob_path.empty() ? m.artifact_location : "blob:" + m.blob_path;
  if (m.blob_path.empty()) {
    return InvalidArgument("version " + v.version + " of '" + v.name + "' is stored outside the registry (" +
                           m.artifact_location + "); only registry-stored models can be served");
  }
  return v;
}

Status InProcessRegistrySource::Copy(const std::string& blob_dir, const std::string& local_dir,
                                     int depth) const {
  if (depth > 32) return InvalidArgument("model directory nests too deeply");
  TAMGA_ASSIGN_OR_RETURN(auto entries, registry_->blobs().List(blob_dir));
  std::error_code mk;
  fs::create_directories(local_dir, mk);
  if (mk) return Unavailable("cannot create " + local_dir + ": " + mk.message());
  for (const auto& e : entries) {
    if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos) {
      return InvalidArgument("refusing artifact entry '" + e.name.substr(0, 100) + "'");
    }
    std::string child = blob_dir + "/" + e.name;
    if (e.is_dir) {
      TAMGA_RETURN_IF_ERROR(Copy(child, local_dir + "/" + e.name, depth + 1));
      continue;
    }
    TAMGA_ASSIGN_OR_RETURN(auto reader, registry_->blobs().OpenReader(child));
    std::ofstream out(local_dir + "/" + e.name, std::ios::binary | std::ios::trunc);
    std::string buf(1 << 20, '\0');
    for (;;) {
      TAMGA_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) break;
      out.write(buf.data(), static_cast<std::streamsize>(n));
    }
    out.flush();
    if (!out) return Internal("cannot write " + local_dir + "/" + e.name);
  }
  return Status::Ok();
}

Result<std::string> InProcessRegistrySource::Fetch(const ResolvedVersion& v) const {
  if (v.location.rfind("blob:", 0) != 0) {
    return InvalidArgument("version " + v.version + " of '" + v.name + "' is not in the registry's store");
  }
  std::string blob = v.location.substr(5);
  return FetchIntoCache(cache_, blob, [&](const std::string& tmp) { return Copy(blob, tmp, 0); });
}

void InProcessRegistrySource::Follow(ResolvedVersion current,
                                     std::function<bool(const ResolvedVersion&)> changed) {
  follower_ = std::thread([this, current, changed = std::move(changed)]() mutable {
    int64_t after = hub_->last_seq();
    bool check = true;  // once at start: a move made before we followed
    while (!stop_) {
      if (!check) {
        if (!hub_->Wait(after, 500)) continue;
        after = hub_->last_seq();
      }
      check = false;
      NoteResolved(uri_, Resolve(), &current, changed);
    }
  });
}

}  // namespace tamga

#include "serving/lifecycle/gpu_admission.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace tamga {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

std::string Gib(int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1024.0 * 1024 * 1024));
  return buf;
}

std::vector<std::string> SplitVisible(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    std::string part = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
    if (!part.empty()) out.push_back(part);
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

}  // namespace

GpuAdmission::GpuAdmission(std::unique_ptr<GpuProbe> probe, LedgerFn ledger, std::string cuda_visible_devices)
    : probe_(std::move(probe)), ledger_(std::move(ledger)), visible_(SplitVisible(cuda_visible_devices)) {}

Result<GpuGrant> GpuAdmission::Admit(const std::string& what, int64_t bytes) {
  std::vector<GpuReservation> ledger = ledger_ ? ledger_() : std::vector<GpuReservation>{};
  MutexLock lock(&mu_);
  GpuSnapshot snap = probe_->Snapshot();
  GpuGrant cpu;
  if (!snap.available || snap.gpus.empty()) return cpu;
  // Candidates and their CUDA ordinals.
  std::vector<GpuInfo> gpus;
  std::vector<int> ordinals;
  for (const auto& g : snap.gpus) {
    int ordinal = g.index;
    if (!visible_.empty()) {
      auto it = std::find_if(visible_.begin(), visible_.end(), [&](const std::string& v) {
        return v == g.uuid || v == std::to_string(g.index);
      });
      if (it == visible_.end()) continue;
      ordinal = static_cast<int>(it - visible_.begin());
    }
    gpus.push_back(g);
    ordinals.push_back(ordinal);
  }
  if (gpus.empty()) return cpu;  // CUDA_VISIBLE_DEVICES hides every GPU
  for (const auto& [id, r] : loading_) ledger.push_back(r);
  GpuPlacement p = PlaceGpus({1, std::max<int64_t>(bytes, 1)}, gpus, ledger, PlacementStrategy::kSpread);
  if (!p.fits()) {
    int64_t best = -1;
    std::string best_uuid;
    for (const auto& g : gpus) {
      int64_t f = g.healthy ? EffectiveFree(g, ledger) : -1;
      if (f > best) {
        best = f;
        best_uuid = g.uuid;
      }
    }
    return ResourceExhausted(what + " needs an estimated " + Gib(bytes) + " of GPU memory; " +
                             (best < 0 ? std::string("no healthy GPU")
                                       : "the GPU with the most free memory after reservations (" +
                                             best_uuid + ") has " + Gib(best)) +
                             ": not loaded, so the models and jobs already there keep their memory");
  }
  GpuGrant g;
  g.uuid = p.uuids[0];
  g.bytes = bytes;
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (gpus[i].uuid != g.uuid) continue;
    g.device = "cuda:" + std::to_string(ordinals[i]);
    g.free_before = EffectiveFree(gpus[i], ledger);
  }
  g.id = next_id_++;
  GpuReservation r;
  r.uuid = g.uuid;
  r.job_id = "serving:" + what;
  r.bytes = bytes;
  loading_.push_back({g.id, r});
  return g;
}

void GpuAdmission::Release(const GpuGrant& grant) {
  MutexLock lock(&mu_);
  loading_.erase(
      std::remove_if(loading_.begin(), loading_.end(), [&](const auto& e) { return e.first == grant.id; }),
      loading_.end());
}

int64_t GpuAdmission::ProcessBytes(const std::string& uuid) {
  MutexLock lock(&mu_);
  GpuSnapshot snap = probe_->Snapshot();
  const auto pid = static_cast<uint32_t>(::getpid());
  for (const auto& g : snap.gpus) {
    if (g.uuid != uuid) continue;
    for (const auto& p : g.processes) {
      if (p.pid == pid) return p.used_bytes;
    }
  }
  return -1;
}

std::unique_ptr<GpuAdmission> MakeGpuAdmission(const std::string& device, GpuAdmission::LedgerFn ledger) {
  if (device != "auto") return nullptr;
  ::setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", /*overwrite=*/0);
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return std::make_unique<GpuAdmission>(NewNvmlProbe(), std::move(ledger), visible ? visible : "");
}

int64_t EstimateGpuBytes(const std::string& model_dir, int instances) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int64_t files = 0;
  for (auto it = fs::recursive_directory_iterator(model_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) files += static_cast<int64_t>(it->file_size(ec));
  }
  return (files + files / 2 + 256 * kMiB) * std::max(1, instances);
}

}  // namespace tamga

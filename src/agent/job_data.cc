#include "agent/job_data.h"

#include <filesystem>

#include "data/client/data_workflow.h"
#include "data/dataset_ref.h"
#include "data/dataset_service.h"
#include "net/http_client.h"

namespace tamga {
namespace {

std::string EnvName(const std::string& name) {
  std::string out = "TAMGA_DATA_";
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

std::string Query(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> PrepareJobData(const JobDataOptions& o, const Job& job,
                                                          const std::string& dir,
                                                          const AgentClient& run_client) {
  std::map<std::string, std::string> env;
  if (job.spec.data.empty()) return env;
  TAMGA_ASSIGN_OR_RETURN(auto cache, LocalCache::Open(o.cache_dir));
  TAMGA_ASSIGN_OR_RETURN(auto hashes, HashCache::Open(cache->root() + "/hashes.v1"));
  DataRemoteOptions ro;
  ro.base_url = o.server;
  while (!ro.base_url.empty() && ro.base_url.back() == '/') ro.base_url.pop_back();
  std::string authorization = o.authorization;
  ro.authorize = [authorization](HttpClientRequest* req) {
    if (!authorization.empty()) req->headers.emplace_back("Authorization", authorization);
  };
  DataRemote remote(ro);
  DataContext ctx{cache.get(), hashes.get(), &remote, LinkMode::kHardlink, 0};
  nlohmann::json inputs = nlohmann::json::array();
  for (const JobData& d : job.spec.data) {
    TAMGA_ASSIGN_OR_RETURN(DatasetRef ref, ParseDatasetRef(d.ref));
    auto v = remote.Call("GET",
                         "/api/2.0/tamga/datasets/versions/get?name=" + Query(ref.name) +
                             (ref.ref.empty() ? "" : "&version=" + Query(ref.ref)),
                         nullptr);
    if (!v.ok()) return Status(v.status().code(), "dataset " + d.ref + ": " + v.status().message());
    const nlohmann::json& ver = (*v)["version"];
    int64_t number = ver.value("version", int64_t{0});
    std::string manifest = ver.value("manifest", "");
    std::string dest = (std::filesystem::path(dir) / d.path).lexically_normal().string();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(dest).parent_path(), ec);
    auto r = PullManifest(ctx, ref.name, manifest, dest, false, /*force=*/true, /*download=*/true);
    if (!r.ok()) return Status(r.status().code(), "dataset " + d.ref + ": " + r.status().message());
    env[EnvName(ref.name)] = std::filesystem::absolute(dest).string();
    env[EnvName(ref.name) + "_VERSION"] = FormatDatasetRef(ref.name, number);
    nlohmann::json source = {{"uri", DatasetService::TamgaUri(ref.name, number)}, {"manifest", manifest}};
    nlohmann::json profile = {{"num_files", ver.value("file_count", int64_t{0})},
                              {"total_size", ver.value("total_size", int64_t{0})}};
    inputs.push_back({{"dataset",
                       {{"name", ref.name},
                        {"digest", manifest.substr(0, 36)},
                        {"source_type", "tamga"},
                        {"source", source.dump()},
                        {"profile", profile.dump()}}},
                      {"tags", {{{"key", "mlflow.data.context"}, {"value", "training"}}}}});
  }
  TAMGA_ASSIGN_OR_RETURN(auto logged, run_client.Post("/api/2.0/mlflow/runs/log-inputs",
                                                      {{"run_id", job.run_id}, {"datasets", inputs}}));
  (void)logged;
  return env;
}

}  // namespace tamga

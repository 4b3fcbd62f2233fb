// Golden-file tests for rendered manifests and Dockerfiles, plus spec validation. Regenerate the golden
// files after an intended change with TAMGA_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "deploy/deployment_spec.h"
#include "deploy/manifest_renderer.h"

namespace tamga {
namespace {

std::string GoldenDir() { return std::string(TAMGA_TEST_DIR) + "/deploy/golden/"; }

void CheckGolden(const std::string& name, const std::vector<RenderedFile>& files) {
  std::string all;
  for (const auto& f : files) all += "# --- " + f.path + "\n" + f.content;
  std::string path = GoldenDir() + name;
  if (std::getenv("TAMGA_UPDATE_GOLDEN")) {
    std::ofstream(path) << all;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(all, want.str()) << "rendered output differs from " << path;
}

RenderInput Input(const std::string& spec_json) {
  auto spec = ParseDeploymentSpec(spec_json);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  RenderInput in;
  in.spec = *spec;
  in.version = 7;
  in.run_id = "0123456789abcdef0123456789abcdef";
  in.tamga_version = "0.1.0";
  return in;
}

TEST(ManifestRenderer, CpuDeploymentMatchesGolden) {
  auto files = RenderDeployment(Input(R"({"name":"churn","model_name":"churn model","alias":"production"})"));
  CheckGolden("cpu.txt", files);
  ASSERT_EQ(files.size(), 5u);  // Dockerfile, deployment, hpa, pdb, service (no ingress)
}

TEST(ManifestRenderer, GpuDeploymentWithIngressMatchesGolden) {
  auto files = RenderDeployment(Input(
      R"({"name":"fraud-gpu","model_name":"fraud","alias":"champion","namespace":"ml","replicas":2,
          "min_replicas":2,"max_replicas":2,"cpu":"4","memory":"16Gi","gpu_count":2,
          "gpu_product":"NVIDIA-A100-SXM4-40GB","ingress_host":"fraud.ml.example.com","max_body_mb":256,
          "model_delivery":"bake"})"));
  CheckGolden("gpu.txt", files);
  ASSERT_EQ(files.size(), 5u);  // Dockerfile, deployment, ingress, pdb, service: no HPA when min == max
}

TEST(ManifestRenderer, DeterministicAndValidYaml) {
  RenderInput in = Input(R"({"name":"a","model_name":"m","ingress_host":"a.example.com","max_replicas":5})");
  auto a = RenderDeployment(in);
  auto b = RenderDeployment(in);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].path, b[i].path);
    EXPECT_EQ(a[i].content, b[i].content);
    if (a[i].path.size() > 5 && a[i].path.substr(a[i].path.size() - 5) == ".yaml") {
      YAML::Node doc = YAML::Load(a[i].content);
      EXPECT_EQ(doc["metadata"]["name"].as<std::string>(), "a");
      EXPECT_EQ(doc["metadata"]["labels"]["app.kubernetes.io/version"].as<std::string>(), "7");
    }
  }
  YAML::Node dep = YAML::Load(a[1].content);
  auto c = dep["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/v2/health/ready");
  EXPECT_FALSE(c["resources"]["limits"]["nvidia.com/gpu"]);  // CPU tier: no GPU limit
}

// The Dockerfile's ENTRYPOINT/CMD is the Deployment's command/args: one source (ServeContainerFor).
TEST(ManifestRenderer, DockerfileRunsTheDeploymentsProcess) {
  for (const char* spec :
       {R"({"name":"a","model_name":"m"})", R"({"name":"b","model_name":"m","model_delivery":"bake"})"}) {
    RenderInput in = Input(spec);
    ServeContainer c = ServeContainerFor(in);
    std::string docker = RenderDockerfile(in);
    YAML::Node dep = YAML::Load(RenderDeployment(in)[1].content);
    auto yc = dep["spec"]["template"]["spec"]["containers"][0];
    ASSERT_EQ(yc["args"].size(), c.args.size());
    for (size_t i = 0; i < c.args.size(); ++i) EXPECT_EQ(yc["args"][i].as<std::string>(), c.args[i]);
    nlohmann::json cmd = c.args;
    EXPECT_NE(docker.find("CMD " + cmd.dump() + "\n"), std::string::npos) << docker;
    EXPECT_NE(docker.find("ENTRYPOINT [\"tamga\",\"serve\"]\n"), std::string::npos) << docker;
  }
}

TEST(ManifestRenderer, PythonRuntimeRendersRequirements) {
  RenderInput in = Input(R"({"name":"py","model_name":"m"})");
  in.python_runtime = true;
  in.requirements = "numpy==1.26.4\n";
  auto files = RenderDeployment(in);
  bool found = false;
  for (const auto& f : files) {
    if (f.path == "default/py/requirements.txt") {
      EXPECT_EQ(f.content, "numpy==1.26.4\n");
      found = true;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(ServingImage(in), "tamga-model-py:v7");
  std::string docker = RenderDockerfile(in);
  EXPECT_NE(docker.find("ARG TAMGA_IMAGE=ghcr.io/tamga-mlops/tamga:0.1.0-python\n"), std::string::npos);
  EXPECT_NE(docker.find("ENV TAMGA_PYTHON=/opt/tamga-model-env/bin/python\n"), std::string::npos);
}

TEST(DeploymentSpec, RejectsWhatATargetCannotDo) {
  const char* bad[] = {
      R"({"name":"Bad_Name","model_name":"m"})",
      R"({"name":"a","model_name":""})",
      R"({"name":"a","model_name":"m","alias":"v1"})",
      R"({"name":"a","model_name":"m","cpu":"lots"})",
      R"({"name":"a","model_name":"m","replicas":5,"max_replicas":3})",
      R"({"name":"a","model_name":"m","canary_traffic_percent":10})",
      R"({"name":"a","model_name":"m","gpu_product":"A100"})",
      R"({"name":"a","model_name":"m","model_delivery":"ftp"})",
      R"({"name":"a","model_name":"m","gpu_count":1.5})",
      R"({"name":"a","model_name":"m","ingress_host":"bad host"})",
      R"({"name":"a","model_name":"m","runtime":"java"})",
      R"({"name":"a","model_name":"m","cache_size":"big"})",
      R"({"name":"a","model_name":"m","startup_timeout_s":1})",
      R"({"name":"a","model_name":"m","ingress_class":"Bad Class"})",
      R"([1,2])",
      R"(not json)",
  };
  for (const char* json : bad) {
    auto r = ParseDeploymentSpec(json);
    EXPECT_FALSE(r.ok()) << json;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << json;
    }
  }
}

TEST(ManifestRenderer, SnoozeRendersAKedaHttpScaledObjectInsteadOfTheHpa) {
  auto files = RenderDeployment(
      Input(R"({"name":"churn","model_name":"churn","ingress_host":"churn.example.com","max_replicas":4,
                "snooze":{"idle_seconds":900}})"));
  std::map<std::string, std::string> by_name;
  for (const auto& f : files) by_name[f.path.substr(f.path.rfind('/') + 1)] = f.content;
  EXPECT_FALSE(by_name.count("hpa.yaml"));  // KEDA owns the replica count
  ASSERT_TRUE(by_name.count("keda.yaml"));
  YAML::Node keda = YAML::Load(by_name["keda.yaml"]);
  EXPECT_EQ(keda["apiVersion"].as<std::string>(), "http.keda.sh/v1alpha1");
  EXPECT_EQ(keda["kind"].as<std::string>(), "HTTPScaledObject");
  EXPECT_EQ(keda["spec"]["hosts"][0].as<std::string>(), "churn.example.com");
  EXPECT_EQ(keda["spec"]["scaleTargetRef"]["name"].as<std::string>(), "churn");
  EXPECT_EQ(keda["spec"]["scaleTargetRef"]["service"].as<std::string>(), "churn");
  EXPECT_EQ(keda["spec"]["replicas"]["min"].as<int>(), 0);
  EXPECT_EQ(keda["spec"]["replicas"]["max"].as<int>(), 4);
  EXPECT_EQ(keda["spec"]["scaledownPeriod"].as<int>(), 900);
  // The Ingress goes through the interceptor (an ExternalName alias of KEDA's proxy).
  YAML::Node alias = YAML::Load(by_name["keda-service.yaml"]);
  EXPECT_EQ(alias["metadata"]["name"].as<std::string>(), "churn-keda");
  EXPECT_EQ(alias["spec"]["type"].as<std::string>(), "ExternalName");
  YAML::Node ingress = YAML::Load(by_name["ingress.yaml"]);
  EXPECT_EQ(ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"].as<std::string>(),
            "churn-keda");
  // Without an ingress host the in-cluster name is the host the interceptor routes.
  auto plain =
      RenderDeployment(Input(R"({"name":"churn","model_name":"churn","snooze":{"idle_seconds":60}})"));
  for (const auto& f : plain) {
    EXPECT_EQ(f.path.find("keda-service"), std::string::npos);
    if (f.path.find("keda.yaml") != std::string::npos) {
      EXPECT_EQ(YAML::Load(f.content)["spec"]["hosts"][0].as<std::string>(),
                "churn.default.svc.cluster.local");
    }
  }
}

TEST(DeploymentSpec, CanonicalJsonRoundTrips) {
  auto a = ParseDeploymentSpec(R"({"model_name":"m","name":"x","gpu_count":1,"memory":"8Gi"})");
  ASSERT_TRUE(a.ok());
  auto b = ParseDeploymentSpec(DeploymentSpecJson(*a));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(DeploymentSpecJson(*a), DeploymentSpecJson(*b));
}

}  // namespace
}  // namespace tamga

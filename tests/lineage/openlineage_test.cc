// OpenLineage RunEvent JSON (src/lineage/openlineage.h): required fields of spec 2-0-2, run ids as UUIDs.
#include "lineage/openlineage.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tamga {
namespace {

TEST(OpenLineage, RunEventHasTheSpecsRequiredFieldsInputsAndOutputs) {
  OpenLineageRun e;
  e.event_type = "COMPLETE";
  e.event_time_ms = 1796306261783;
  e.run_id = "0123456789ABCDEF0123456789abcdef";
  e.job_namespace = "tamga";
  e.job_name = "gpu.train";
  e.job_id = "j1";
  e.producer = "https://github.com/tamga-mlops/tamga/tree/v0.1.0";
  e.dataset_namespace = "tamga-data://tamga.example.com";
  e.model_namespace = "models://tamga.example.com";
  LineageDataset d;
  d.name = "train";
  d.version = 3;
  d.manifest = std::string(64, 'a');
  e.inputs = {d};
  LineageDataset external;
  external.name = "csv";
  external.digest = "abc";
  e.inputs.push_back(external);
  ModelVersion mv;
  mv.name = "fraud";
  mv.version = 7;
  e.outputs = {mv};
  auto j = nlohmann::json::parse(OpenLineageRunEventJson(e));
  EXPECT_EQ(j["eventType"], "COMPLETE");
  EXPECT_EQ(j["eventTime"], "2026-12-03T13:57:41.783Z");
  EXPECT_EQ(j["schemaURL"], "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent");
  EXPECT_EQ(j["run"]["runId"], "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(j["job"]["name"], "gpu.train");
  EXPECT_EQ(j["inputs"][0]["namespace"], "tamga-data://tamga.example.com");
  EXPECT_EQ(j["inputs"][0]["name"], "train@v3");
  EXPECT_EQ(j["inputs"][0]["facets"]["version"]["datasetVersion"], "3");
  EXPECT_EQ(j["inputs"][1]["namespace"], "mlflow");
  EXPECT_EQ(j["outputs"][0]["name"], "fraud/7");
  for (const auto& f : {j["run"]["facets"]["tamga_run"], j["job"]["facets"]["jobType"]}) {
    EXPECT_TRUE(f.contains("_producer") && f.contains("_schemaURL")) << f.dump();
  }
  EXPECT_FALSE(j["run"]["facets"].contains("errorMessage"));
  e.event_type = "FAIL";
  e.reason = "exit code 3";
  EXPECT_EQ(nlohmann::json::parse(OpenLineageRunEventJson(e))["run"]["facets"]["errorMessage"]["message"],
            "exit code 3");
  // Ids that are not MLflow's 32 hex digits still become a valid UUID, the same one each time.
  EXPECT_EQ(RunIdAsUuid("x").size(), 36u);
  EXPECT_EQ(RunIdAsUuid("x"), RunIdAsUuid("x"));
}

}  // namespace
}  // namespace tamga

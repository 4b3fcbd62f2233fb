// jobs: ParseJobSpec, ParseJobSpecBatch, ParseAgentReport and ParseByteSize, the parsers of what users and
// agents send the jobs API. Properties: errors are InvalidArgument; an accepted spec or report serialises
// (JobSpecJson, AgentReportJson) to JSON that parses back to the same serialisation.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "jobs/job_types.h"
#include "jobs/job_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  std::string text(in.Rest());
  auto user_error = [&](const Status& s) {
    TAMGA_FUZZ_ASSERT(s.code() == StatusCode::kInvalidArgument, text);
  };
  switch (mode % 4) {
    case 0: {
      auto spec = ParseJobSpec(text);
      if (!spec.ok()) {
        user_error(spec.status());
        return 0;
      }
      std::string json = JobSpecJson(*spec);
      auto again = ParseJobSpec(json);
      TAMGA_FUZZ_ASSERT(again.ok(), json);
      TAMGA_FUZZ_ASSERT(JobSpecJson(*again) == json, json);
      break;
    }
    case 1: {
      auto batch = ParseJobSpecBatch(text);
      if (!batch.ok()) {
        user_error(batch.status());
        return 0;
      }
      TAMGA_FUZZ_ASSERT(batch->size() <= kMaxJobBatch, text);
      break;
    }
    case 2: {
      auto report = ParseAgentReport(text);
      if (!report.ok()) {
        user_error(report.status());
        return 0;
      }
      std::string json = AgentReportJson(*report);
      auto again = ParseAgentReport(json);
      TAMGA_FUZZ_ASSERT(again.ok(), json);
      TAMGA_FUZZ_ASSERT(AgentReportJson(*again) == json, json);
      break;
    }
    default: {
      auto n = ParseByteSize(text);
      if (!n.ok()) {
        user_error(n.status());
        return 0;
      }
      TAMGA_FUZZ_ASSERT(*n >= 0, text);
      break;
    }
  }
  return 0;
}

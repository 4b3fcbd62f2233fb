// The jobs API's wire parsers on hostile values: every wrong type or out-of-range number is InvalidArgument,
// never an exception or a silently wrapped value; secrets are redacted except in the agent's view.
#include "jobs/job_wire.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(JobWire, AgentReportRejectsWrongTypesAndRanges) {
  EXPECT_TRUE(ParseAgentReport(R"({"name":"a","queues":["q"],"cpus":4,"memory_bytes":1024})").ok());
  for (const char* bad : {R"({"cpus":1099511627776})", R"({"memory_bytes":1e300})", R"({"cpus":"4"})",
                          R"({"queues":"q"})", R"({"queues":[1]})", R"({"gpus":"x"})", R"({"gpus":[5]})",
                          R"({"gpus":[{"uuid":"GPU-1","total_bytes":-5}]})", R"({"gpus":[{"uuid":7}]})",
                          R"({"job_pids":{"j":[-1]}})", R"({"job_pids":{"j":["1"]}})",
                          R"({"gpus_enabled":1})", R"([1])", R"({"name":)"}) {
    auto r = ParseAgentReport(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(JobWire, ByteSizesNeverThrow) {
  EXPECT_EQ(*ParseByteSize("8GiB"), int64_t{8} << 30);
  EXPECT_EQ(*ParseByteSize(" 1.5 KB "), 1500);
  EXPECT_FALSE(ParseByteSize(std::string(400, '9')).ok());  // std::stod would throw out_of_range
  EXPECT_FALSE(ParseByteSize("1e400GiB").ok());
  EXPECT_FALSE(ParseByteSize(std::string(100000, ' ') + "1").ok());  // std::regex would recurse per character
  EXPECT_FALSE(ParseByteSize("9999999TiB").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
}

TEST(JobWire, SecretsRedactedExceptForTheAgent) {
  auto spec = ParseJobSpec(R"({"queue":"q","command":["x"],"env":{"HF_TOKEN":"tok","PLAIN":"v"}})");
  ASSERT_TRUE(spec.ok());
  Job j;
  j.id = "j1";
  j.spec = *spec;
  std::string user = JobJson(j);
  EXPECT_EQ(user.find("tok"), std::string::npos);
  EXPECT_NE(user.find("\"PLAIN\":\"v\""), std::string::npos);
  EXPECT_NE(JobJson(j, SecretView::kRevealed).find("\"HF_TOKEN\":\"tok\""), std::string::npos);
}

TEST(JobWire, UrlPasswordsAndPatsAreMaskedCaPathsAreNot) {
  auto spec = ParseJobSpec(
      R"({"queue":"q","command":["x"],"env":{"DATABASE_URL":"postgres://u:pw@h/db","GITHUB_PAT":"ghp_1",)"
      R"("SSL_CERT_FILE":"/etc/ssl/ca.pem","PYTHONPATH":"/src"}})");
  ASSERT_TRUE(spec.ok());
  Job j;
  j.spec = *spec;
  std::string user = JobJson(j);
  EXPECT_NE(user.find("postgres://u:***@h/db"), std::string::npos) << user;
  EXPECT_EQ(user.find("pw@"), std::string::npos);
  EXPECT_EQ(user.find("ghp_1"), std::string::npos);
  EXPECT_NE(user.find("/etc/ssl/ca.pem"), std::string::npos);
  EXPECT_NE(user.find("\"PYTHONPATH\":\"/src\""), std::string::npos);
}

TEST(JobWire, JobSpecNumbersOutOfRangeAreErrors) {
  for (const char* bad : {R"({"queue":"q","command":["x"],"priority":1e308})",
                          R"({"queue":"q","command":["x"],"priority":18446744073709551615})",
                          R"({"queue":"q","command":["x"],"resources":{"gpus":-1}})",
                          R"({"queue":"q","command":["x"],"resources":{"memory":18446744073709551615}})",
                          R"({"queue":"q","command":["x"],"git_repo":"r","git_commit":"-x"})",
                          R"({"queue":"q","command":["x"],"env":{"BAD KEY=":"v"}})",
                          R"({"queue":"q","command":["x"],"env":{"TOKEN\u0000X":"v"}})",
                          R"({"queue":"q","command":["x"],"env":{"\uff34OKEN":"v"}})",
                          R"({"queue":"q","command":["x"],"env":{"1X":"v"}})"}) {
    EXPECT_FALSE(ParseJobSpec(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tamga

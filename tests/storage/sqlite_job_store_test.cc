#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "conformance/job_store_conformance.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {
namespace {

std::unique_ptr<JobStore> MakeSqliteJobStore() {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("tamga-jobstore-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto s = OpenSqliteJobStore((dir / "jobs.db").string(), "NORMAL");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, JobStoreConformance, ::testing::Values(JobStoreFactory(MakeSqliteJobStore)));

}  // namespace
}  // namespace tamga

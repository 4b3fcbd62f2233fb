#pragma once
// Conversions shared by the jobs domain's translation units.
#include <nlohmann/json.hpp>

#include "jobs/job_types.h"
#include "storage/job_store.h"

namespace tamga::jobs_internal {

JobRecord ToRecord(const Job& j);
Result<Job> FromRecord(const JobRecord& r);
nlohmann::ordered_json JobSpecObject(const JobSpec& s);

}  // namespace tamga::jobs_internal

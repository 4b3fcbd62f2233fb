#pragma once
// Conversions shared by the jobs domain's translation units.
#include "jobs/job_types.h"
#include "storage/job_store.h"

namespace tamga::jobs_internal {

JobRecord ToRecord(const Job& j);
Result<Job> FromRecord(const JobRecord& r);

}  // namespace tamga::jobs_internal

#pragma once
// JobStore: durable state of the job queues (queues, jobs, their log chunks, agents). Its own database
// file (jobs.db next to tamga.db), so queue traffic never waits behind tracking writes on SQLite's single
// writer lock. Every call is one transaction and returns after commit (WAL, synchronous=NORMAL: an
// acknowledged change survives kill -9). Records are plain values; the jobs domain (src/jobs) owns their
// meaning. Thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

struct JobRecord {
  std::string id;
  int64_t seq = 0;
  std::string queue;
  int priority = 0;
  std::string state;
  std::string reason;
  std::string spec_json;
  std::string run_id;
  std::string agent_id;
  std::string gpu_uuids;  // comma-separated
  int attempts = 0;
  std::optional<int> exit_code;
  bool abort_requested = false;
  int64_t lease_expires_ms = 0;
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
};

struct QueueRecord {
  std::string name;
  int max_concurrency = 0;
  std::string strategy = "spread";
  int64_t created_ms = 0;
};

struct AgentRecord {
  std::string id;
  std::string name;
  std::string info_json;  // capabilities as the agent reported them
  int64_t last_seen_ms = 0;
};

struct JobLogChunk {
  int64_t seq = 0;
  std::string stream;
  std::string data;
};

struct JobListQuery {
  std::string queue;  // "" = all
  std::string state;  // "" = all
  int64_t max_results = 100;
  int64_t before_seq = 0;  // 0 = newest first from the top
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  virtual Status PutQueue(const QueueRecord& q) = 0;
  virtual Result<std::vector<QueueRecord>> ListQueues() = 0;
  // Inserts or replaces the job row.
  virtual Status PutJob(const JobRecord& job) = 0;
  // Inserts many jobs in one transaction (bulk enqueue).
  virtual Status PutJobs(const std::vector<JobRecord>& jobs) = 0;
  virtual Result<JobRecord> GetJob(const std::string& id) = 0;  // NotFound
  // Jobs not in a terminal state, oldest first (loaded at start).
  virtual Result<std::vector<JobRecord>> ActiveJobs() = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(const JobListQuery& q) = 0;  // newest first
  virtual Result<int64_t> MaxJobSeq() = 0;
  // Appends a chunk; returns its seq (per job, from 1).
  virtual Result<int64_t> AppendLog(const std::string& job_id, const std::string& stream,
                                    const std::string& data) = 0;
  // Bytes of output stored for the job.
  virtual Result<int64_t> LogBytes(const std::string& job_id) = 0;
  virtual Result<std::vector<JobLogChunk>> ReadLogs(const std::string& job_id, int64_t after,
                                                    int64_t limit) = 0;
  virtual Status PutAgent(const AgentRecord& a) = 0;
  virtual Result<std::vector<AgentRecord>> ListAgents() = 0;
  // Scheduling policies as JSON the jobs domain owns, by kind ("tier", "quota") and key. Delete: NotFound.
  virtual Status PutPolicy(const std::string& kind, const std::string& key, const std::string& json) = 0;
  virtual Status DeletePolicy(const std::string& kind, const std::string& key) = 0;
  virtual Result<std::vector<std::string>> ListPolicies(const std::string& kind) = 0;  // by key
};

class SqlDb;
// The JobStore on its own connection, migrated on open (storage/sql; SQLite's factory:
// storage/sqlite/sqlite_stores.h).
Result<std::unique_ptr<JobStore>> NewSqlJobStore(std::unique_ptr<SqlDb> db);

}  // namespace tamga

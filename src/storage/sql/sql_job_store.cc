// JobStore on its own SQLite file. One connection behind a mutex: queue operations are short single-row
// transactions, and the jobs domain keeps its working set in memory.
#include <mutex>

#include "storage/job_store.h"
#include "storage/sql/migrations.h"
#include "storage/sql/sql_db.h"

namespace tamga {
namespace {

constexpr const char* kJobColumns =
    "id, seq, queue, priority, state, reason, spec, run_id, agent_id, gpu_uuids, attempts, exit_code, "
    "abort_requested, lease_expires_ms, created_ms, started_ms, ended_ms";
// Every column but the key, from the row that was to be inserted (an upsert).
constexpr const char* kJobUpdates =
    "seq = excluded.seq, queue = excluded.queue, priority = excluded.priority, state = excluded.state, "
    "reason = excluded.reason, spec = excluded.spec, run_id = excluded.run_id, agent_id = excluded.agent_id, "
    "gpu_uuids = excluded.gpu_uuids, attempts = excluded.attempts, exit_code = excluded.exit_code, "
    "abort_requested = excluded.abort_requested, lease_expires_ms = excluded.lease_expires_ms, "
    "created_ms = excluded.created_ms, started_ms = excluded.started_ms, ended_ms = excluded.ended_ms";

JobRecord ReadJob(SqlStmt& s) {
  JobRecord j;
  j.id = s.Text(0);
  j.seq = s.Int(1);
  j.queue = s.Text(2);
  j.priority = static_cast<int>(s.Int(3));
  j.state = s.Text(4);
  j.reason = s.Text(5);
  j.spec_json = s.Text(6);
  j.run_id = s.Text(7);
  j.agent_id = s.Text(8);
  j.gpu_uuids = s.Text(9);
  j.attempts = static_cast<int>(s.Int(10));
  if (!s.IsNull(11)) j.exit_code = static_cast<int>(s.Int(11));
  j.abort_requested = s.Int(12) != 0;
  j.lease_expires_ms = s.Int(13);
  j.created_ms = s.Int(14);
  j.started_ms = s.Int(15);
  j.ended_ms = s.Int(16);
  return j;
}

class SqlJobStore final : public JobStore {
 public:
  explicit SqlJobStore(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}

  Status PutQueue(const QueueRecord& q) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO job_queues(name, max_concurrency, strategy, created_ms) VALUES(?1, ?2, ?3, ?4) "
            "ON CONFLICT(name) DO UPDATE SET max_concurrency = ?2, strategy = ?3"));
    return s->Bind(1, q.name).Bind(2, q.max_concurrency).Bind(3, q.strategy).Bind(4, q.created_ms).Run();
  }

  Result<std::vector<QueueRecord>> ListQueues() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare("SELECT name, max_concurrency, strategy, created_ms FROM job_queues ORDER BY name"));
    std::vector<QueueRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), static_cast<int>(r.Int(1)), r.Text(2), r.Int(3)});
    }));
    return out;
  }

  Status PutJob(const JobRecord& j) override {
    std::lock_guard<std::mutex> l(mu_);
    return PutJobLocked(j);
  }

  Status PutJobs(const std::vector<JobRecord>& jobs) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    for (const auto& j : jobs) {
      Status s = PutJobLocked(j);
      if (!s.ok()) {
        (void)db_->Exec("ROLLBACK");
        return s;
      }
    }
    return db_->Exec("COMMIT");
  }

  Result<JobRecord> GetJob(const std::string& id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1"));
    s->Bind(1, id);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("job '" + id.substr(0, 64) + "' does not exist");
    return ReadJob(*s);
  }

  Result<std::vector<JobRecord>> ActiveJobs() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kJobColumns +
                             " FROM jobs WHERE state IN ('queued', 'leased', 'running') ORDER BY seq"));
    std::vector<JobRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadJob(r)); }));
    return out;
  }

  Result<std::vector<JobRecord>> ListJobs(const JobListQuery& q) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kJobColumns +
                             " FROM jobs WHERE (?1 = '' OR queue = ?1) AND (?2 = '' OR state = ?2) "
                             "AND (?3 = 0 OR seq < ?3) ORDER BY seq DESC LIMIT ?4"));
    s->Bind(1, q.queue).Bind(2, q.state).Bind(3, q.before_seq).Bind(4, q.max_results);
    std::vector<JobRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadJob(r)); }));
    return out;
  }

  Result<int64_t> MaxJobSeq() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM jobs"));
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }

  Result<int64_t> AppendLog(const std::string& job_id, const std::string& stream,
                            const std::string& data) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO job_logs(job_id, seq, stream, data) "
                                                "VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_logs "
                                                "WHERE job_id = ?1), ?2, ?3) RETURNING seq"));
    s->Bind(1, job_id).Bind(2, stream).BindBlob(3, data);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Internal("log append returned no row");
    int64_t seq = s->Int(0);
    TAMGA_RETURN_IF_ERROR(s->Run());
    return seq;
  }

  Result<int64_t> LogBytes(const std::string& job_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("SELECT COALESCE(SUM(length(data)), 0) FROM job_logs WHERE job_id = ?1"));
    s->Bind(1, job_id);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }

  Result<std::vector<JobLogChunk>> ReadLogs(const std::string& job_id, int64_t after,
                                            int64_t limit) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "SELECT seq, stream, data FROM job_logs WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"));
    s->Bind(1, job_id).Bind(2, after).Bind(3, limit);
    std::vector<JobLogChunk> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Text(1), std::string(r.Blob(2))});
    }));
    return out;
  }

  Status PutAgent(const AgentRecord& a) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT INTO job_agents(id, name, info, last_seen_ms) VALUES(?1, ?2, ?3, ?4) "
                             "ON CONFLICT(id) DO UPDATE SET name = ?2, info = ?3, last_seen_ms = ?4"));
    return s->Bind(1, a.id).Bind(2, a.name).Bind(3, a.info_json).Bind(4, a.last_seen_ms).Run();
  }

  Result<std::vector<AgentRecord>> ListAgents() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT id, name, info, last_seen_ms FROM job_agents ORDER BY id"));
    std::vector<AgentRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int(3)});
    }));
    return out;
  }

  Status PutPolicy(const std::string& kind, const std::string& key, const std::string& json) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO job_policies(kind, key, spec) VALUES(?1, ?2, ?3) "
                                        "ON CONFLICT(kind, key) DO UPDATE SET spec = ?3"));
    return s->Bind(1, kind).Bind(2, key).Bind(3, json).Run();
  }

  Status DeletePolicy(const std::string& kind, const std::string& key) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM job_policies WHERE kind = ?1 AND key = ?2"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, kind).Bind(2, key).Run());
    if (db_->Changes() == 0) return NotFound("no " + kind + " '" + key.substr(0, 128) + "'");
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListPolicies(const std::string& kind) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT spec FROM job_policies WHERE kind = ?1 ORDER BY key"));
    s->Bind(1, kind);
    std::vector<std::string> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(r.Text(0)); }));
    return out;
  }

 private:
  Status PutJobLocked(const JobRecord& j) {
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(std::string("INSERT INTO jobs(") + kJobColumns +
                     ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
                     "ON CONFLICT(id) DO UPDATE SET " +
                     kJobUpdates));
    s->Bind(1, j.id)
        .Bind(2, j.seq)
        .Bind(3, j.queue)
        .Bind(4, j.priority)
        .Bind(5, j.state)
        .Bind(6, j.reason)
        .Bind(7, j.spec_json)
        .Bind(8, j.run_id)
        .Bind(9, j.agent_id)
        .Bind(10, j.gpu_uuids)
        .Bind(11, j.attempts);
    if (j.exit_code)
      s->Bind(12, *j.exit_code);
    else
      s->BindNull(12);
    s->Bind(13, j.abort_requested ? 1 : 0)
        .Bind(14, j.lease_expires_ms)
        .Bind(15, j.created_ms)
        .Bind(16, j.started_ms)
        .Bind(17, j.ended_ms);
    return s->Run();
  }

  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> NewSqlJobStore(std::unique_ptr<SqlDb> db) {
  // jobs.db has the table to itself; on PostgreSQL the job store shares the database with the metadata store.
  const char* table = db->dialect() == SqlDialect::kPostgres ? "job_schema_migrations" : "schema_migrations";
  TAMGA_RETURN_IF_ERROR(ApplyMigrations(*db, JobMigrations(), table, nullptr));
  return std::unique_ptr<JobStore>(new SqlJobStore(std::move(db)));
}

}  // namespace tamga

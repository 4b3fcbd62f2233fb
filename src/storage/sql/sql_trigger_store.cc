// TriggerStore on the metadata database through its own connection (docs/data.md, "Retraining triggers").
#include <mutex>

#include "storage/sql/sql_db.h"
#include "storage/trigger_store.h"

namespace tamga {
namespace {

constexpr const char* kTriggerCols =
    "name, kind, dataset, tag, cron, job_spec, register_model, model_path, enabled, created_by, created_ms, "
    "cursor";
constexpr const char* kFiringCols =
    "id, trigger_name, event_key, detail, state, job_id, run_id, model_version, reason, created_ms, "
    "updated_ms";

TriggerRecord ReadTrigger(SqlStmt& r) {
  TriggerRecord t;
  t.name = r.Text(0);
  t.kind = r.Text(1);
  t.dataset = r.Text(2);
  t.tag = r.Text(3);
  t.cron = r.Text(4);
  t.job_spec = r.Text(5);
  t.register_model = r.Text(6);
  t.model_path = r.Text(7);
  t.enabled = r.Int(8) != 0;
  t.created_by = r.Text(9);
  t.created_ms = r.Int(10);
  t.cursor = r.Int(11);
  return t;
}

TriggerFiring ReadFiring(SqlStmt& r) {
  return {r.Int(0),  r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
          r.Text(6), r.Text(7), r.Text(8), r.Int(9),  r.Int(10)};
}

class SqlTriggerStore final : public TriggerStore {
 public:
  explicit SqlTriggerStore(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}

  Status CreateTrigger(const TriggerRecord& t) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("INSERT INTO triggers(") + kTriggerCols +
                                        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    Status st = s->Bind(1, t.name)
                    .Bind(2, t.kind)
                    .Bind(3, t.dataset)
                    .Bind(4, t.tag)
                    .Bind(5, t.cron)
                    .Bind(6, t.job_spec)
                    .Bind(7, t.register_model)
                    .Bind(8, t.model_path)
                    .Bind(9, t.enabled ? 1 : 0)
                    .Bind(10, t.created_by)
                    .Bind(11, t.created_ms)
                    .Bind(12, t.cursor)
                    .Run();
    if (st.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("Trigger '" + t.name + "' already exists.");
    return st;
  }

  Result<TriggerRecord> GetTrigger(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kTriggerCols + " FROM triggers WHERE name = ?1"));
    s->Bind(1, name);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFound("Trigger '" + name.substr(0, 128) + "' does not exist.");
    return ReadTrigger(*s);
  }

  Result<std::vector<TriggerRecord>> ListTriggers() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kTriggerCols + " FROM triggers ORDER BY name"));
    std::vector<TriggerRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadTrigger(r)); }));
    return out;
  }

  Status DeleteTrigger(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM triggers WHERE name = ?1"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, name).Run());
    if (db_->Changes() == 0) return NotFound("Trigger '" + name.substr(0, 128) + "' does not exist.");
    return Status::Ok();
  }

  Status SetCursor(const std::string& name, int64_t cursor) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE triggers SET cursor = ?2 WHERE name = ?1"));
    return s->Bind(1, name).Bind(2, cursor).Run();
  }

  Result<int64_t> LastEventSeq() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM dataset_events"));
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    return row ? s->Int(0) : 0;
  }

  Result<std::vector<DatasetTagEvent>> EventsAfter(int64_t seq, int64_t max_results) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("SELECT seq, dataset, tag, version, previous_version, created_ms FROM "
                             "dataset_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
    s->Bind(1, seq).Bind(2, max_results);
    std::vector<DatasetTagEvent> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4), r.Int(5)});
    }));
    return out;
  }

  Result<std::optional<int64_t>> InsertFiring(const TriggerFiring& f) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO trigger_firings(trigger_name, event_key, detail, state, "
                                        "created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT "
                                        "DO NOTHING RETURNING id"));
    s->Bind(1, f.trigger).Bind(2, f.event_key).Bind(3, f.detail).Bind(4, f.state).Bind(5, f.created_ms);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<int64_t>();
    int64_t id = s->Int(0);
    while (true) {
      TAMGA_ASSIGN_OR_RETURN(bool more, s->Step());
      if (!more) break;
    }
    return std::optional<int64_t>(id);
  }

  Status UpdateFiring(const TriggerFiring& f) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE trigger_firings SET state = ?2, job_id = ?3, run_id = ?4, "
                                        "model_version = ?5, reason = ?6, updated_ms = ?7 WHERE id = ?1"));
    return s->Bind(1, f.id)
        .Bind(2, f.state)
        .Bind(3, f.job_id)
        .Bind(4, f.run_id)
        .Bind(5, f.model_version)
        .Bind(6, f.reason)
        .Bind(7, f.updated_ms)
        .Run();
  }

  Result<std::vector<TriggerFiring>> ListFirings(const std::string& trigger, int64_t max_results) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(std::string("SELECT ") + kFiringCols +
                             " FROM trigger_firings WHERE trigger_name = ?1 ORDER BY id DESC LIMIT ?2"));
    s->Bind(1, trigger).Bind(2, max_results);
    std::vector<TriggerFiring> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadFiring(r)); }));
    return out;
  }

  Result<std::vector<TriggerFiring>> FiringsInState(const std::string& state) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare(std::string("SELECT ") + kFiringCols +
                                        " FROM trigger_firings WHERE state = ?1 ORDER BY id LIMIT 1000"));
    s->Bind(1, state);
    std::vector<TriggerFiring> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) { out.push_back(ReadFiring(r)); }));
    return out;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;
};

}  // namespace

std::unique_ptr<TriggerStore> NewSqlTriggerStore(std::unique_ptr<SqlDb> db) {
  return std::unique_ptr<TriggerStore>(new SqlTriggerStore(std::move(db)));
}

}  // namespace tamga

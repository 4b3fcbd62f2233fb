#pragma once
// TriggerStore: retraining triggers, their firings, and the dataset tag events they follow (docs/data.md,
// "Retraining triggers"). Every call is one transaction. Thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

struct TriggerRecord {
  std::string name;
  std::string kind;            // "dataset_tag" | "schedule" | "drift"
  std::string dataset, tag;    // dataset_tag; drift: `dataset` holds the deployment
  std::string cron;            // schedule
  std::string job_spec;        // the job template (JSON)
  std::string register_model;  // "" = register nothing
  std::string model_path = "model";
  bool enabled = true;
  std::string created_by;
  int64_t created_ms = 0;
  int64_t cursor = 0;  // dataset_tag: the last event seen; schedule: the next fire time (ms), 0 = not armed
};

struct TriggerFiring {
  int64_t id = 0;
  std::string trigger;
  std::string event_key;  // "event:<seq>", "tick:<ms>", "manual:<ms>"
  std::string detail;     // "train@v3", "2026-12-03T03:00Z"
  std::string state;      // submitting | submitted | succeeded | registered | failed
  std::string job_id, run_id, model_version, reason;
  int64_t created_ms = 0, updated_ms = 0;
};

struct DatasetTagEvent {
  int64_t seq = 0;
  std::string dataset, tag;
  int64_t version = 0, previous_version = 0;
  int64_t created_ms = 0;
};

class TriggerStore {
 public:
  virtual ~TriggerStore() = default;
  virtual Status CreateTrigger(const TriggerRecord& t) = 0;               // AlreadyExists
  virtual Result<TriggerRecord> GetTrigger(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<TriggerRecord>> ListTriggers() = 0;
  virtual Status DeleteTrigger(const std::string& name) = 0;  // NotFound (its firings stay)
  virtual Status SetCursor(const std::string& name, int64_t cursor) = 0;
  virtual Result<int64_t> LastEventSeq() = 0;
  virtual Result<std::vector<DatasetTagEvent>> EventsAfter(int64_t seq, int64_t max_results) = 0;
  // Inserts the firing unless (trigger, event_key) fired already: then nullopt.
  virtual Result<std::optional<int64_t>> InsertFiring(const TriggerFiring& f) = 0;
  virtual Status UpdateFiring(const TriggerFiring& f) = 0;
  virtual Result<std::vector<TriggerFiring>> ListFirings(const std::string& trigger, int64_t max_results) = 0;
  virtual Result<std::vector<TriggerFiring>> FiringsInState(const std::string& state) = 0;
};

class SqlDb;
std::unique_ptr<TriggerStore> NewSqlTriggerStore(std::unique_ptr<SqlDb> db);

}  // namespace tamga

#pragma once
// SqlMetadataStore: MetadataStore on a SQL engine (SQLite in WAL mode, or PostgreSQL; storage/sql/sql_db.h).
// One writer connection (used only through BeginWrite, i.e. by the group committer) and a pool of reader
// connections; readers proceed while the writer commits. Thread-safe per MetadataStore. The engines' own
// factories: storage/sqlite/sqlite_stores.h, storage/postgres/pg_stores.h.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "storage/metadata_store.h"
#include "storage/sql/sql_db.h"

namespace tamga {

class SqlMetadataStore final : public MetadataStore {
 public:
  struct Connector {
    std::function<Result<std::unique_ptr<SqlDb>>()> open_writer;
    std::function<Result<std::unique_ptr<SqlDb>>()> open_reader;
    int max_idle_readers = 8;  // reader connections kept open between calls
  };
  // Opens the writer and applies pending migrations. Internal on I/O or schema errors.
  static Result<std::unique_ptr<SqlMetadataStore>> Create(Connector connector);
  ~SqlMetadataStore() override;

  Result<Experiment> GetExperiment(const std::string& experiment_id) override;
  Result<Experiment> GetExperimentByName(const std::string& name) override;
  Result<std::vector<Experiment>> ListExperiments(ViewType view) override;
  Result<Run> GetRun(const std::string& run_id) override;
  Result<RunInfo> GetRunInfo(const std::string& run_id) override;
  Result<RunPage> SearchRuns(const RunQuery& query) override;
  Result<HistoryPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                       const std::optional<HistoryCursor>& after,
                                       int64_t max_results) override;
  Result<std::vector<DatasetSummary>> SearchDatasets(const std::vector<std::string>& experiment_ids,
                                                     int64_t limit) override;
  Result<std::vector<HistoryPoint>> GetMetricRange(const std::string& run_id, const std::string& key,
                                                   int64_t min_step, int64_t max_step) override;
  Result<RunKeys> ListRunKeys(const std::vector<std::string>& experiment_ids, int64_t recent_runs,
                              int64_t max_keys) override;
  RegistryReader& registry() override { return *registry_reader_; }
  Result<std::unique_ptr<WriteTxn>> BeginWrite() override;
  Status Flush() override;

  // Schema version after migrations (for tests and `tamga version`).
  int SchemaVersion() const { return schema_version_; }

  // Name -> pk caches owned by the writer. Entries added inside a transaction become visible to later
  // transactions only after commit; a rollback forgets them.
  struct WriterCache {
    std::unordered_map<std::string, int64_t> run_pks;
    std::unordered_map<std::string, int64_t> key_pks;
    std::unordered_map<std::string, int64_t> pending_run_pks;
    std::unordered_map<std::string, int64_t> pending_key_pks;
  };

 private:
  class ReaderLease;
  explicit SqlMetadataStore(Connector connector) : connector_(std::move(connector)) {}
  Status Migrate();
  // Fills min_value/max_value of latest_metrics rows written before migration 0007, from the chunks.
  Status BackfillMetricRanges();
  Result<std::unique_ptr<SqlDb>> OpenReader();
  Result<ReaderLease> Reader();
  void ReturnReader(std::unique_ptr<SqlDb> db);

  const Connector connector_;
  int schema_version_ = 0;
  std::unique_ptr<SqlDb> writer_;
  std::unique_ptr<RegistryReader> registry_reader_;
  WriterCache writer_cache_;  // used only by the writer thread
  Mutex pool_mu_;
  std::vector<std::unique_ptr<SqlDb>> idle_readers_ GUARDED_BY(pool_mu_);
};

// Shared helpers for the SQLite store's translation units.
Result<Experiment> SqlLoadExperiment(SqlDb& db, const char* where_sql, const std::string& arg);
// A run's info and internal pk, by run id (NotFound when absent).
Result<std::pair<RunInfo, int64_t>> SqlLoadRunInfo(SqlDb& db, const std::string& run_id);
Result<std::optional<int64_t>> SqlFindRunPk(SqlDb& db, const std::string& run_id);
Result<std::vector<Run>> SqlLoadRuns(SqlDb& db, const std::vector<int64_t>& run_pks);
Result<RunPage> SqlSearchRuns(SqlDb& db, const RunQuery& query);
Result<RunKeys> SqlListRunKeys(SqlDb& db, const std::vector<std::string>& experiment_ids, int64_t recent_runs,
                               int64_t max_keys);
std::unique_ptr<WriteTxn> NewSqlWriteTxn(SqlDb* db, SqlMetadataStore::WriterCache* cache);

}  // namespace tamga

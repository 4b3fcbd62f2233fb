#pragma once
// SqliteMetadataStore: MetadataStore on one SQLite file in WAL mode.
// One writer connection (used only through BeginWrite, i.e. by the group committer) and a pool of reader
// connections; WAL lets readers proceed while the writer commits. Thread-safe per MetadataStore.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "storage/metadata_store.h"
#include "storage/sqlite/sqlite_db.h"

namespace tamga {

class SqliteMetadataStore final : public MetadataStore {
 public:
  struct Options {
    std::string path;                    // database file; created if missing
    std::string synchronous = "NORMAL";  // "NORMAL" survives kill -9; "FULL" survives power loss too
    int max_idle_readers = 8;            // reader connections kept open between calls
  };
  // Opens (creating if needed) and applies pending migrations. Internal on I/O or schema errors.
  static Result<std::unique_ptr<SqliteMetadataStore>> Create(const Options& options);
  ~SqliteMetadataStore() override;

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
  explicit SqliteMetadataStore(const Options& options) : options_(options) {}
  Status Migrate();
  // Fills min_value/max_value of latest_metrics rows written before migration 0007, from the chunks.
  Status BackfillMetricRanges();
  Result<std::unique_ptr<SqliteDb>> OpenReader();
  Result<ReaderLease> Reader();
  void ReturnReader(std::unique_ptr<SqliteDb> db);

  const Options options_;
  int schema_version_ = 0;
  std::unique_ptr<SqliteDb> writer_;
  std::unique_ptr<RegistryReader> registry_reader_;
  WriterCache writer_cache_;  // used only by the writer thread
  Mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers_ GUARDED_BY(pool_mu_);
};

// Shared helpers for the SQLite store's translation units.
Result<Experiment> SqliteLoadExperiment(SqliteDb& db, const char* where_sql, const std::string& arg);
// A run's info and internal pk, by run id (NotFound when absent).
Result<std::pair<RunInfo, int64_t>> SqliteLoadRunInfo(SqliteDb& db, const std::string& run_id);
Result<std::optional<int64_t>> SqliteFindRunPk(SqliteDb& db, const std::string& run_id);
Result<std::vector<Run>> SqliteLoadRuns(SqliteDb& db, const std::vector<int64_t>& run_pks);
Result<RunPage> SqliteSearchRuns(SqliteDb& db, const RunQuery& query);
Result<RunKeys> SqliteListRunKeys(SqliteDb& db, const std::vector<std::string>& experiment_ids,
                                  int64_t recent_runs, int64_t max_keys);
std::unique_ptr<WriteTxn> NewSqliteWriteTxn(SqliteDb* db, SqliteMetadataStore::WriterCache* cache);

}  // namespace tamga

#pragma once
// DatasetStore: durable metadata of datasets (docs/data.md): named datasets, their numbered versions (each
// naming a manifest object by digest), tags pointing at versions, and each dataset's object index — the
// objects the dataset has proved it holds (uploaded through it, bytes verified), which is what its readers
// may download and what its missing-check answers from. The objects themselves live on the blob store.
// Every call is one transaction and returns after commit. Thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tamga {

struct DatasetRecord {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::string created_by;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t latest_version = 0;  // 0 = no version yet
};

struct DatasetVersionRecord {
  int64_t dataset_id = 0;
  int64_t version = 0;
  std::string manifest;  // digest of the manifest object
  int64_t file_count = 0;
  int64_t total_size = 0;
  std::string message;
  std::string metadata_json;  // {"tags": {...}, "tables": [...]}: what the client measured, free tags
  std::string created_by;
  int64_t created_ms = 0;
};

struct DatasetTagRecord {
  std::string tag;
  int64_t version = 0;
  int64_t updated_ms = 0;
};

struct DatasetObject {
  std::string digest;
  int64_t size = 0;
};

struct DatasetUse {
  std::string dataset;  // name
  int64_t version = 0;
  std::string run_id;
  std::string context;
  int64_t created_ms = 0;
};

struct DatasetListQuery {
  std::string name_prefix;  // "" = all
  int64_t max_results = 100;
  std::string after_name;  // page: names after this one
};

class DatasetStore {
 public:
  virtual ~DatasetStore() = default;
  // AlreadyExists when the name is taken. Returns the record with its id.
  virtual Result<DatasetRecord> CreateDataset(const DatasetRecord& d) = 0;
  virtual Result<DatasetRecord> GetDataset(const std::string& name) = 0;                   // NotFound
  virtual Result<std::vector<DatasetRecord>> ListDatasets(const DatasetListQuery& q) = 0;  // by name
  virtual Status UpdateDescription(int64_t dataset_id, const std::string& description, int64_t now_ms) = 0;

  // Records objects the dataset holds (already present ones are kept).
  virtual Status AddObjects(int64_t dataset_id, const std::vector<DatasetObject>& objects) = 0;
  // Which of `digests` the dataset holds, with their sizes (in no particular order).
  virtual Result<std::vector<DatasetObject>> FindObjects(int64_t dataset_id,
                                                         const std::vector<std::string>& digests) = 0;

  // Appends the next version (latest + 1, serialised on the dataset's row), moves the tag "latest" to it
  // and sets the given tags too. Returns the stored record.
  virtual Result<DatasetVersionRecord> AddVersion(const DatasetVersionRecord& v,
                                                  const std::vector<std::string>& tags) = 0;
  virtual Result<DatasetVersionRecord> GetVersion(int64_t dataset_id, int64_t version) = 0;  // NotFound
  // Newest first; versions below `before` (0 = from the newest).
  virtual Result<std::vector<DatasetVersionRecord>> ListVersions(int64_t dataset_id, int64_t max_results,
                                                                 int64_t before) = 0;
  // The newest version with this manifest, if any (a push of unchanged data reuses it).
  virtual Result<std::optional<DatasetVersionRecord>> FindVersionByManifest(int64_t dataset_id,
                                                                            const std::string& manifest) = 0;

  // Points `tag` at `version` (NotFound when the version does not exist). Returns the previous version the
  // tag named (0 = new tag).
  virtual Result<int64_t> SetTag(int64_t dataset_id, const std::string& tag, int64_t version,
                                 int64_t now_ms) = 0;
  virtual Status DeleteTag(int64_t dataset_id, const std::string& tag) = 0;            // NotFound
  virtual Result<std::vector<DatasetTagRecord>> ListTags(int64_t dataset_id) = 0;      // by tag
  virtual Result<int64_t> ResolveTag(int64_t dataset_id, const std::string& tag) = 0;  // NotFound

  // Lineage: a run used a version (kept once per run and version; the context of the first record wins).
  virtual Status RecordUse(int64_t dataset_id, int64_t version, const std::string& run_id,
                           const std::string& context, int64_t now_ms) = 0;
  virtual Result<std::vector<DatasetUse>> UsesOfVersion(int64_t dataset_id, int64_t version,
                                                        int64_t max_results) = 0;
  virtual Result<std::vector<DatasetUse>> UsesByRun(const std::string& run_id) = 0;
};

}  // namespace tamga

namespace tamga {
class SqlDb;
// The SQL implementation (storage/sql/sql_dataset_store.cc) on a connection to a migrated metadata database.
std::unique_ptr<DatasetStore> NewSqlDatasetStore(std::unique_ptr<SqlDb> db);
}  // namespace tamga

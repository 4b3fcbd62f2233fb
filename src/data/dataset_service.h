#pragma once
// DatasetService: the datasets domain on the server (docs/data.md). Datasets are named; each version names a
// manifest object (manifest.h); every object is stored once on the blob store under its SHA-256
// (`datasets/objects/ab/cdef…`) and is immutable. A dataset may only reference, list as present and serve
// objects it has proved it holds — objects uploaded through it, whose bytes were hashed on arrival — so
// content-addressing never lets one team read another's data by guessing a digest.
//
// Thread-safe. Calls do blocking store and blob I/O: route handlers call them off the I/O thread where the
// blob store is remote (BlobStore::IsRemote).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "artifacts/blob_store.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "data/dataset_ref.h"
#include "data/manifest.h"
#include "data/object_pack.h"
#include "storage/dataset_store.h"
#include "storage/entities.h"

namespace tamga {

struct DatasetServiceOptions {
  size_t max_digests_per_call = 100'000;          // missing-check and fetch lists
  int64_t max_manifest_bytes = int64_t{2} << 30;  // manifests read when a version is created or listed
  size_t max_metadata_bytes = 1 << 20;            // a version's metadata JSON
};

// Streams objects as a pack (object_pack.h), for batch downloads. Read on one thread.
class ObjectPackSource {
 public:
  virtual ~ObjectPackSource() = default;
  virtual int64_t size() const = 0;                      // the pack's total length
  virtual Result<size_t> Read(char* buf, size_t n) = 0;  // 0 = end
  virtual bool ReadReady() const = 0;
};

// Receives an uploaded pack: each object is hashed as it arrives and published only when its bytes match its
// digest; Finish makes the batch durable and records it in the dataset's index, then returns what was stored.
// The caller owns it; dropping it before Finish keeps the verified objects but records none of them.
class ObjectUpload : public PackSink {
 public:
  struct Summary {
    int64_t objects = 0;  // records in the pack
    int64_t written = 0;  // objects the store did not have
    int64_t bytes = 0;
  };
  virtual Result<Summary> Finish() = 0;
  // Whether Begin/Data may wait on the network.
  virtual bool MayBlock() const = 0;
};

class DatasetService {
 public:
  DatasetService(DatasetStore* store, BlobStore* blobs, Clock* clock, DatasetServiceOptions options = {})
      : store_(store), blobs_(blobs), clock_(clock), options_(options) {}

  static std::string ObjectPath(const std::string& digest);
  bool blobs_remote() const { return blobs_->IsRemote(); }

  // AlreadyExists, InvalidArgument (name).
  Result<DatasetRecord> Create(const std::string& name, const std::string& description,
                               const std::string& created_by);
  Result<DatasetRecord> Get(const std::string& name);  // NotFound
  Result<std::vector<DatasetRecord>> List(const DatasetListQuery& q);
  Status SetDescription(const std::string& name, const std::string& description);

  // The digests (of `digests`) the dataset does not hold. InvalidArgument on a malformed digest or too many.
  Result<std::vector<std::string>> Missing(const DatasetRecord& d, const std::vector<std::string>& digests);
  std::unique_ptr<ObjectUpload> StartUpload(const DatasetRecord& d);
  // The objects as a pack, in the order given; NotFound naming the first the dataset does not hold.
  Result<std::unique_ptr<ObjectPackSource>> Fetch(const DatasetRecord& d,
                                                  const std::vector<std::string>& digests);
  // Where one object the dataset holds is stored (a single download); NotFound otherwise.
  Result<std::string> ObjectPathFor(const DatasetRecord& d, const std::string& digest);

  struct NewVersion {
    std::string manifest;  // digest of an uploaded manifest object
    std::string message;
    std::string metadata_json;  // "" = {}
    std::vector<std::string> tags;
    std::string created_by;
  };
  struct VersionResult {
    DatasetVersionRecord version;
    bool created = false;  // false: the latest version already had this manifest (tags still applied)
  };
  // Reads and checks the manifest, checks the dataset holds every object it names with the sizes it states,
  // and appends a version. InvalidArgument on a bad manifest, metadata or tag; FailedPrecondition naming the
  // objects still to upload.
  Result<VersionResult> CreateVersion(const DatasetRecord& d, const NewVersion& v);
  // "" or "latest" = the latest version; "3"/"v3"; else a tag. NotFound.
  Result<DatasetVersionRecord> Resolve(const DatasetRecord& d, const std::string& ref);
  Result<std::vector<DatasetVersionRecord>> Versions(const DatasetRecord& d, int64_t max_results,
                                                     int64_t before);
  // The manifest object, its digest verified.
  Result<Manifest> ReadManifest(const std::string& digest);
  // Returns the version the tag named before (0 = new).
  Result<int64_t> SetTag(const DatasetRecord& d, const std::string& tag, const std::string& ref);
  Status DeleteTag(const DatasetRecord& d, const std::string& tag);
  Result<std::vector<DatasetTagRecord>> Tags(const DatasetRecord& d);

  // Lineage (docs/data.md): the Tamga dataset a run input's source names — the first
  // "tamga-data://NAME[@REF]" in it (a job's inputs, or mlflow.log_input with such a URI in its source).
  static std::optional<DatasetRef> TamgaUriIn(std::string_view source);
  static std::string TamgaUri(const std::string& name, int64_t version);  // "tamga-data://name@v3"
  // Records which versions the run's inputs name (a tag resolves to the version it names now); inputs that
  // name no Tamga dataset, or one that does not exist, are skipped. Returns how many were recorded.
  // `may_read` (null = all): whether the caller may read a dataset — a run cannot claim a dataset its author
  // may not read.
  Result<int> RecordInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs,
                           const std::function<bool(const std::string&)>& may_read = nullptr);
  Result<std::vector<DatasetUse>> UsesOf(const DatasetRecord& d, int64_t version, int64_t max_results);
  Result<std::vector<DatasetUse>> UsesByRun(const std::string& run_id);

 private:
  Result<std::vector<DatasetObject>> Held(const DatasetRecord& d, const std::vector<std::string>& digests);
  DatasetStore* store_;
  BlobStore* blobs_;
  Clock* clock_;
  DatasetServiceOptions options_;
};

}  // namespace tamga

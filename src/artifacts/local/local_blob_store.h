#pragma once
// LocalBlobStore: BlobStore on a local directory. Writes go to <root>/.tmp/ and are fsync'ed and renamed
// into place on Commit, so a crash leaves either the old blob or the new one. Thread-safe.
#include <memory>
#include <string>

#include "artifacts/blob_store.h"
#include "core/mutex.h"
#include "core/random.h"

namespace tamga {

class LocalBlobStore final : public BlobStore {
 public:
  struct Options {
    std::string root;  // created if missing
  };
  static Result<std::unique_ptr<LocalBlobStore>> Create(const Options& options, Random* random);

  Result<std::unique_ptr<BlobWriter>> OpenWriter(const std::string& path) override;
  Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& path) override;
  Result<std::vector<BlobEntry>> List(const std::string& dir) override;
  Status Delete(const std::string& path) override;
  Status CopyTree(const std::string& from, const std::string& to) override;
  Result<std::unique_ptr<BlobWriter>> OpenUnsyncedWriter(const std::string& path) override;
  // syncfs() on the store's file system: one flush for a whole batch of unsynced writes.
  Status SyncUnsynced() override;

 private:
  LocalBlobStore(std::string root, Random* random) : root_(std::move(root)), random_(random) {}
  Result<std::string> FullPath(const std::string& path, bool allow_root) const;
  std::string root_;
  Random* random_;
  // Deletes and tree copies exclude each other, so a copy sees a folder whole or not at all (a registered
  // version never gets a half-deleted snapshot). Writes are not held back: a copy may or may not include a
  // file published while it runs, and either is a consistent snapshot.
  Mutex tree_mu_;
};

}  // namespace tamga

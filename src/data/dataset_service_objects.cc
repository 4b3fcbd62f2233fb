// DatasetService's object transfers: verified uploads of packs and streamed batch downloads.
#include <algorithm>
#include <unordered_map>

#include "data/dataset_service.h"
#include "data/digest.h"

namespace tamga {
namespace {

constexpr size_t kMaxFetch = 10000;

class Upload final : public ObjectUpload {
 public:
  Upload(DatasetStore* store, BlobStore* blobs, int64_t dataset_id)
      : store_(store), blobs_(blobs), dataset_id_(dataset_id) {}

  bool MayBlock() const override { return blobs_->IsRemote(); }

  Status Begin(const std::string& digest, int64_t size) override {
    digest_ = digest;
    size_ = size;
    writer_.reset();
    // Objects are immutable: one already stored is not rewritten, but its bytes are still hashed (the upload
    // proves the dataset holds them). An object store is written without asking first (a HEAD per object
    // would cost as much as the write).
    bool exists = false;
    if (!blobs_->IsRemote()) {
      TAMGA_ASSIGN_OR_RETURN(exists, blobs_->Exists(DatasetService::ObjectPath(digest)));
    }
    if (!exists) {
      TAMGA_ASSIGN_OR_RETURN(writer_, blobs_->OpenUnsyncedWriter(DatasetService::ObjectPath(digest)));
    }
    return Status::Ok();
  }

  Status Data(std::string_view bytes) override {
    hasher_.Update(bytes);
    if (writer_) return writer_->Append(bytes);
    return Status::Ok();
  }

  Status End() override {
    std::string got = hasher_.FinishHex();
    if (got != digest_) {
      writer_.reset();  // discards the bytes
      return InvalidArgument("Object " + digest_ + ": the uploaded bytes hash to " + got +
                             " (corrupted or truncated in transit); nothing of it was stored");
    }
    if (writer_) {
      TAMGA_RETURN_IF_ERROR(writer_->Commit());
      writer_.reset();
      ++summary_.written;
    }
    ++summary_.objects;
    summary_.bytes += size_;
    done_.push_back({digest_, size_});
    return Status::Ok();
  }

  Result<Summary> Finish() override {
    TAMGA_RETURN_IF_ERROR(blobs_->SyncUnsynced());
    TAMGA_RETURN_IF_ERROR(store_->AddObjects(dataset_id_, done_));
    return summary_;
  }

 private:
  DatasetStore* store_;
  BlobStore* blobs_;
  int64_t dataset_id_;
  std::string digest_;
  int64_t size_ = 0;
  Sha256Hasher hasher_;
  std::unique_ptr<BlobWriter> writer_;
  std::vector<DatasetObject> done_;
  Summary summary_;
};

// Header, then the blob's bytes, object after object; a blob opened only when its turn comes.
class PackSource final : public ObjectPackSource {
 public:
  PackSource(BlobStore* blobs, std::vector<DatasetObject> objects)
      : blobs_(blobs), objects_(std::move(objects)) {
    for (const auto& o : objects_)
      total_ += static_cast<int64_t>(PackRecordHeader(o.digest, o.size).size()) + o.size;
  }
  int64_t size() const override { return total_; }
  bool ReadReady() const override { return !blobs_->IsRemote() || (reader_ && reader_->ReadReady()); }

  // Fills as much of `buf` as it can, across headers and objects (one socket write carries many small
  // objects); on an object store it stops before opening the next object when it already has bytes to send.
  Result<size_t> Read(char* buf, size_t n) override {
    size_t filled = 0;
    while (filled < n) {
      if (header_pos_ < header_.size()) {
        size_t take = std::min(n - filled, header_.size() - header_pos_);
        std::copy_n(header_.data() + header_pos_, take, buf + filled);
        header_pos_ += take;
        filled += take;
        continue;
      }
      if (reader_ && left_ > 0) {
        if (filled > 0 && !reader_->ReadReady()) break;
        TAMGA_ASSIGN_OR_RETURN(size_t got,
                               reader_->Read(buf + filled, static_cast<size_t>(std::min<int64_t>(
                                                               left_, static_cast<int64_t>(n - filled)))));
        // A stored object shorter than recorded: the store was altered. Stop with an error (the client sees
        // a cut body and the digest check fails; nothing is served as if it were whole).
        if (got == 0)
          return Internal("Stored object " + objects_[next_ - 1].digest + " is shorter than recorded");
        left_ -= static_cast<int64_t>(got);
        filled += got;
        continue;
      }
      if (next_ == objects_.size()) break;
      if (filled > 0 && blobs_->IsRemote()) break;  // opening the next object waits on the network
      const DatasetObject& o = objects_[next_++];
      TAMGA_ASSIGN_OR_RETURN(reader_, blobs_->OpenReader(DatasetService::ObjectPath(o.digest)));
      if (reader_->size() != o.size)
        return Internal("Stored object " + o.digest + " has " + std::to_string(reader_->size()) +
                        " bytes, recorded " + std::to_string(o.size));
      header_ = PackRecordHeader(o.digest, o.size);
      header_pos_ = 0;
      left_ = o.size;
    }
    return filled;
  }

 private:
  BlobStore* blobs_;
  std::vector<DatasetObject> objects_;
  int64_t total_ = 0;
  size_t next_ = 0;
  std::string header_;
  size_t header_pos_ = 0;
  std::unique_ptr<BlobReader> reader_;
  int64_t left_ = 0;
};

}  // namespace

std::unique_ptr<ObjectUpload> DatasetService::StartUpload(const DatasetRecord& d) {
  return std::make_unique<Upload>(store_, blobs_, d.id);
}

Result<std::unique_ptr<ObjectPackSource>> DatasetService::Fetch(const DatasetRecord& d,
                                                                const std::vector<std::string>& digests) {
  if (digests.size() > kMaxFetch)
    return InvalidArgument("At most " + std::to_string(kMaxFetch) + " objects per fetch; split the list");
  {
    std::vector<std::string> sorted = digests;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return InvalidArgument("A fetch names each object once");
  }
  TAMGA_ASSIGN_OR_RETURN(auto held, Held(d, digests));
  std::unordered_map<std::string, int64_t> size_of;
  for (auto& o : held) size_of.emplace(std::move(o.digest), o.size);
  std::vector<DatasetObject> objects;
  objects.reserve(digests.size());
  for (const auto& g : digests) {
    auto it = size_of.find(g);
    if (it == size_of.end()) return NotFound("Dataset '" + d.name + "' has no object " + g);
    objects.push_back({g, it->second});
  }
  return std::unique_ptr<ObjectPackSource>(new PackSource(blobs_, std::move(objects)));
}

}  // namespace tamga

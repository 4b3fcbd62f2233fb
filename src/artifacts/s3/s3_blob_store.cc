#include "artifacts/s3/s3_blob_store.h"

#include <algorithm>
#include <deque>
#include <future>

#include "artifacts/artifact_path.h"
#include "core/log.h"

namespace tamga {

namespace {

constexpr int64_t kMaxSingleCopy = int64_t{5} << 30;  // CopyObject's limit; larger objects copy in parts
constexpr int64_t kCopyPartSize = int64_t{512} << 20;

class S3Writer final : public BlobWriter {
 public:
  S3Writer(std::shared_ptr<S3Client> client, std::string key, const S3BlobStore::Options& o)
      : client_(std::move(client)), key_(std::move(key)), o_(o) {}

  ~S3Writer() override {
    (void)Drain();  // parts still in flight finish before the upload is aborted
    if (!committed_ && !upload_id_.empty()) {
      Status s = client_->AbortMultipart(key_, upload_id_);
      if (!s.ok()) TAMGA_LOG(kWarn, "could not abort an S3 multipart upload", {{"error", s.message()}});
    }
  }

  Status Append(std::string_view data) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return FailedPrecondition("blob already committed");
    while (!data.empty()) {
      size_t take = std::min(data.size(), o_.part_size - buf_.size());
      // One allocation per part once a blob is not small (no doubling copies on the way to 8 MiB).
      if (buf_.size() + take > (256u << 10) && buf_.capacity() < o_.part_size) buf_.reserve(o_.part_size);
      buf_.append(data.substr(0, take));
      data.remove_prefix(take);
      total_ += static_cast<int64_t>(take);
      if (buf_.size() == o_.part_size) {
        std::string part;
        part.swap(buf_);
        if (Status s = SendPart(std::move(part)); !s.ok()) return Fail(s);
      }
    }
    return Status::Ok();
  }

  bool AppendMayBlock(size_t n) const override {
    // Only when a part fills while the pool of parts in flight is full (or the upload must be created).
    return buf_.size() + n >= o_.part_size;
  }
  bool CommitMayBlock() const override { return true; }

  Status Commit() override {
    if (!failed_.ok()) return failed_;
    if (committed_) return FailedPrecondition("blob already committed");
    if (upload_id_.empty()) {  // smaller than one part: one PUT
      if (Status s = client_->Put(key_, std::move(buf_)); !s.ok()) return Fail(s);
      committed_ = true;
      return Status::Ok();
    }
    if (!buf_.empty()) {
      if (Status s = SendPart(std::move(buf_)); !s.ok()) return Fail(s);
    }
    if (Status s = Drain(); !s.ok()) return Fail(s);
    if (Status s = client_->CompleteMultipart(key_, upload_id_, etags_); !s.ok()) return Fail(s);
    committed_ = true;  // the upload is complete: nothing left to abort
    // Some servers (Ceph RGW) answer the completion with an empty ETag: check what was stored.
    TAMGA_ASSIGN_OR_RETURN(S3Head head, client_->Head(key_));
    if (head.size != total_) {
      return Internal("S3 stored " + std::to_string(head.size) + " bytes of " + std::to_string(total_) +
                      " for " + key_);
    }
    return Status::Ok();
  }

 private:
  Status Fail(Status s) {
    failed_ = s;
    return s;
  }

  Status SendPart(std::string part) {
    if (upload_id_.empty()) {
      TAMGA_ASSIGN_OR_RETURN(upload_id_, client_->CreateMultipart(key_));
    }
    if (next_part_ > 10000) return InvalidArgument("blob too large: more than 10,000 parts");
    while (static_cast<int>(inflight_.size()) >= std::max(o_.parallel_parts, 1)) {
      TAMGA_RETURN_IF_ERROR(TakeOldest());
    }
    int n = next_part_++;
    inflight_.push_back({n, std::async(std::launch::async, [c = client_, key = key_, id = upload_id_, n,
                                                            p = std::move(part)]() mutable {
                           return c->UploadPart(key, id, n, std::move(p));
                         })});
    return Status::Ok();
  }

  Status TakeOldest() {
    auto [n, fut] = std::move(inflight_.front());
    inflight_.pop_front();
    Result<std::string> etag = fut.get();
    if (!etag.ok()) return etag.status();
    etags_.emplace_back(n, *etag);
    return Status::Ok();
  }

  Status Drain() {
    Status first = Status::Ok();
    while (!inflight_.empty()) {
      Status s = TakeOldest();
      if (first.ok() && !s.ok()) first = s;
    }
    return first;
  }

  // Shared: a transfer still in flight (a download the server drains at shutdown) keeps the client alive.
  std::shared_ptr<S3Client> client_;
  std::string key_;
  S3BlobStore::Options o_;
  std::string buf_;
  std::string upload_id_;
  int next_part_ = 1;
  int64_t total_ = 0;
  std::deque<std::pair<int, std::future<Result<std::string>>>> inflight_;
  std::vector<std::pair<int, std::string>> etags_;
  Status failed_ = Status::Ok();
  bool committed_ = false;
};

class S3Reader final : public BlobReader {
 public:
  S3Reader(std::shared_ptr<S3Client> client, std::string key, S3Head head, size_t chunk)
      : client_(std::move(client)),
        key_(std::move(key)),
        head_(std::move(head)),
        chunk_(static_cast<int64_t>(chunk)) {}
  ~S3Reader() override {
    if (ahead_.valid()) ahead_.wait();
  }

  int64_t size() const override { return head_.size; }
  bool ReadReady() const override {
    if (pos_in_buf_ < buf_.size() || next_ >= head_.size) return true;
    return ahead_.valid() && ahead_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

  Result<size_t> Read(char* out, size_t n) override {
    if (pos_in_buf_ == buf_.size()) {
      if (next_ >= head_.size) return size_t{0};
      TAMGA_ASSIGN_OR_RETURN(buf_, Next());
      pos_in_buf_ = 0;
    }
    size_t take = std::min(n, buf_.size() - pos_in_buf_);
    std::copy_n(buf_.data() + pos_in_buf_, take, out);
    pos_in_buf_ += take;
    return take;
  }

  Status SkipTo(int64_t offset) override {
    if (ahead_.valid()) ahead_.wait();
    ahead_ = {};
    buf_.clear();
    pos_in_buf_ = 0;
    next_ = std::clamp<int64_t>(offset, 0, head_.size);
    return Status::Ok();
  }

 private:
  std::future<Result<std::string>> Fetch(int64_t offset) {
    int64_t len = std::min(chunk_, head_.size - offset);
    return std::async(std::launch::async, [c = client_, key = key_, etag = head_.etag, offset, len] {
      return c->GetRange(key, offset, len, etag);
    });
  }

  // The chunk at next_, and the one after it requested in the background.
  Result<std::string> Next() {
    std::future<Result<std::string>> now = ahead_.valid() ? std::move(ahead_) : Fetch(next_);
    int64_t len = std::min(chunk_, head_.size - next_);
    next_ += len;
    if (next_ < head_.size) ahead_ = Fetch(next_);
    return now.get();
  }

  // Shared: a transfer still in flight (a download the server drains at shutdown) keeps the client alive.
  std::shared_ptr<S3Client> client_;
  std::string key_;
  S3Head head_;
  int64_t chunk_;
  int64_t next_ = 0;  // offset of the first byte not yet fetched (or being fetched ahead)
  std::string buf_;
  size_t pos_in_buf_ = 0;
  std::future<Result<std::string>> ahead_;
};

}  // namespace

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::Create(const Options& options, S3Config config,
                                                         Clock* clock) {
  if (options.part_size < (5u << 20)) return InvalidArgument("S3 parts must be at least 5 MiB");
  auto client = std::make_shared<S3Client>(std::move(config), clock);
  TAMGA_RETURN_IF_ERROR(client->CheckBucket());
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(options, std::move(client)));
}

Result<std::string> S3BlobStore::Key(const std::string& path, bool allow_root) const {
  TAMGA_ASSIGN_OR_RETURN(std::string clean, ValidateArtifactPath(path, allow_root));
  std::string key = client_->KeyOf(clean);
  if (key.size() > 1024) return InvalidArgument("Invalid path: longer than S3's 1024-byte key limit");
  return key;
}

Result<std::unique_ptr<BlobWriter>> S3BlobStore::OpenWriter(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  return std::unique_ptr<BlobWriter>(new S3Writer(client_, key, options_));
}

Result<std::unique_ptr<BlobReader>> S3BlobStore::OpenReader(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  auto head = client_->Head(key);
  if (!head.ok()) {
    if (head.status().code() != StatusCode::kNotFound) return head.status();
    TAMGA_ASSIGN_OR_RETURN(auto below, ListAll(key, 1));
    if (!below.empty()) return InvalidArgument("Artifact '" + path + "' is not a file");
    return NotFound("Artifact '" + path + "' does not exist");
  }
  return std::unique_ptr<BlobReader>(new S3Reader(client_, key, std::move(*head), options_.read_chunk));
}

Result<bool> S3BlobStore::Exists(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  auto head = client_->Head(key);
  if (head.ok()) return true;
  if (head.status().code() == StatusCode::kNotFound) return false;
  return head.status();
}

Result<std::vector<S3Object>> S3BlobStore::ListAll(const std::string& dir_key, size_t limit) {
  std::vector<S3Object> out;
  std::string prefix = dir_key.empty() ? "" : dir_key + "/";
  std::string token;
  do {
    int page = static_cast<int>(std::min<size_t>(1000, limit - out.size()));
    TAMGA_ASSIGN_OR_RETURN(S3ListPage p, client_->List(prefix, "", token, page));
    for (auto& o : p.objects) {
      if (o.key.size() > prefix.size() && o.key.back() != '/') out.push_back(std::move(o));
    }
    token = p.truncated ? p.next_continuation_token : "";
  } while (!token.empty() && out.size() < limit);
  return out;
}

Result<std::vector<BlobEntry>> S3BlobStore::List(const std::string& dir) {
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(dir, true));
  std::string prefix = key.empty() ? "" : key + "/";
  std::vector<BlobEntry> out;
  std::string token;
  do {
    TAMGA_ASSIGN_OR_RETURN(S3ListPage p, client_->List(prefix, "/", token));
    for (const auto& o : p.objects) {
      // Folder markers ("dir/", written by some tools) are not files.
      if (o.key.size() <= prefix.size() || o.key.back() == '/') continue;
      out.push_back({o.key.substr(prefix.size()), false, o.size});
    }
    for (const auto& cp : p.common_prefixes) {
      if (cp.size() <= prefix.size() + 1) continue;
      out.push_back({cp.substr(prefix.size(), cp.size() - prefix.size() - 1), true, 0});
    }
    token = p.truncated ? p.next_continuation_token : "";
  } while (!token.empty());
  if (out.empty() && key != client_->KeyOf("")) return NotFound("Directory '" + dir + "' does not exist");
  std::sort(out.begin(), out.end(), [](const BlobEntry& a, const BlobEntry& b) { return a.name < b.name; });
  return out;
}

Status S3BlobStore::Delete(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  bool found = false;
  auto head = client_->Head(key);
  if (head.ok()) {
    TAMGA_RETURN_IF_ERROR(client_->DeleteKeys({key}));
    found = true;
  } else if (head.status().code() != StatusCode::kNotFound) {
    return head.status();
  }
  // A folder: every key below it, 1000 per request (listing again from the start: deleted keys are gone).
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(auto page, ListAll(key, 1000));
    if (page.empty()) break;
    std::vector<std::string> keys;
    for (const auto& o : page) keys.push_back(o.key);
    TAMGA_RETURN_IF_ERROR(client_->DeleteKeys(keys));
    found = true;
  }
  if (!found) return NotFound("Artifact '" + path + "' does not exist");
  return Status::Ok();
}

Status S3BlobStore::CopyObject(const std::string& from_key, int64_t size, const std::string& to_key) {
  if (size <= kMaxSingleCopy) return client_->Copy(from_key, to_key);
  TAMGA_ASSIGN_OR_RETURN(std::string id, client_->CreateMultipart(to_key));
  std::vector<std::pair<int, std::string>> etags;
  int n = 1;
  for (int64_t first = 0; first < size; first += kCopyPartSize, ++n) {
    int64_t last = std::min(size, first + kCopyPartSize) - 1;
    auto etag = client_->UploadPartCopy(to_key, id, n, from_key, first, last);
    if (!etag.ok()) {
      (void)client_->AbortMultipart(to_key, id);
      return etag.status();
    }
    etags.emplace_back(n, *etag);
  }
  Status s = client_->CompleteMultipart(to_key, id, etags);
  if (!s.ok()) (void)client_->AbortMultipart(to_key, id);
  return s;
}

Status S3BlobStore::CopyTree(const std::string& from, const std::string& to) {
  TAMGA_ASSIGN_OR_RETURN(std::string from_key, Key(from, false));
  TAMGA_ASSIGN_OR_RETURN(std::string to_key, Key(to, false));
  if (to_key == from_key || to_key.rfind(from_key + "/", 0) == 0) {
    return InvalidArgument("cannot copy '" + from + "' into itself");
  }
  auto to_head = client_->Head(to_key);
  if (to_head.ok()) return AlreadyExists("Artifact '" + to + "' already exists");
  if (to_head.status().code() != StatusCode::kNotFound) return to_head.status();
  TAMGA_ASSIGN_OR_RETURN(auto to_below, ListAll(to_key, 1));
  if (!to_below.empty()) return AlreadyExists("Artifact '" + to + "' already exists");

  auto head = client_->Head(from_key);
  if (head.ok()) return CopyObject(from_key, head->size, to_key);
  if (head.status().code() != StatusCode::kNotFound) return head.status();
  TAMGA_ASSIGN_OR_RETURN(auto objects, ListAll(from_key));
  if (objects.empty()) return NotFound("Artifact '" + from + "' does not exist");
  // Server-side copies, a few at a time.
  std::deque<std::future<Status>> inflight;
  Status first = Status::Ok();
  auto take = [&] {
    Status s = inflight.front().get();
    inflight.pop_front();
    if (first.ok() && !s.ok()) first = s;
  };
  for (const auto& o : objects) {
    if (static_cast<int>(inflight.size()) >= std::max(options_.parallel_copies, 1)) take();
    if (!first.ok()) break;
    std::string dest = to_key + o.key.substr(from_key.size());
    inflight.push_back(std::async(std::launch::async, [this, src = o.key, size = o.size, dest] {
      return CopyObject(src, size, dest);
    }));
  }
  while (!inflight.empty()) take();
  return first;
}

Result<DirectMultipart::Created> S3BlobStore::CreateDirectUpload(const std::string& path, int num_parts) {
  if (num_parts < 1 || num_parts > 10000) return InvalidArgument("num_parts must be between 1 and 10000");
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  Created out;
  TAMGA_ASSIGN_OR_RETURN(out.upload_id, client_->CreateMultipart(key));
  for (int n = 1; n <= num_parts; ++n) {
    out.part_urls.push_back(client_->PresignUploadPart(key, out.upload_id, n, 3600));
  }
  return out;
}

Status S3BlobStore::CompleteDirectUpload(const std::string& path, const std::string& upload_id,
                                         const std::vector<std::pair<int, std::string>>& part_etags) {
  if (upload_id.empty() || upload_id.size() > 1024) return InvalidArgument("Invalid upload_id");
  if (part_etags.empty() || part_etags.size() > 10000)
    return InvalidArgument("parts must list 1 to 10000 parts");
  for (size_t i = 0; i < part_etags.size(); ++i) {
    if (part_etags[i].first != static_cast<int>(i) + 1 || part_etags[i].second.empty() ||
        part_etags[i].second.size() > 256) {
      return InvalidArgument("parts must be numbered 1..n in order, each with its etag");
    }
  }
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  // An unknown upload id is the caller's mistake (404), not the server's (some gateways answer 500).
  TAMGA_RETURN_IF_ERROR(client_->CheckUpload(key, upload_id));
  return client_->CompleteMultipart(key, upload_id, part_etags);
}

Status S3BlobStore::AbortDirectUpload(const std::string& path, const std::string& upload_id) {
  if (upload_id.empty() || upload_id.size() > 1024) return InvalidArgument("Invalid upload_id");
  TAMGA_ASSIGN_OR_RETURN(std::string key, Key(path, false));
  TAMGA_RETURN_IF_ERROR(client_->CheckUpload(key, upload_id));
  return client_->AbortMultipart(key, upload_id);
}

}  // namespace tamga

#include "data/client/data_remote.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/json_parse.h"
#include "data/object_pack.h"
#include "net/http_client.h"

namespace tamga {

Status StatusFromHttp(int status, const std::string& body) {
  std::string message = body.substr(0, 500);
  std::string error_code;
  auto j = ParseJson(body);
  if (j.ok() && j->is_object() && j->contains("message") && (*j)["message"].is_string())
    message = (*j)["message"].get<std::string>();
  if (j.ok() && j->is_object() && j->contains("error_code") && (*j)["error_code"].is_string())
    error_code = (*j)["error_code"].get<std::string>();
  // MLflow's error codes say more than the HTTP status (an existing resource is a 400).
  static const std::pair<const char*, StatusCode> kCodes[] = {
      {"RESOURCE_ALREADY_EXISTS", StatusCode::kAlreadyExists},
      {"RESOURCE_DOES_NOT_EXIST", StatusCode::kNotFound},
      {"INVALID_STATE", StatusCode::kFailedPrecondition},
      {"PERMISSION_DENIED", StatusCode::kPermissionDenied},
      {"UNAUTHENTICATED", StatusCode::kUnauthenticated},
      {"RESOURCE_EXHAUSTED", StatusCode::kResourceExhausted},
      {"TEMPORARILY_UNAVAILABLE", StatusCode::kUnavailable},
  };
  for (const auto& [name, c] : kCodes) {
    if (error_code == name) return Status(c, message);
  }
  StatusCode code = StatusCode::kInternal;
  switch (status) {
    case 400:
      code = StatusCode::kInvalidArgument;
      break;
    case 401:
      code = StatusCode::kUnauthenticated;
      break;
    case 403:
      code = StatusCode::kPermissionDenied;
      break;
    case 404:
      code = StatusCode::kNotFound;
      break;
    case 409:
      code = StatusCode::kAlreadyExists;
      break;
    case 412:
      code = StatusCode::kFailedPrecondition;
      break;
    case 413:
      code = StatusCode::kPayloadTooLarge;
      break;
    case 429:
    case 502:
    case 503:
    case 504:
      code = StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  if (message.empty()) message = "the server answered HTTP " + std::to_string(status);
  return Status(code, message);
}

namespace {

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

// Runs `call` with retries for transient failures: 1 s, 2 s, 4 s ... between attempts.
template <typename Fn>
auto WithRetries(int retries, Fn call) -> decltype(call()) {
  for (int attempt = 0;; ++attempt) {
    auto r = call();
    if (r.ok() || attempt >= retries || !Retryable(r.status())) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 << std::min(attempt, 4)));
  }
}

}  // namespace

Result<nlohmann::json> DataRemote::Call(const std::string& method, const std::string& path,
                                        const nlohmann::json& body) {
  return WithRetries(o_.retries, [&]() -> Result<nlohmann::json> {
    HttpClientRequest req;
    req.method = method;
    req.url = o_.base_url + path;
    req.timeout_ms = o_.timeout_ms;
    if (method != "GET") {
      req.body = body.dump();
      req.headers.push_back({"Content-Type", "application/json"});
    }
    if (o_.authorize) o_.authorize(&req);
    TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
    if (res.status / 100 != 2) return StatusFromHttp(res.status, res.body);
    return ParseJson(res.body);
  });
}

Status DataRemote::EnsureDataset(const std::string& name) {
  auto r = Call("POST", "/api/2.0/tamga/datasets/create", {{"name", name}});
  if (r.ok() || r.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return r.status();
}

Result<std::vector<std::string>> DataRemote::Missing(const std::string& dataset,
                                                     const std::vector<std::string>& digests) {
  std::vector<std::string> out;
  constexpr size_t kPerCall = 50000;
  for (size_t start = 0; start < digests.size(); start += kPerCall) {
    std::vector<std::string> part(
        digests.begin() + static_cast<ptrdiff_t>(start),
        digests.begin() + static_cast<ptrdiff_t>(std::min(digests.size(), start + kPerCall)));
    TAMGA_ASSIGN_OR_RETURN(auto j, Call("POST", "/api/2.0/tamga/datasets/objects/missing",
                                        {{"name", dataset}, {"digests", part}}));
    if (!j.contains("missing") || !j["missing"].is_array())
      return Internal("unexpected missing-check answer");
    for (const auto& g : j["missing"])
      if (g.is_string()) out.push_back(g.get<std::string>());
  }
  return out;
}

std::vector<std::vector<DatasetObject>> DataRemote::Packs(const std::vector<DatasetObject>& objects) const {
  std::vector<std::vector<DatasetObject>> packs;
  std::vector<DatasetObject> cur;
  int64_t cur_bytes = 0;
  for (const auto& o : objects) {
    if (!cur.empty() &&
        (cur_bytes + o.size > o_.pack_bytes || static_cast<int64_t>(cur.size()) >= o_.pack_objects)) {
      packs.push_back(std::move(cur));
      cur.clear();
      cur_bytes = 0;
    }
    cur.push_back(o);
    cur_bytes += o.size;
  }
  if (!cur.empty()) packs.push_back(std::move(cur));
  return packs;
}

Status DataRemote::RunPacks(const std::vector<std::vector<DatasetObject>>& packs,
                            const std::function<Status(const std::vector<DatasetObject>&)>& one) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first = Status::Ok();
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < packs.size() && !failed.load(); i = next.fetch_add(1)) {
      Status s = WithRetries(o_.retries, [&]() -> Result<bool> {
                   TAMGA_RETURN_IF_ERROR(one(packs[i]));
                   return true;
                 }).status();
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
        failed = true;
      }
    }
  };
  int n = std::max(1, std::min<int>(o_.jobs, static_cast<int>(packs.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return first;
}

namespace {

// Reads a pack from cached object files: header, bytes, header, bytes ...
class PackReader {
 public:
  PackReader(const std::vector<DatasetObject>& objects, LocalCache* cache, Progress* progress)
      : objects_(objects), cache_(cache), progress_(progress) {}
  ~PackReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  static int64_t Size(const std::vector<DatasetObject>& objects) {
    int64_t n = 0;
    for (const auto& o : objects)
      n += static_cast<int64_t>(PackRecordHeader(o.digest, o.size).size()) + o.size;
    return n;
  }
  Result<size_t> Read(char* buf, size_t n) {
    size_t filled = 0;
    while (filled < n) {
      if (header_pos_ < header_.size()) {
        size_t take = std::min(n - filled, header_.size() - header_pos_);
        std::memcpy(buf + filled, header_.data() + header_pos_, take);
        header_pos_ += take;
        filled += take;
        continue;
      }
      if (fd_ >= 0 && left_ > 0) {
        ssize_t got = ::read(fd_, buf + filled,
                             static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(n - filled))));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
          return Internal("cached object " + objects_[next_ - 1].digest + " is shorter than its size");
        left_ -= got;
        filled += static_cast<size_t>(got);
        Count(got, left_ == 0 ? 1 : 0);
        continue;
      }
      if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
      }
      if (next_ == objects_.size()) break;
      const DatasetObject& o = objects_[next_++];
      header_ = PackRecordHeader(o.digest, o.size);
      header_pos_ = 0;
      left_ = o.size;
      fd_ = ::open(cache_->ObjectPath(o.digest).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0)
        return NotFound("object " + o.digest + " is not in the local cache (run `tamga data add` again)");
      if (o.size == 0) Count(0, 1);
    }
    return filled;
  }
  // Takes back what this attempt counted (a failed pack is sent again from the start).
  void Uncount() { progress_->Add(-bytes_, -files_); }

 private:
  void Count(int64_t bytes, int64_t files) {
    bytes_ += bytes;
    files_ += files;
    progress_->Add(bytes, files);
  }
  const std::vector<DatasetObject>& objects_;
  LocalCache* cache_;
  Progress* progress_;
  int64_t bytes_ = 0, files_ = 0;
  size_t next_ = 0;
  std::string header_;
  size_t header_pos_ = 0;
  int fd_ = -1;
  int64_t left_ = 0;
};

// Writes a downloaded pack into the cache, object by object, each checked before it is published.
class CacheSink final : public PackSink {
 public:
  CacheSink(const std::vector<DatasetObject>& expected, LocalCache* cache, Progress* progress)
      : expected_(expected), cache_(cache), progress_(progress) {}
  Status Begin(const std::string& digest, int64_t size) override {
    if (next_ >= expected_.size() || expected_[next_].digest != digest || expected_[next_].size != size)
      return InvalidArgument("the server sent object " + digest + " where another was expected");
    ++next_;
    TAMGA_ASSIGN_OR_RETURN(writer_, cache_->NewWriter(digest, size));
    return Status::Ok();
  }
  Status Data(std::string_view bytes) override {
    bytes_ += static_cast<int64_t>(bytes.size());
    progress_->Add(static_cast<int64_t>(bytes.size()), 0);
    return writer_->Append(bytes);
  }
  Status End() override {
    TAMGA_RETURN_IF_ERROR(writer_->Commit());
    writer_.reset();
    ++files_;
    progress_->Add(0, 1);
    return Status::Ok();
  }
  bool complete() const { return next_ == expected_.size() && !writer_; }
  void Uncount() { progress_->Add(-bytes_, -files_); }

 private:
  const std::vector<DatasetObject>& expected_;
  LocalCache* cache_;
  Progress* progress_;
  size_t next_ = 0;
  int64_t bytes_ = 0, files_ = 0;
  std::unique_ptr<LocalCache::Writer> writer_;
};

std::string QueryEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

Status DataRemote::UploadPack(const std::string& dataset, const std::vector<DatasetObject>& pack,
                              LocalCache* cache, Progress* progress) {
  PackReader reader(pack, cache, progress);
  HttpClientRequest req;
  req.method = "PUT";
  req.url = o_.base_url + "/api/2.0/tamga/datasets/objects/upload?name=" + QueryEscape(dataset);
  req.timeout_ms = o_.timeout_ms;
  req.headers.push_back({"Content-Type", "application/x-tamga-pack"});
  req.body_size = PackReader::Size(pack);
  req.body_reader = [&reader](char* buf, size_t n) { return reader.Read(buf, n); };
  if (o_.authorize) o_.authorize(&req);
  auto res = HttpCall(req);
  Status s = !res.ok()                ? res.status()
             : res->status / 100 == 2 ? Status::Ok()
                                      : StatusFromHttp(res->status, res->body);
  if (!s.ok()) reader.Uncount();  // a retried pack starts over
  return s;
}

Status DataRemote::DownloadPack(const std::string& dataset, const std::vector<DatasetObject>& pack,
                                LocalCache* cache, Progress* progress) {
  CacheSink sink(pack, cache, progress);
  PackParser parser(&sink);
  std::vector<std::string> digests;
  digests.reserve(pack.size());
  for (const auto& o : pack) digests.push_back(o.digest);
  HttpClientRequest req;
  req.method = "POST";
  req.url = o_.base_url + "/api/2.0/tamga/datasets/objects/fetch";
  req.timeout_ms = o_.timeout_ms;
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = nlohmann::json{{"name", dataset}, {"digests", digests}}.dump();
  req.on_body = [&parser](std::string_view piece) { return parser.Feed(piece); };
  if (o_.authorize) o_.authorize(&req);
  Status s = [&]() -> Status {
    TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
    if (res.status / 100 != 2) return StatusFromHttp(res.status, res.body);
    TAMGA_RETURN_IF_ERROR(parser.Finish());
    if (!sink.complete()) return Unavailable("the download ended early");
    return Status::Ok();
  }();
  if (!s.ok()) sink.Uncount();
  return s;
}

Status DataRemote::FetchObject(const std::string& dataset, const std::string& digest, LocalCache* cache) {
  return WithRetries(o_.retries,
                     [&]() -> Result<bool> {
                       TAMGA_ASSIGN_OR_RETURN(auto writer, cache->NewWriter(digest, -1));
                       HttpClientRequest req;
                       req.url = o_.base_url +
                                 "/api/2.0/tamga/datasets/objects/get?name=" + QueryEscape(dataset) +
                                 "&digest=" + QueryEscape(digest);
                       req.timeout_ms = o_.timeout_ms;
                       req.on_body = [&writer](std::string_view piece) { return writer->Append(piece); };
                       if (o_.authorize) o_.authorize(&req);
                       TAMGA_ASSIGN_OR_RETURN(auto res, HttpCall(req));
                       if (res.status / 100 != 2) return StatusFromHttp(res.status, res.body);
                       TAMGA_RETURN_IF_ERROR(writer->Commit());
                       return true;
                     })
      .status();
}

Result<DataRemote::Transfer> DataRemote::Upload(const std::string& dataset,
                                                const std::vector<DatasetObject>& objects, LocalCache* cache,
                                                Progress* progress) {
  TAMGA_RETURN_IF_ERROR(RunPacks(Packs(objects), [&](const std::vector<DatasetObject>& pack) {
    return UploadPack(dataset, pack, cache, progress);
  }));
  Transfer t;
  t.objects = static_cast<int64_t>(objects.size());
  for (const auto& o : objects) t.bytes += o.size;
  return t;
}

Result<DataRemote::Transfer> DataRemote::Download(const std::string& dataset,
                                                  const std::vector<DatasetObject>& objects,
                                                  LocalCache* cache, Progress* progress) {
  TAMGA_RETURN_IF_ERROR(RunPacks(Packs(objects), [&](const std::vector<DatasetObject>& pack) {
    return DownloadPack(dataset, pack, cache, progress);
  }));
  Transfer t;
  t.objects = static_cast<int64_t>(objects.size());
  for (const auto& o : objects) t.bytes += o.size;
  return t;
}

}  // namespace tamga

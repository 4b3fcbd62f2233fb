#include "serving/monitoring/payload_log.h"

#include <algorithm>
#include <ctime>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "serving/protocols/json_tensor.h"

namespace tamga {
namespace {

constexpr size_t kMaxBatchBytes = size_t{8} << 20;
constexpr int kMaxFilesRead = 500;
constexpr size_t kMaxBytesRead = size_t{256} << 20;  // per query: a filter that matches little stays bounded

// Endpoint names become path segments: DNS-label characters only (deployment names always are).
bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return s != "." && s != "..";
}

std::string Hour(int64_t ms) {  // "yyyy-mm-dd/hh" (UTC)
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d/%H", std::gmtime(&t));
  return buf;
}

void WriteTensors(JsonWriter& w, const std::vector<Tensor>& ts) {
  w.BeginArray();
  for (const auto& t : ts) {
    w.BeginObject();
    serving_internal::WriteTensorHead(w, t.name, t.dtype, t.shape);
    w.Key("data");
    serving_internal::WriteElements(w, t, /*flat=*/true);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string EncodePayloadRecord(const PayloadRecord& r) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.FieldInt("ts", r.ts_ms);
  w.Field("model", r.model);
  w.Field("variant", r.variant);
  w.Field("version", r.version);
  w.Field("protocol", r.protocol);
  w.Field("outcome", r.ok ? "success" : "failure");
  w.FieldDouble("latency_ms", r.latency_ms);
  w.Key("inputs");
  WriteTensors(w, r.inputs ? *r.inputs : std::vector<Tensor>{});
  if (r.outputs) {
    w.Key("outputs");
    WriteTensors(w, *r.outputs);
  }
  w.EndObject();
  return out;
}

PayloadLogger::PayloadLogger(Options options, BlobStore* blobs, MetricsRegistry* metrics)
    : options_(options), blobs_(blobs) {
  logged_ = metrics->Counter("tamga_serving_payloads_logged_total",
                             "Request/response pairs written to the payload log");
  dropped_ = metrics->Counter("tamga_serving_payloads_dropped_total",
                              "Sampled pairs not logged: too large, buffer full, or the write failed");
  thread_ = std::thread([this] {
    UniqueLock lock(&mu_);
    while (!stop_) {
      cv_.wait_for(lock.native(), std::chrono::milliseconds(std::max<int64_t>(50, options_.flush_ms)));
      mu_.AssertHeld();
      if (stop_) break;
      std::vector<std::pair<std::string, Buffer>> out;
      FlushLocked(&out);
      lock.native().unlock();
      {
        MutexLock w(&write_mu_);
        for (const auto& [model, b] : out) Write(model, b);
      }
      lock.native().lock();
    }
  });
}

PayloadLogger::~PayloadLogger() { Shutdown(); }

void PayloadLogger::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Flush();
}

void PayloadLogger::Configure(const std::string& model, PayloadLogOptions options) {
  MutexLock lock(&mu_);
  buffers_[model].options = options;
}

void PayloadLogger::Log(const PayloadRecord& r) {
  if (!SafeName(r.model)) return;
  std::string line = EncodePayloadRecord(r);
  std::vector<std::pair<std::string, Buffer>> out;
  {
    MutexLock lock(&mu_);
    Buffer& b = buffers_[r.model];
    if (static_cast<int64_t>(line.size()) > b.options.max_record_bytes ||
        buffered_ + line.size() > options_.max_buffered_bytes) {
      dropped_->Add({{"model", r.model}}, 1);
      return;
    }
    if (b.records == 0) b.first_ts = r.ts_ms;
    b.lines += line;
    b.lines += '\n';
    ++b.records;
    buffered_ += line.size() + 1;
    if (b.records < options_.max_batch_records && b.lines.size() < kMaxBatchBytes) return;
    FlushLocked(&out);  // a full batch: written by this caller
  }
  MutexLock w(&write_mu_);
  for (const auto& [model, b] : out) Write(model, b);
}

void PayloadLogger::FlushLocked(std::vector<std::pair<std::string, Buffer>>* out) {
  for (auto& [model, b] : buffers_) {
    if (b.records == 0) continue;
    Buffer taken;
    taken.lines.swap(b.lines);
    taken.records = b.records;
    taken.first_ts = b.first_ts;
    buffered_ -= std::min(buffered_, taken.lines.size());
    b.records = 0;
    taken.seq = ++seq_;
    out->emplace_back(model, std::move(taken));
  }
}

void PayloadLogger::Write(const std::string& model, const Buffer& b) {
  std::string path = "payload-logs/" + model + "/" + Hour(b.first_ts) + "/" + std::to_string(b.first_ts) +
                     "-" + std::to_string(b.seq) + ".jsonl";
  Status s = [&]() -> Status {
    TAMGA_ASSIGN_OR_RETURN(auto writer, blobs_->OpenWriter(path));
    TAMGA_RETURN_IF_ERROR(writer->Append(b.lines));
    return writer->Commit();
  }();
  if (!s.ok()) {
    dropped_->Add({{"model", model}}, static_cast<double>(b.records));
    TAMGA_LOG(kWarn, "cannot write a payload log batch", {{"model", model}, {"error", s.message()}});
    return;
  }
  logged_->Add({{"model", model}}, static_cast<double>(b.records));
}

void PayloadLogger::Flush() {
  std::vector<std::pair<std::string, Buffer>> out;
  {
    MutexLock lock(&mu_);
    FlushLocked(&out);
  }
  MutexLock w(&write_mu_);
  for (const auto& [model, b] : out) Write(model, b);
}

Result<std::vector<std::string>> PayloadLogger::Query(const PayloadQuery& q) {
  if (!SafeName(q.model)) return NotFound("no payload log for '" + q.model.substr(0, 64) + "'");
  if (q.from_ms > q.to_ms) return InvalidArgument("'from' is after 'to'");
  Flush();
  std::vector<std::string> out;
  int files = 0;
  size_t bytes = 0;
  std::string base = "payload-logs/" + q.model;
  auto listed = blobs_->List(base);
  if (!listed.ok() && listed.status().code() == StatusCode::kNotFound) return out;  // nothing logged yet
  TAMGA_ASSIGN_OR_RETURN(auto days, std::move(listed));
  std::sort(days.begin(), days.end(), [](const BlobEntry& a, const BlobEntry& b) { return a.name < b.name; });
  std::string from_hour = Hour(std::max<int64_t>(0, q.from_ms)),
              to_hour = Hour(std::min<int64_t>(q.to_ms, int64_t{253402300799000}));
  for (const auto& day : days) {
    if (!day.is_dir || day.name < from_hour.substr(0, 10) || day.name > to_hour.substr(0, 10)) continue;
    TAMGA_ASSIGN_OR_RETURN(auto hours, blobs_->List(base + "/" + day.name));
    std::sort(hours.begin(), hours.end(),
              [](const BlobEntry& a, const BlobEntry& b) { return a.name < b.name; });
    for (const auto& hour : hours) {
      std::string h = day.name + "/" + hour.name;
      if (!hour.is_dir || h < from_hour || h > to_hour) continue;
      TAMGA_ASSIGN_OR_RETURN(auto batches, blobs_->List(base + "/" + h));
      // "<first ts>-<seq>.jsonl": by the timestamp (numerically: its width may differ), then the sequence.
      auto key = [](const std::string& n) { return std::make_pair(n.find('-'), n); };
      std::sort(batches.begin(), batches.end(),
                [&key](const BlobEntry& a, const BlobEntry& b) { return key(a.name) < key(b.name); });
      for (const auto& f : batches) {
        if (f.is_dir) continue;
        if (++files > kMaxFilesRead || bytes > kMaxBytesRead) return out;
        TAMGA_ASSIGN_OR_RETURN(auto reader, blobs_->OpenReader(base + "/" + h + "/" + f.name));
        std::string text;
        char buf[65536];
        for (;;) {
          TAMGA_ASSIGN_OR_RETURN(size_t n, reader->Read(buf, sizeof buf));
          if (n == 0) break;
          text.append(buf, n);
        }
        bytes += text.size();
        size_t pos = 0;
        while (pos < text.size()) {
          size_t nl = text.find('\n', pos);
          std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
          pos = nl == std::string::npos ? text.size() : nl + 1;
          auto j = ParseJson(line);
          if (!j.ok() || !j->is_object() || !(*j)["ts"].is_number_integer()) continue;
          int64_t ts = (*j)["ts"].get<int64_t>();
          if (ts < q.from_ms || ts > q.to_ms) continue;
          if (!q.version.empty() &&
              (!(*j)["version"].is_string() || (*j)["version"].get<std::string>() != q.version))
            continue;
          out.push_back(std::move(line));
          if (static_cast<int64_t>(out.size()) >= q.max_results) return out;
        }
      }
    }
  }
  return out;
}

}  // namespace tamga

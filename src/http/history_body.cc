#include "http/history_body.h"

#include <algorithm>
#include <cstring>

#include "http/mlflow_json.h"

namespace tamga {
namespace {

class MetricHistorySource final : public BodySource {
 public:
  MetricHistorySource(std::string key, std::vector<HistoryPoint> points, std::string token)
      : points_(std::move(points)), token_(std::move(token)) {
    prefix_ = HistoryPointPrefix(key);
    buf_ = points_.empty() ? "{" : "{\"metrics\":[";
  }

  std::optional<int64_t> size() const override { return std::nullopt; }

  Result<size_t> Read(char* out, size_t n) override {
    while (buf_.size() - pos_ < n && !done_) Refill();
    size_t take = std::min(n, buf_.size() - pos_);
    std::memcpy(out, buf_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  void Refill() {
    buf_.erase(0, pos_);
    pos_ = 0;
    size_t end = std::min(points_.size(), next_ + 1024);
    for (; next_ < end; ++next_) {
      if (next_) buf_.push_back(',');
      AppendHistoryPoint(&buf_, prefix_, points_[next_]);
    }
    if (next_ == points_.size()) {
      AppendHistoryTail(&buf_, !points_.empty(), token_);
      done_ = true;
    }
  }

  std::vector<HistoryPoint> points_;
  std::string token_;
  std::string prefix_;
  std::string buf_;
  size_t pos_ = 0;
  size_t next_ = 0;
  bool done_ = false;
};

}  // namespace

std::shared_ptr<BodySource> MetricHistoryBody(std::string key, std::vector<HistoryPoint> points,
                                              std::string next_page_token) {
  return std::make_shared<MetricHistorySource>(std::move(key), std::move(points), std::move(next_page_token));
}

}  // namespace tamga

// TrackingService: metric history reads (get-history, get-history-bulk, get-history-bulk-interval) and
// dataset summaries, with MLflow's rules for ordering, sampling and limits.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <set>

#include "core/ids.h"
#include "core/json_writer.h"
#include "tracking/tracking_service.h"

namespace tamga {
namespace {

std::string EncodeHistoryToken(const HistoryCursor& c) {
  uint64_t bits;
  std::memcpy(&bits, &c.value, sizeof(bits));
  return Base64Encode("h1:" + std::to_string(c.step) + ":" + std::to_string(c.timestamp) + ":" +
                      std::to_string(bits));
}

Result<std::optional<HistoryCursor>> DecodeHistoryToken(const std::string& token) {
  if (token.empty()) return std::optional<HistoryCursor>();
  std::string text;
  Status bad = InvalidArgument("Invalid page token");
  if (token.size() > 200 || !Base64Decode(token, &text) || text.rfind("h1:", 0) != 0) return bad;
  HistoryCursor c;
  uint64_t bits = 0;
  long long step = 0, ts = 0;
  unsigned long long b = 0;
  if (std::sscanf(text.c_str() + 3, "%lld:%lld:%llu", &step, &ts, &b) != 3) return bad;
  bits = b;
  c.step = step;
  c.timestamp = ts;
  std::memcpy(&c.value, &bits, sizeof(bits));
  return std::optional<HistoryCursor>(c);
}

// MLflow's _get_sampled_steps_from_steps, including its quirk of comparing the absolute index with the
// number of steps in range (so a window that starts late samples fewer steps); `all` is sorted.
std::set<int64_t> SampleSteps(int64_t start, int64_t end, int64_t max_results,
                              const std::vector<int64_t>& all) {
  auto first = std::lower_bound(all.begin(), all.end(), start);
  auto last = std::upper_bound(all.begin(), all.end(), end);
  size_t start_idx = static_cast<size_t>(first - all.begin());
  size_t end_idx = static_cast<size_t>(last - all.begin());
  std::set<int64_t> out;
  if (end_idx <= start_idx) return out;
  size_t num_steps = end_idx - start_idx;
  if (static_cast<int64_t>(num_steps) <= max_results) {
    out.insert(first, last);
    return out;
  }
  double interval = static_cast<double>(num_steps) / static_cast<double>(max_results);
  for (int64_t i = 0; i < max_results; ++i) {
    size_t idx = start_idx + static_cast<size_t>(static_cast<double>(i) * interval);
    if (idx < num_steps) out.insert(all[idx]);
  }
  out.insert(all[end_idx - 1]);
  return out;
}

// Orders values with NaN after every number, so sorts stay strict weak orderings.
bool ValueLess(double a, double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return !na && nb;
  return a < b;
}

}  // namespace

Result<MetricHistoryResponse> TrackingService::GetMetricHistory(const MetricHistoryRequest& req) {
  if (req.run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  if (req.metric_key.empty()) return InvalidArgument("Missing value for required parameter 'metric_key'");
  if (req.max_results && *req.max_results <= 0) {
    return InvalidArgument("Invalid value " + std::to_string(*req.max_results) +
                           " for parameter 'max_results' supplied. It must be a positive number.");
  }
  TAMGA_ASSIGN_OR_RETURN(auto after, DecodeHistoryToken(req.page_token));
  TAMGA_ASSIGN_OR_RETURN(HistoryPage page, store_->GetMetricHistory(req.run_id, req.metric_key, after,
                                                                    req.max_results.value_or(0)));
  MetricHistoryResponse out;
  out.key = req.metric_key;
  out.metrics = std::move(page.points);
  if (page.next) out.next_page_token = EncodeHistoryToken(*page.next);
  return out;
}

Result<std::vector<RunMetricPoint>> TrackingService::GetMetricHistoryBulk(const BulkHistoryRequest& req) {
  if (req.run_ids.empty()) {
    return InvalidArgument("GetMetricHistoryBulk request must specify at least one run_id.");
  }
  if (req.run_ids.size() > kMaxBulkHistoryRuns) {
    return InvalidArgument("GetMetricHistoryBulk request cannot specify more than " +
                           std::to_string(kMaxBulkHistoryRuns) + " run_ids. Received " +
                           std::to_string(req.run_ids.size()) + " run_ids.");
  }
  if (!req.metric_key) return InvalidArgument("GetMetricHistoryBulk request must specify a metric_key.");
  int64_t limit = std::min<int64_t>(req.max_results, kMaxBulkHistoryResults);
  std::vector<std::string> run_ids = req.run_ids;
  std::sort(run_ids.begin(), run_ids.end());
  run_ids.erase(std::unique(run_ids.begin(), run_ids.end()), run_ids.end());
  std::vector<RunMetricPoint> out;
  for (const auto& run_id : run_ids) {  // ordered by run id, then (timestamp, step, value)
    if (limit <= 0 || static_cast<int64_t>(out.size()) >= limit) break;
    auto page = store_->GetMetricHistory(run_id, *req.metric_key, std::nullopt, 0);
    if (page.status().code() == StatusCode::kNotFound) continue;  // MLflow's SQL store: no rows
    TAMGA_RETURN_IF_ERROR(page.status());
    std::vector<HistoryPoint>& points = page->points;
    std::stable_sort(points.begin(), points.end(), [](const HistoryPoint& a, const HistoryPoint& b) {
      if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
      if (a.step != b.step) return a.step < b.step;
      return ValueLess(a.value, b.value);
    });
    for (const auto& p : points) {
      if (static_cast<int64_t>(out.size()) >= limit) break;
      out.push_back({run_id, MetricPoint{*req.metric_key, p.value, p.timestamp, p.step}});
    }
  }
  return out;
}

Result<std::vector<RunMetricPoint>> TrackingService::GetMetricHistoryBulkInterval(
    const BulkIntervalRequest& req) {
  if (req.run_ids.empty()) {
    return InvalidArgument(
        "Missing value for required parameter 'run_ids'. See the API docs for more information about request "
        "parameters.");
  }
  if (req.run_ids.size() > kMaxBulkHistoryRuns) {
    return InvalidArgument("GetMetricHistoryBulkInterval request must specify at most " +
                           std::to_string(kMaxBulkHistoryRuns) + " run_ids. Received " +
                           std::to_string(req.run_ids.size()) + " run_ids.");
  }
  if (req.metric_key.empty()) {
    return InvalidArgument(
        "Missing value for required parameter 'metric_key'. See the API docs for more information about "
        "request parameters.");
  }
  if (req.max_results < 1 || req.max_results > kMaxBulkIntervalPerRun) {
    return InvalidArgument("max_results must be between 1 and " + std::to_string(kMaxBulkIntervalPerRun) +
                           ". See the API docs for more information about request parameters.");
  }
  int64_t start = 0, end = 0;
  if (req.start_step && req.end_step) {
    start = *req.start_step;
    end = *req.end_step;
    if (start > end) {
      return InvalidArgument("end_step must be greater than start_step. Found start_step=" +
                             std::to_string(start) + " and end_step=" + std::to_string(end) + ".");
    }
  } else if (req.start_step || req.end_step) {
    return InvalidArgument("If either start step or end step are specified, both must be specified.");
  }
  // Pass 1, one run's history in memory at a time: the distinct steps of all runs (sampling works on the
  // steps that exist) and each run's first and last step, which are added back after sampling.
  std::vector<int64_t> all_steps, run_steps, merged;
  std::set<int64_t> ends;
  for (const auto& run_id : req.run_ids) {
    auto page = store_->GetMetricHistory(run_id, req.metric_key, std::nullopt, 0);
    if (page.status().code() == StatusCode::kNotFound) continue;
    TAMGA_RETURN_IF_ERROR(page.status());
    if (page->points.empty()) continue;
    run_steps.clear();
    for (const auto& p : page->points) {  // ordered by step
      if (run_steps.empty() || run_steps.back() != p.step) run_steps.push_back(p.step);
    }
    ends.insert(run_steps.front());
    ends.insert(run_steps.back());
    merged.clear();
    std::set_union(all_steps.begin(), all_steps.end(), run_steps.begin(), run_steps.end(),
                   std::back_inserter(merged));
    all_steps.swap(merged);
    if (all_steps.size() > kMaxBulkIntervalSteps) {
      return InvalidArgument("GetMetricHistoryBulkInterval: the runs have more than " +
                             std::to_string(kMaxBulkIntervalSteps) +
                             " distinct steps of this metric; ask for fewer runs");
    }
  }
  if (!req.start_step && !req.end_step) {
    start = 0;
    end = all_steps.empty() ? 0 : all_steps.back();
  }
  std::set<int64_t> chosen = SampleSteps(start, end, req.max_results, all_steps);
  for (int64_t s : ends) {
    if (s >= start && s <= end) chosen.insert(s);
  }
  // Pass 2, per run in request order: the points at the chosen steps, in the store's (step, timestamp,
  // value) order, at most 25000 per run.
  std::vector<RunMetricPoint> out;
  for (const auto& run_id : req.run_ids) {
    auto page = store_->GetMetricHistory(run_id, req.metric_key, std::nullopt, 0);
    if (page.status().code() == StatusCode::kNotFound) continue;
    TAMGA_RETURN_IF_ERROR(page.status());
    int64_t taken = 0;
    for (const auto& p : page->points) {
      if (taken >= kMaxBulkHistoryResults) break;
      if (!chosen.count(p.step)) continue;
      out.push_back({run_id, MetricPoint{req.metric_key, p.value, p.timestamp, p.step}});
      ++taken;
    }
  }
  return out;
}

Result<std::vector<DatasetSummary>> TrackingService::SearchDatasets(
    const std::vector<std::string>& experiment_ids) {
  if (experiment_ids.empty()) {
    return InvalidArgument("SearchDatasets request must specify at least one experiment_id.");
  }
  if (experiment_ids.size() > kMaxDatasetSearchExperiments) {
    return InvalidArgument("SearchDatasets request cannot specify more than " +
                           std::to_string(kMaxDatasetSearchExperiments) + " experiment_ids. Received " +
                           std::to_string(experiment_ids.size()) + " experiment_ids.");
  }
  return store_->SearchDatasets(experiment_ids, kMaxDatasetSummaries);
}

}  // namespace tamga

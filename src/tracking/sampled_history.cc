// Downsampled metric histories for the web UI's charts (tracking/downsample.h, docs/ui.md "Charts").
#include <algorithm>
#include <cmath>
#include <limits>

#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace tamga {

Result<std::vector<SampledSeries>> TrackingService::SampleMetrics(const SampledMetricsRequest& req) {
  if (req.run_ids.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  if (req.keys.empty()) return InvalidArgument("Missing value for required parameter 'key'");
  std::vector<std::string> runs = req.run_ids, keys = req.keys;
  for (auto* v : {&runs, &keys}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  if (static_cast<int64_t>(runs.size() * keys.size()) > kMaxSampledSeries) {
    return InvalidArgument("at most " + std::to_string(kMaxSampledSeries) +
                           " series (run_id x key) per request; got " +
                           std::to_string(runs.size() * keys.size()));
  }
  if (req.points < 4 || req.points > kMaxSampledPoints) {
    return InvalidArgument("Invalid value for parameter 'points': must be between 4 and " +
                           std::to_string(kMaxSampledPoints));
  }
  double x_min = req.x_min.value_or(-std::numeric_limits<double>::infinity());
  double x_max = req.x_max.value_or(std::numeric_limits<double>::infinity());
  if (std::isnan(x_min) || std::isnan(x_max) || x_min > x_max) {
    return InvalidArgument("Invalid range: x_min must not be greater than x_max");
  }
  // On the step axis only the chunks from x_min on are read (the store skips whole chunks before it).
  std::optional<HistoryCursor> after;
  const bool by_step = req.x_axis == SampledMetricsRequest::XAxis::kStep;
  if (by_step && std::isfinite(x_min) && x_min > static_cast<double>(INT64_MIN) + 2 &&
      x_min < static_cast<double>(INT64_MAX)) {
    after = HistoryCursor{static_cast<int64_t>(std::ceil(x_min)) - 1, INT64_MAX,
                          std::numeric_limits<double>::infinity()};
  }
  std::vector<SampledSeries> out;
  std::vector<XYPoint> xy;
  for (const std::string& run_id : runs) {
    TAMGA_ASSIGN_OR_RETURN(RunInfo info, store_->GetRunInfo(run_id));
    auto x_of = [&](const HistoryPoint& p) {
      switch (req.x_axis) {
        case SampledMetricsRequest::XAxis::kStep:
          return static_cast<double>(p.step);
        case SampledMetricsRequest::XAxis::kTime:
          return static_cast<double>(p.timestamp);
        case SampledMetricsRequest::XAxis::kRelative:
          return static_cast<double>(p.timestamp) -
                 static_cast<double>(info.start_time);  // no int64 overflow
      }
      return 0.0;
    };
    for (const std::string& key : keys) {
      TAMGA_RETURN_IF_ERROR(ValidateEntityKey("metric", key));
      HistoryPage page;
      if (by_step && std::isfinite(x_min) && std::isfinite(x_max) && x_min >= -9e18 && x_max <= 9e18) {
        // A zoomed step range: only the chunks that overlap it.
        TAMGA_ASSIGN_OR_RETURN(page.points,
                               store_->GetMetricRange(run_id, key, static_cast<int64_t>(std::ceil(x_min)),
                                                      static_cast<int64_t>(std::floor(x_max))));
      } else {
        TAMGA_ASSIGN_OR_RETURN(page, store_->GetMetricHistory(run_id, key, after, 0));
      }
      SampledSeries s;
      s.run_id = run_id;
      s.key = key;
      s.run_status = info.status;
      xy.clear();
      xy.reserve(page.points.size());
      for (const HistoryPoint& p : page.points) {
        xy.push_back({x_of(p), p.value});
      }
      if (!page.points.empty()) {
        const HistoryPoint& l = page.points.back();
        s.last = XYPoint{x_of(l), l.value};
      }
      s.data = DownsampleM4(xy, x_min, x_max, req.points);
      out.push_back(std::move(s));
    }
  }
  return out;
}

Result<RunKeys> TrackingService::ListRunKeys(const std::vector<std::string>& experiment_ids,
                                             int64_t recent_runs, int64_t max_keys) {
  std::vector<std::string> ids = experiment_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > TrackingLimits::kMaxSearchExperiments) {
    return InvalidArgument("Invalid value for parameter 'experiment_ids': at most " +
                           std::to_string(TrackingLimits::kMaxSearchExperiments) + " experiments");
  }
  return store_->ListRunKeys(ids, recent_runs, max_keys);
}

}  // namespace tamga

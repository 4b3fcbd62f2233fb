#pragma once
// Parsed, validated search queries handed from the tracking domain to a MetadataStore.
// The domain's filter parser produces them; a store compiles them to its own query language with every
// user-supplied value bound as a parameter (never spliced into query text).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "storage/entities.h"

namespace tamga {

enum class FieldKind { kMetric, kParam, kTag, kAttribute, kDataset };

// Canonical attribute keys: run_id run_name status user_id artifact_uri start_time end_time
// (search_runs); name creation_time last_update_time experiment_id (search_experiments).
// Dataset keys: name digest context.
enum class CompareOp { kEq, kNe, kGt, kGe, kLt, kLe, kLike, kILike, kIn, kNotIn, kIsNull, kIsNotNull };

using CompareValue = std::variant<std::monostate, double, std::string, std::vector<std::string>>;

struct Comparison {
  FieldKind kind = FieldKind::kAttribute;
  std::string key;
  CompareOp op = CompareOp::kEq;
  CompareValue value;
};

// Which value of a metric a sort uses: the latest (MLflow's), or the lowest / highest ever logged (NaN
// ignored; the web UI's min/max columns).
enum class MetricAgg { kLast, kMin, kMax };

struct OrderKey {
  FieldKind kind = FieldKind::kAttribute;
  std::string key;
  bool ascending = true;
  MetricAgg agg = MetricAgg::kLast;  // kMetric only
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  ViewType view = ViewType::kActiveOnly;
  std::vector<Comparison> filter;  // conjunction
  std::vector<OrderKey> order;     // tie-breakers start_time DESC, run_id ASC are implicit
  int64_t offset = 0;
  int64_t max_results = 1000;
  bool count_total = false;  // also count every run the filter matches (RunPage::total)
};

struct RunPage {
  std::vector<Run> runs;
  bool has_more = false;         // a further page may exist (page was full)
  std::optional<int64_t> total;  // with RunQuery::count_total
};

}  // namespace tamga

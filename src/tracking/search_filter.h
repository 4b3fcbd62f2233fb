#pragma once
// Parser for MLflow's search filter and order_by grammar (mlflow/utils/search_utils.py semantics):
// a conjunction of `<entity>.<key> <op> <value>` clauses joined by AND; no OR, no parentheses except
// IN lists. Keys may be quoted with backticks or double quotes. Every error is InvalidArgument with a
// message in MLflow's words. Pure functions; thread-safe. Never crashes on any input (fuzzed).
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/search_query.h"

namespace tamga {

// Registered models: name (= != LIKE ILIKE), tags.<k>; order name, creation_timestamp,
// last_updated_timestamp (alias timestamp). Model versions: name, run_id (also IN), source_path,
// version_number (numeric), tags.<k>; order name, version_number, creation_timestamp,
// last_updated_timestamp. Logged models (MLflow 3.x): name, model_id, model_type, source_run_id, status
// (= != IN NOT IN, string values; the caller maps names to numbers), creation_timestamp (alias
// creation_time), last_updated_timestamp (numeric), params.<k>, tags.<k>; metrics are not supported.
enum class SearchEntity { kRuns, kExperiments, kRegisteredModels, kModelVersions, kLoggedModels };

// At most kMaxFilterComparisons comparisons (each is a join or subquery in the store) and 1000 values per IN
// list; more is InvalidArgument, not a store error.
inline constexpr size_t kMaxFilterComparisons = 40;
Result<std::vector<Comparison>> ParseSearchFilter(std::string_view filter, SearchEntity entity);
// Each element is "<identifier> [ASC|DESC]". Duplicate keys are rejected.
Result<std::vector<OrderKey>> ParseOrderBy(const std::vector<std::string>& clauses, SearchEntity entity);

// SQL LIKE semantics ('%' any run, '_' one character), optionally case-insensitive (ASCII).
bool LikeMatch(std::string_view text, std::string_view pattern, bool case_insensitive);

}  // namespace tamga

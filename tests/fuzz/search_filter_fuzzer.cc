// tracking/search_filter.h: MLflow's search filter and order_by grammar for every searchable entity, and the
// LIKE matcher. Properties: no crash or exception on any text; an accepted filter has at most
// kMaxFilterComparisons comparisons; an accepted order_by has one key per clause.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "tracking/search_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  static const SearchEntity kEntities[] = {SearchEntity::kRuns, SearchEntity::kExperiments,
                                           SearchEntity::kRegisteredModels, SearchEntity::kModelVersions,
                                           SearchEntity::kLoggedModels};
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  SearchEntity entity = kEntities[mode % 5];
  switch ((mode / 5) % 3) {
    case 0: {  // filter
      std::string_view filter = in.Rest();
      auto r = ParseSearchFilter(filter, entity);
      if (r.ok()) TAMGA_FUZZ_ASSERT(r->size() <= kMaxFilterComparisons, filter);
      break;
    }
    case 1: {  // order_by: one clause per line
      std::vector<std::string> clauses;
      std::string_view all = in.Rest();
      fuzz::FuzzInput lines(reinterpret_cast<const uint8_t*>(all.data()), all.size());
      for (int i = 0; i < 16; ++i) {
        std::string_view line = lines.Line();
        if (line.empty() && i > 0) break;
        clauses.emplace_back(line);
      }
      auto r = ParseOrderBy(clauses, entity);
      if (r.ok()) TAMGA_FUZZ_ASSERT(r->size() <= clauses.size(), all);
      break;
    }
    default: {  // LIKE: pattern on the first line, text after it
      std::string_view pattern = in.Line();
      std::string_view text = in.Rest();
      bool ci = mode & 0x80;
      bool m = LikeMatch(text, pattern, ci);
      if (pattern == "%") TAMGA_FUZZ_ASSERT(m, text);
      if (pattern.find_first_of("%_") == std::string_view::npos && !ci)
        TAMGA_FUZZ_ASSERT(m == (text == pattern), text);
      break;
    }
  }
  return 0;
}

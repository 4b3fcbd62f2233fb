#include "storage/sql/sql_filter.h"

#include <cmath>

namespace tamga {

const char* SqlCompareOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return " = ";
    case CompareOp::kNe:
      return " != ";
    case CompareOp::kGt:
      return " > ";
    case CompareOp::kGe:
      return " >= ";
    case CompareOp::kLt:
      return " < ";
    case CompareOp::kLe:
      return " <= ";
    case CompareOp::kLike:
      return " LIKE ";
    default:
      return " = ";
  }
}

std::string SqlStringCondition(const std::string& expr, const Comparison& c, std::vector<SqlBind>& binds) {
  if (c.op == CompareOp::kIn || c.op == CompareOp::kNotIn) {
    const auto& list = std::get<std::vector<std::string>>(c.value);
    std::string s = expr + (c.op == CompareOp::kIn ? " IN (" : " NOT IN (");
    for (size_t i = 0; i < list.size(); ++i) {
      s += i ? ",?" : "?";
      binds.emplace_back(list[i]);
    }
    return s + ")";
  }
  binds.emplace_back(std::get<std::string>(c.value));
  if (c.op == CompareOp::kILike) return "LOWER(" + expr + ") LIKE LOWER(?)";
  return expr + SqlCompareOp(c.op) + "?";
}

SqlBind SqlNumberBind(double v) {
  if (std::floor(v) == v && std::fabs(v) < 9e18) return static_cast<int64_t>(v);
  return v;
}

void SqlBindAll(SqlStmt& stmt, const std::vector<SqlBind>& binds, int* pos) {
  for (const auto& b : binds) {
    std::visit([&](const auto& v) { stmt.Bind(++*pos, v); }, b);
  }
}

}  // namespace tamga

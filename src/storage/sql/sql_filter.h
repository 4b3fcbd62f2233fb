#pragma once
// Pieces shared by the SQLite search compilers (runs, registered models, model versions): SQL for a
// comparison operator, a string condition with its bound values, and binding them in order. Query text
// comes only from parsed operators and constant column names; user values are always bound.
#include <string>
#include <variant>
#include <vector>

#include "storage/search_query.h"
#include "storage/sql/sql_db.h"

namespace tamga {

using SqlBind = std::variant<int64_t, double, std::string>;

// " = ", " != ", " > " ... " LIKE " (ILIKE and lists are handled by SqlStringCondition).
const char* SqlCompareOp(CompareOp op);
// "<expr> <op> ?" for = != LIKE, "LOWER(<expr>) LIKE LOWER(?)" for ILIKE, "<expr> [NOT] IN (?,..)" for lists.
std::string SqlStringCondition(const std::string& expr, const Comparison& c, std::vector<SqlBind>& binds);
// An integral double binds as an integer (so it compares equal to INTEGER columns).
SqlBind SqlNumberBind(double v);
// Binds `binds` at positions *pos + 1, *pos + 2, ... and advances *pos.
void SqlBindAll(SqlStmt& stmt, const std::vector<SqlBind>& binds, int* pos);

}  // namespace tamga

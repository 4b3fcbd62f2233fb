#include "storage/sql/sql_db.h"

namespace tamga {

Status SqlStmt::Run() {
  for (;;) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

Result<int64_t> RunReturningId(SqlStmt& stmt) {
  TAMGA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("INSERT ... RETURNING gave no row");
  int64_t id = stmt.Int(0);
  TAMGA_RETURN_IF_ERROR(stmt.Run());
  return id;
}

Result<StmtGuard> SqlDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    TAMGA_ASSIGN_OR_RETURN(auto stmt, PrepareUncached(sql));
    it = cache_.emplace(sql, std::move(stmt)).first;
    Cached(it->second.get());
  }
  return StmtGuard(it->second.get());
}

}  // namespace tamga

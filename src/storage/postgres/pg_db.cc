#include "storage/postgres/pg_db.h"

#include <mutex>

#include <libpq-fe.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace tamga {

std::string PgPlaceholders(std::string_view sql, int* params_out) {
  std::string out;
  out.reserve(sql.size() + 8);
  int largest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      out.push_back(c);
      if (c == quote) quote = 0;  // a doubled quote re-opens at once: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9' && n < 100000) n = n * 10 + (sql[j++] - '0');
    if (j == i + 1) n = largest + 1;
    largest = std::max(largest, n);
    out += "$" + std::to_string(n);
    i = j - 1;
  }
  if (params_out) *params_out = largest;
  return out;
}

bool PgDecodeBytea(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return false;
  out->resize((text.size() - 2) / 2);
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 2, k = 0; i < text.size(); i += 2, ++k) {
    int h = hex(text[i]), l = hex(text[i + 1]);
    if (h < 0 || l < 0) return false;
    (*out)[k] = static_cast<char>(h * 16 + l);
  }
  return true;
}

namespace {

class PgStmt final : public SqlStmt {
 public:
  PgStmt(PgDb* db, std::string name, int nparams)
      : db_(db), name_(std::move(name)), values_(nparams), binary_(nparams, 0), blobs_() {}
  ~PgStmt() override {
    Clear();
    // A statement built for one query (search) goes with it; cached ones die with their connection.
    if (!cached_) {
      (void)db_->Exec(("DEALLOCATE " + name_).c_str());
    }
  }
  void set_cached() { cached_ = true; }

  SqlStmt& BindInt(int i, int64_t v) override { return Set(i, std::to_string(v), false); }
  SqlStmt& BindDouble(int i, double v) override {
    if (std::isnan(v)) return Set(i, "NaN", false);
    if (std::isinf(v)) return Set(i, v > 0 ? "Infinity" : "-Infinity", false);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return Set(i, buf, false);
  }
  SqlStmt& BindText(int i, std::string_view v) override {
    // Text parameters travel NUL-terminated: a NUL inside would cut the value short without a word.
    if (v.find('\0') != std::string_view::npos && bind_error_.ok()) {
      bind_error_ =
          InvalidArgument("PostgreSQL text cannot hold NUL bytes (parameter " + std::to_string(i) + ")");
    }
    return Set(i, std::string(v), false);
  }
  SqlStmt& BindBlob(int i, std::string_view v) override { return Set(i, std::string(v), true); }
  SqlStmt& BindNull(int i) override {
    if (i >= 1 && i <= static_cast<int>(values_.size())) values_[i - 1].reset();
    return *this;
  }

  Status RunLater() override {
    if (!bind_error_.ok()) return bind_error_;
    if (!db_->defer_writes()) return Run();
    std::vector<const char*> vals(values_.size());
    std::vector<int> lens(values_.size());
    for (size_t k = 0; k < values_.size(); ++k) {
      vals[k] = values_[k] ? values_[k]->data() : nullptr;
      lens[k] = values_[k] ? static_cast<int>(values_[k]->size()) : 0;
    }
    return db_->SendLater(name_.c_str(), static_cast<int>(values_.size()), vals.data(), lens.data(),
                          binary_.data());
  }

  Result<bool> Step() override {
    if (!bind_error_.ok()) return bind_error_;
    if (!executed_) {
      Status drained = db_->Drain();
      if (!drained.ok()) return drained;
      executed_ = true;
      std::vector<const char*> vals(values_.size());
      std::vector<int> lens(values_.size()), fmts(values_.size());
      for (size_t k = 0; k < values_.size(); ++k) {
        vals[k] = values_[k] ? values_[k]->data() : nullptr;
        lens[k] = values_[k] ? static_cast<int>(values_[k]->size()) : 0;
        fmts[k] = binary_[k];
      }
      res_ = PQexecPrepared(db_->raw(), name_.c_str(), static_cast<int>(values_.size()), vals.data(),
                            lens.data(), fmts.data(), 0);
      ExecStatusType st = res_ ? PQresultStatus(res_) : PGRES_FATAL_ERROR;
      if (st == PGRES_COMMAND_OK) {
        db_->set_changes(std::atoi(PQcmdTuples(res_)));
        rows_ = 0;
      } else if (st == PGRES_TUPLES_OK) {
        rows_ = PQntuples(res_);
        const char* affected = PQcmdTuples(res_);  // INSERT ... RETURNING counts its rows
        db_->set_changes(affected && *affected ? std::atoi(affected) : 0);
      } else {
        Status s = db_->ErrorOf(res_, "statement");
        Clear();
        return s;
      }
      row_ = -1;
    }
    return ++row_ < rows_;
  }

  void Reset() override {
    Clear();
    bind_error_ = Status::Ok();
    for (auto& v : values_) v.reset();
    std::fill(binary_.begin(), binary_.end(), 0);
  }

  int64_t Int(int col) const override {
    const char* v = Value(col);
    if (v == nullptr) return 0;
    if (v[0] == 't' && v[1] == '\0') return 1;  // boolean
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return std::strtoll(v, nullptr, 10);
  }
  double Double(int col) const override {
    const char* v = Value(col);
    return v ? std::strtod(v, nullptr) : 0.0;  // strtod reads NaN, Infinity and -Infinity as well
  }
  int ColumnCount() const override { return res_ ? PQnfields(res_) : 0; }
  std::string ColumnName(int col) const override {
    const char* n = res_ ? PQfname(res_, col) : nullptr;
    return n ? n : "";
  }
  SqlValueType ValueType(int col) const override {
    if (IsNull(col)) return SqlValueType::kNull;
    switch (PQftype(res_, col)) {  // type OIDs (pg_type.h)
      case 16:
      case 20:
      case 21:
      case 23:
        return SqlValueType::kInt;  // bool, int8, int2, int4
      case 700:
      case 701:
      case 1700:
        return SqlValueType::kDouble;  // float4, float8, numeric
      case 17:
        return SqlValueType::kBlob;  // bytea
      default:
        return SqlValueType::kText;
    }
  }
  bool IsNull(int col) const override {
    return res_ == nullptr || row_ < 0 || row_ >= rows_ || PQgetisnull(res_, row_, col);
  }
  std::string Text(int col) const override {
    const char* v = Value(col);
    return v ? std::string(v, PQgetlength(res_, row_, col)) : std::string();
  }
  std::string_view Blob(int col) const override {
    const char* v = Value(col);
    if (v == nullptr) return {};
    std::string& buf = blobs_[col];
    if (!PgDecodeBytea(std::string_view(v, PQgetlength(res_, row_, col)), &buf)) {
      buf.assign(v, PQgetlength(res_, row_, col));  // not bytea: the text itself
    }
    return buf;
  }

 private:
  SqlStmt& Set(int i, std::string v, bool binary) {
    if (i >= 1 && i <= static_cast<int>(values_.size())) {
      values_[i - 1] = std::move(v);
      binary_[i - 1] = binary ? 1 : 0;
    }
    return *this;
  }
  const char* Value(int col) const {
    if (IsNull(col)) return nullptr;
    return PQgetvalue(res_, row_, col);
  }
  void Clear() {
    if (res_) PQclear(res_);
    res_ = nullptr;
    executed_ = false;
    rows_ = 0;
    row_ = -1;
  }

  PgDb* db_;
  std::string name_;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> binary_;
  mutable std::map<int, std::string> blobs_;
  PGresult* res_ = nullptr;
  Status bind_error_ = Status::Ok();
  bool cached_ = false;
  bool executed_ = false;
  int rows_ = 0;
  int row_ = -1;
};

}  // namespace

void PgDb::Cached(SqlStmt* stmt) { static_cast<PgStmt*>(stmt)->set_cached(); }

Status PgDb::ErrorOf(const PGresult* res, std::string_view what) const {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  msg = "PostgreSQL " + std::string(what) + ": " + msg;
  std::string code = state ? state : "";
  if (PQstatus(conn_) != CONNECTION_OK || code.rfind("08", 0) == 0) return Unavailable(msg);
  if (code.rfind("23", 0) == 0) return AlreadyExists(msg);
  if (code.rfind("22", 0) == 0) return InvalidArgument(msg);
  if (code.rfind("40", 0) == 0 || code == "55P03" || code == "57P01") return Unavailable(msg);
  return Internal(msg);
}

namespace {
std::mutex g_app_name_mu;
std::string g_app_name = "tamga";  // guarded by g_app_name_mu
}  // namespace

void SetPgApplicationName(const std::string& name) {
  std::lock_guard<std::mutex> l(g_app_name_mu);
  g_app_name = name.substr(0, 63);  // PostgreSQL keeps NAMEDATALEN - 1 bytes
}

std::string PgApplicationName() {
  std::lock_guard<std::mutex> l(g_app_name_mu);
  return g_app_name;
}

Result<std::unique_ptr<PgDb>> PgDb::Open(const StoreUri& uri) {
  std::vector<std::string> keys, vals;
  auto add = [&](const std::string& k, const std::string& v) {
    if (v.empty()) return;
    keys.push_back(k);
    vals.push_back(v);
  };
  add("host", uri.host);
  if (uri.port != 0) add("port", std::to_string(uri.port));
  add("user", uri.user);
  add("password", uri.password);
  add("dbname", uri.database);
  add("application_name", PgApplicationName());
  add("client_encoding", "UTF8");
  add("connect_timeout", "10");
  for (const auto& [k, v] : uri.params) add(k, v);  // later keywords win (?host=/run/postgresql)
  std::vector<const char*> kp, vp;
  for (size_t i = 0; i < keys.size(); ++i) {
    kp.push_back(keys[i].c_str());
    vp.push_back(vals[i].c_str());
  }
  kp.push_back(nullptr);
  vp.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(kp.data(), vp.data(), 0);
  if (conn == nullptr) return Unavailable("PostgreSQL " + uri.Redacted() + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (!uri.password.empty()) {  // libpq does not echo passwords; be sure
      for (size_t p = msg.find(uri.password); p != std::string::npos; p = msg.find(uri.password))
        msg.replace(p, uri.password.size(), "***");
    }
    return Unavailable("cannot connect to PostgreSQL " + uri.Redacted() + ": " + msg);
  }
  std::unique_ptr<PgDb> db(new PgDb(conn));
  // Quiet NOTICEs ("relation already exists, skipping") instead of libpq printing them on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  TAMGA_RETURN_IF_ERROR(db->Exec("SET TIME ZONE 'UTC'"));
  return db;
}

PgDb::~PgDb() {
  ClearCache();
  PQfinish(conn_);
}

Status PgDb::SendLater(const char* name, int n, const char* const* values, const int* lengths,
                       const int* formats) {
  if (!in_pipeline_) {
    if (PQenterPipelineMode(conn_) != 1) return ErrorOf(nullptr, "pipeline");
    in_pipeline_ = true;
  }
  // libpq copies the parameters into its output buffer: the caller's may go.
  if (PQsendQueryPrepared(conn_, name, n, values, lengths, formats, 0) != 1)
    return ErrorOf(nullptr, "pipeline send");
  // Read results now and then, so neither side's buffers fill while the other waits.
  if (++pending_ >= 512) return Drain();
  return Status::Ok();
}

Status PgDb::Drain() {
  if (!in_pipeline_) return deferred_error_;
  Status first = Status::Ok();
  if (PQpipelineSync(conn_) != 1) first = ErrorOf(nullptr, "pipeline sync");
  // Each statement's results end with a null; the sync point answers PGRES_PIPELINE_SYNC.
  for (int i = 0; i < pending_ && first.ok(); ++i) {
    while (PGresult* r = PQgetResult(conn_)) {
      ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_FATAL_ERROR && first.ok()) first = ErrorOf(r, "pipelined write");
      PQclear(r);
    }
  }
  for (;;) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (PQstatus(conn_) != CONNECTION_OK) break;
      continue;
    }
    bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  PQexitPipelineMode(conn_);
  in_pipeline_ = false;
  pending_ = 0;
  if (!first.ok() && deferred_error_.ok()) deferred_error_ = first;
  return deferred_error_;
}

Status PgDb::BeginWrite() {
  (void)Drain();
  deferred_error_ = Status::Ok();  // a new transaction: earlier failures belonged to the last one
  return Exec("BEGIN");
}

Status PgDb::Exec(const char* sql) {
  Status drained = Drain();
  PGresult* res = PQexec(conn_, sql);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  Status s = Status::Ok();
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) s = ErrorOf(res, "exec");
  if (res) PQclear(res);
  return drained.ok() ? s : drained;  // a deferred write failed: COMMIT became a rollback
}

Result<std::unique_ptr<SqlStmt>> PgDb::PrepareUncached(const std::string& sql) {
  TAMGA_RETURN_IF_ERROR(Drain());
  int nparams = 0;
  std::string text = PgPlaceholders(sql, &nparams);
  std::string name = "t" + std::to_string(next_stmt_++);
  PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK) {
    Status s = ErrorOf(res, "prepare");
    if (res) PQclear(res);
    return Status(s.code() == StatusCode::kInvalidArgument ? StatusCode::kInternal : s.code(), s.message());
  }
  PQclear(res);
  return std::unique_ptr<SqlStmt>(new PgStmt(this, std::move(name), nparams));
}

}  // namespace tamga

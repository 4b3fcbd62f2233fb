// AuthStore on tamga.db through its own connection. Identity changes are rare (users, tokens, grants) and the
// auth domain keeps them in memory; the audit log is appended in batches. One connection behind a mutex.
#include <mutex>

#include "storage/auth_store.h"
#include "storage/sql/sql_db.h"

namespace tamga {
namespace {

class SqlAuthStore final : public AuthStore {
 public:
  explicit SqlAuthStore(std::unique_ptr<SqlDb> db) : db_(std::move(db)) {}

  Result<std::vector<UserRecord>> ListUsers() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "SELECT id, username, password_hash, is_admin, source, created_ms FROM users ORDER BY id"));
    std::vector<UserRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Int(3) != 0, r.Text(4), r.Int(5)});
    }));
    return out;
  }

  Result<UserRecord> CreateUser(const UserRecord& u) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO users(username, password_hash, is_admin, source, "
                                        "created_ms) VALUES(?1, ?2, ?3, ?4, ?5) RETURNING id"));
    s->Bind(1, u.username)
        .Bind(2, u.password_hash)
        .Bind(3, u.is_admin ? 1 : 0)
        .Bind(4, u.source)
        .Bind(5, u.created_ms);
    auto id = RunReturningId(*s);
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kAlreadyExists)
        return AlreadyExists("User '" + u.username + "' already exists.");
      return id.status();
    }
    UserRecord out = u;
    out.id = *id;
    return out;
  }

  Status UpdateUser(const UserRecord& u) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("UPDATE users SET password_hash = ?2, is_admin = ?3 WHERE id = ?1"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, u.id).Bind(2, u.password_hash).Bind(3, u.is_admin ? 1 : 0).Run());
    if (db_->Changes() == 0) return NotFound("User with id " + std::to_string(u.id) + " not found");
    return Status::Ok();
  }

  Status DeleteUser(int64_t id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    Status st = [&]() -> Status {
      TAMGA_ASSIGN_OR_RETURN(
          auto g, db_->Prepare("DELETE FROM grants WHERE subject_kind = 'user' AND subject_id = ?1"));
      TAMGA_RETURN_IF_ERROR(g->Bind(1, std::to_string(id)).Run());
      TAMGA_ASSIGN_OR_RETURN(auto t, db_->Prepare("DELETE FROM access_tokens WHERE user_id = ?1"));
      TAMGA_RETURN_IF_ERROR(t->Bind(1, id).Run());
      TAMGA_ASSIGN_OR_RETURN(auto bs, db_->Prepare("DELETE FROM browser_sessions WHERE user_id = ?1"));
      TAMGA_RETURN_IF_ERROR(bs->Bind(1, id).Run());
      TAMGA_ASSIGN_OR_RETURN(auto u, db_->Prepare("DELETE FROM users WHERE id = ?1"));
      TAMGA_RETURN_IF_ERROR(u->Bind(1, id).Run());
      if (db_->Changes() == 0) return NotFound("User with id " + std::to_string(id) + " not found");
      return Status::Ok();
    }();
    if (!st.ok()) {
      (void)db_->Exec("ROLLBACK");
      return st;
    }
    return db_->Exec("COMMIT");
  }

  Result<std::vector<TokenRecord>> ListTokens() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("SELECT id, user_id, name, digest, role, queues, created_ms, "
                             "expires_ms, last_used_ms FROM access_tokens ORDER BY created_ms, id"));
    std::vector<TokenRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back(
          {r.Text(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Int(6), r.Int(7), r.Int(8)});
    }));
    return out;
  }

  Status PutToken(const TokenRecord& t) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT INTO access_tokens(id, user_id, name, digest, role, queues, created_ms, "
                             "expires_ms, last_used_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return s->Bind(1, t.id)
        .Bind(2, t.user_id)
        .Bind(3, t.name)
        .Bind(4, t.digest)
        .Bind(5, t.role)
        .Bind(6, t.queues)
        .Bind(7, t.created_ms)
        .Bind(8, t.expires_ms)
        .Bind(9, t.last_used_ms)
        .Run();
  }

  Status DeleteToken(const std::string& id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM access_tokens WHERE id = ?1"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, id).Run());
    if (db_->Changes() == 0) return NotFound("Token '" + id.substr(0, 64) + "' does not exist");
    return Status::Ok();
  }

  Status TouchTokens(const std::vector<std::pair<std::string, int64_t>>& last_used) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    for (const auto& [id, ms] : last_used) {
      auto s = db_->Prepare("UPDATE access_tokens SET last_used_ms = ?2 WHERE id = ?1 AND last_used_ms < ?2");
      Status st = s.ok() ? (*s)->Bind(1, id).Bind(2, ms).Run() : s.status();
      if (!st.ok()) {
        (void)db_->Exec("ROLLBACK");
        return st;
      }
    }
    return db_->Exec("COMMIT");
  }

  Result<std::vector<GrantRecord>> ListGrants() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare("SELECT object_kind, object_id, subject_kind, subject_id, permission FROM grants"));
    std::vector<GrantRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)});
    }));
    return out;
  }

  Status PutGrant(const GrantRecord& g) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare("INSERT INTO grants(object_kind, object_id, subject_kind, subject_id, permission) "
                     "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(object_kind, object_id, subject_kind, "
                     "subject_id) DO UPDATE SET permission = excluded.permission"));
    return s->Bind(1, g.object_kind)
        .Bind(2, g.object_id)
        .Bind(3, g.subject_kind)
        .Bind(4, g.subject_id)
        .Bind(5, g.permission)
        .Run();
  }

  Status DeleteGrant(const GrantRecord& g) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM grants WHERE object_kind = ?1 AND object_id = ?2 AND "
                                        "subject_kind = ?3 AND subject_id = ?4"));
    TAMGA_RETURN_IF_ERROR(
        s->Bind(1, g.object_kind).Bind(2, g.object_id).Bind(3, g.subject_kind).Bind(4, g.subject_id).Run());
    if (db_->Changes() == 0) return NotFound("No such permission");
    return Status::Ok();
  }

  Status DeleteObjectGrants(const std::string& kind, const std::string& object_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM grants WHERE object_kind = ?1 AND object_id = ?2"));
    return s->Bind(1, kind).Bind(2, object_id).Run();
  }

  Status RenameGrantObject(const std::string& kind, const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> l(mu_);
    // The renamed object's grants replace any its new name already had (one transaction, both engines).
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    Status st = [&]() -> Status {
      TAMGA_ASSIGN_OR_RETURN(
          auto d, db_->Prepare("DELETE FROM grants WHERE object_kind = ?1 AND object_id = ?3 AND "
                               "(subject_kind, subject_id) IN (SELECT subject_kind, subject_id FROM grants "
                               "WHERE object_kind = ?1 AND object_id = ?2)"));
      TAMGA_RETURN_IF_ERROR(d->Bind(1, kind).Bind(2, from).Bind(3, to).Run());
      TAMGA_ASSIGN_OR_RETURN(
          auto u, db_->Prepare("UPDATE grants SET object_id = ?3 WHERE object_kind = ?1 AND object_id = ?2"));
      return u->Bind(1, kind).Bind(2, from).Bind(3, to).Run();
    }();
    if (!st.ok()) {
      (void)db_->Exec("ROLLBACK");
      return st;
    }
    return db_->Exec("COMMIT");
  }

  Result<std::vector<TeamMemberRecord>> ListTeamMembers() override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("SELECT team, user_id, role FROM team_members ORDER BY team, user_id"));
    std::vector<TeamMemberRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Text(0), r.Int(1), r.Text(2)});
    }));
    return out;
  }

  Status PutTeamMember(const TeamMemberRecord& m) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare(
            "INSERT INTO team_members(team, user_id, role) VALUES(?1, ?2, ?3) ON CONFLICT(team, user_id) "
            "DO UPDATE SET role = excluded.role"));
    return s->Bind(1, m.team).Bind(2, m.user_id).Bind(3, m.role).Run();
  }

  Status DeleteTeamMember(const std::string& team, int64_t user_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM team_members WHERE team = ?1 AND user_id = ?2"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, team).Bind(2, user_id).Run());
    if (db_->Changes() == 0) return NotFound("No such team member");
    return Status::Ok();
  }

  Status PutSession(const SessionRecord& r) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string teams;
    for (const auto& t : r.teams) teams += (teams.empty() ? "" : "\n") + t;
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO browser_sessions(id_digest, user_id, csrf_token, oidc, "
                                        "oidc_admin, teams, last_seen_ms, expires_ms) VALUES "
                                        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    s->Bind(1, r.id_digest).Bind(2, r.user_id).Bind(3, r.csrf_token).Bind(4, r.oidc ? 1 : 0);
    return s->Bind(5, r.oidc_admin ? 1 : 0)
        .Bind(6, teams)
        .Bind(7, r.last_seen_ms)
        .Bind(8, r.expires_ms)
        .Run();
  }

  Result<std::optional<SessionRecord>> GetSession(const std::string& id_digest) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("SELECT user_id, csrf_token, oidc, oidc_admin, teams, last_seen_ms, "
                                        "expires_ms FROM browser_sessions WHERE id_digest = ?1"));
    s->Bind(1, id_digest);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<SessionRecord>();
    SessionRecord r;
    r.id_digest = id_digest;
    r.user_id = s->Int(0);
    r.csrf_token = s->Text(1);
    r.oidc = s->Int(2) != 0;
    r.oidc_admin = s->Int(3) != 0;
    std::string teams = s->Text(4);
    for (size_t at = 0; at < teams.size();) {
      size_t nl = teams.find('\n', at);
      if (nl == std::string::npos) nl = teams.size();
      r.teams.push_back(teams.substr(at, nl - at));
      at = nl + 1;
    }
    r.last_seen_ms = s->Int(5);
    r.expires_ms = s->Int(6);
    return std::optional<SessionRecord>(std::move(r));
  }

  Status TouchSessions(const std::vector<std::pair<std::string, int64_t>>& last_seen) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [digest, ms] : last_seen) {
      TAMGA_ASSIGN_OR_RETURN(
          auto s, db_->Prepare("UPDATE browser_sessions SET last_seen_ms = ?2 WHERE id_digest = ?1 "
                               "AND last_seen_ms < ?2"));
      TAMGA_RETURN_IF_ERROR(s->Bind(1, digest).Bind(2, ms).Run());
    }
    return Status::Ok();
  }

  Status DeleteSession(const std::string& id_digest) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM browser_sessions WHERE id_digest = ?1"));
    return s->Bind(1, id_digest).Run();
  }

  Status DeleteSessionsOf(int64_t user_id) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM browser_sessions WHERE user_id = ?1"));
    return s->Bind(1, user_id).Run();
  }

  Status DeleteEndedSessions(int64_t now, int64_t idle_before) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM browser_sessions WHERE expires_ms <= ?1 OR "
                                                "last_seen_ms < ?2"));
    TAMGA_RETURN_IF_ERROR(s->Bind(1, now).Bind(2, idle_before).Run());
    TAMGA_ASSIGN_OR_RETURN(auto p, db_->Prepare("DELETE FROM oidc_pending_logins WHERE expires_ms <= ?1"));
    return p->Bind(1, now).Run();
  }

  Status PutPendingLogin(const PendingLoginRecord& p) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("INSERT INTO oidc_pending_logins(state_digest, verifier, nonce, "
                                        "return_to, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    return s->Bind(1, p.state_digest)
        .Bind(2, p.verifier)
        .Bind(3, p.nonce)
        .Bind(4, p.return_to)
        .Bind(5, p.expires_ms)
        .Run();
  }

  Result<std::optional<PendingLoginRecord>> TakePendingLogin(const std::string& state_digest,
                                                             int64_t now) override {
    std::lock_guard<std::mutex> l(mu_);
    // DELETE ... RETURNING: two callbacks with one state (a replay, or two replicas) get it once.
    TAMGA_ASSIGN_OR_RETURN(auto s,
                           db_->Prepare("DELETE FROM oidc_pending_logins WHERE state_digest = ?1 RETURNING "
                                        "verifier, nonce, return_to, expires_ms"));
    s->Bind(1, state_digest);
    TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<PendingLoginRecord>();
    PendingLoginRecord r;
    r.state_digest = state_digest;
    r.verifier = s->Text(0);
    r.nonce = s->Text(1);
    r.return_to = s->Text(2);
    r.expires_ms = s->Int(3);
    TAMGA_RETURN_IF_ERROR(s->Step().status());
    if (r.expires_ms <= now) return std::optional<PendingLoginRecord>();
    return std::optional<PendingLoginRecord>(std::move(r));
  }

  Result<std::string> SharedSecret(const std::string& name, const std::string& candidate) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(auto put, db_->Prepare("INSERT INTO server_secrets(name, value) VALUES (?1, ?2) "
                                                  "ON CONFLICT(name) DO NOTHING"));
    TAMGA_RETURN_IF_ERROR(put->Bind(1, name).Bind(2, candidate).Run());
    TAMGA_ASSIGN_OR_RETURN(auto get, db_->Prepare("SELECT value FROM server_secrets WHERE name = ?1"));
    get->Bind(1, name);
    TAMGA_ASSIGN_OR_RETURN(bool row, get->Step());
    if (!row) return Internal("secret " + name + " missing after it was stored");
    std::string value = get->Text(0);
    TAMGA_RETURN_IF_ERROR(get->Step().status());
    return value;
  }

  Status AppendAudit(const std::vector<AuditRecord>& rows) override {
    if (rows.empty()) return Status::Ok();
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_RETURN_IF_ERROR(db_->BeginWrite());
    for (const auto& a : rows) {
      auto s = db_->Prepare(
          "INSERT INTO audit_log(time_ms, principal, method, route, object, status, outcome, remote_addr) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      Status st = s.ok() ? (*s)->Bind(1, a.time_ms)
                               .Bind(2, a.principal)
                               .Bind(3, a.method)
                               .Bind(4, a.route)
                               .Bind(5, a.object)
                               .Bind(6, a.status)
                               .Bind(7, a.outcome)
                               .Bind(8, a.remote_addr)
                               .Run()
                         : s.status();
      if (!st.ok()) {
        (void)db_->Exec("ROLLBACK");
        return st;
      }
    }
    return db_->Exec("COMMIT");
  }

  Result<std::vector<AuditRecord>> ListAudit(const AuditQuery& q) override {
    std::lock_guard<std::mutex> l(mu_);
    TAMGA_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare("SELECT seq, time_ms, principal, method, route, object, status, outcome, remote_addr "
                     "FROM audit_log WHERE seq > ?1 AND time_ms >= ?2 AND (?3 = '' OR principal = ?3) AND "
                     "(?4 = '' OR outcome = ?4) ORDER BY seq LIMIT ?5"));
    s->Bind(1, q.after_seq)
        .Bind(2, q.since_ms)
        .Bind(3, q.principal)
        .Bind(4, q.outcome)
        .Bind(5, q.max_results);
    std::vector<AuditRecord> out;
    TAMGA_RETURN_IF_ERROR(ForEachRow(*s, [&](SqlStmt& r) {
      out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
                     static_cast<int>(r.Int(6)), r.Text(7), r.Text(8)});
    }));
    return out;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;
};

}  // namespace

std::unique_ptr<AuthStore> NewSqlAuthStore(std::unique_ptr<SqlDb> db) {
  return std::unique_ptr<AuthStore>(new SqlAuthStore(std::move(db)));
}

}  // namespace tamga

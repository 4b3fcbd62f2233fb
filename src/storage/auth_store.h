#pragma once
// AuthStore: durable identity state (docs/identity.md) — users, access tokens (their SHA-256 only, never the
// secret), grants of a permission on an object to a user or a team, and the append-only audit log. Records
// are plain values; src/auth owns their meaning. Every call is one transaction and returns after commit.
// Thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

struct UserRecord {
  int64_t id = 0;
  std::string username;
  std::string password_hash;  // "" for users who sign in only through OIDC
  bool is_admin = false;
  std::string source = "local";  // local | oidc
  int64_t created_ms = 0;
};

struct TokenRecord {
  std::string id;  // public handle (listing, revoking); not the secret
  int64_t user_id = 0;
  std::string name;
  std::string digest;         // hex SHA-256 of the token
  std::string role = "user";  // user | agent
  std::string queues;         // agent tokens: comma-separated queue names
  int64_t created_ms = 0;
  int64_t expires_ms = 0;  // 0 = never
  int64_t last_used_ms = 0;
};

struct GrantRecord {
  std::string object_kind;  // experiment | registered_model | queue | deployment | webhook
  std::string object_id;
  std::string subject_kind;  // user | team
  std::string subject_id;    // user id (decimal) | team name
  std::string permission;    // READ | EDIT | MANAGE | NO_PERMISSIONS
};

struct TeamMemberRecord {
  std::string team;
  int64_t user_id = 0;
  std::string role = "member";  // member | maintainer (may add and remove members)
};

struct AuditRecord {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string principal;
  std::string method;
  std::string route;
  std::string object;
  int status = 0;
  std::string outcome;  // ok | denied | failed
  std::string remote_addr;
};

struct AuditQuery {
  int64_t after_seq = 0;  // rows with seq > after_seq, oldest first
  int64_t since_ms = 0;
  std::string principal;  // "" = all
  std::string outcome;    // "" = all
  int64_t max_results = 100;
};

// A browser session (the cookie's id is never stored, only its SHA-256).
struct SessionRecord {
  std::string id_digest;
  int64_t user_id = 0;
  std::string csrf_token;
  bool oidc = false;  // an OIDC sign-in: its admin flag and groups as they were at sign-in
  bool oidc_admin = false;
  std::vector<std::string> teams;
  int64_t last_seen_ms = 0;
  int64_t expires_ms = 0;
};

// An OIDC sign-in between the redirect to the issuer and its callback.
struct PendingLoginRecord {
  std::string state_digest;
  std::string verifier, nonce, return_to;
  int64_t expires_ms = 0;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Result<UserRecord> CreateUser(const UserRecord& u) = 0;  // AlreadyExists; returns it with its id
  virtual Status UpdateUser(const UserRecord& u) = 0;              // password_hash, is_admin; by id
  virtual Status DeleteUser(int64_t id) = 0;                       // with its tokens and its user grants

  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  virtual Status PutToken(const TokenRecord& t) = 0;
  virtual Status DeleteToken(const std::string& id) = 0;
  virtual Status TouchTokens(const std::vector<std::pair<std::string, int64_t>>& last_used) = 0;

  virtual Result<std::vector<GrantRecord>> ListGrants() = 0;
  virtual Status PutGrant(const GrantRecord& g) = 0;     // insert or replace
  virtual Status DeleteGrant(const GrantRecord& g) = 0;  // by key; NotFound
  // Every grant on an object (it was deleted).
  virtual Status DeleteObjectGrants(const std::string& kind, const std::string& object_id) = 0;
  // Grants of a renamed object (registered models are keyed by name).
  virtual Status RenameGrantObject(const std::string& kind, const std::string& from,
                                   const std::string& to) = 0;

  virtual Result<std::vector<TeamMemberRecord>> ListTeamMembers() = 0;
  virtual Status PutTeamMember(const TeamMemberRecord& m) = 0;                    // insert or replace
  virtual Status DeleteTeamMember(const std::string& team, int64_t user_id) = 0;  // NotFound

  // Browser sessions. DeleteUser removes the user's sessions too.
  virtual Status PutSession(const SessionRecord& s) = 0;
  virtual Result<std::optional<SessionRecord>> GetSession(const std::string& id_digest) = 0;
  virtual Status TouchSessions(const std::vector<std::pair<std::string, int64_t>>& last_seen) = 0;
  virtual Status DeleteSession(const std::string& id_digest) = 0;
  virtual Status DeleteSessionsOf(int64_t user_id) = 0;
  // Sessions past their end or idle since before `idle_before`, and sign-ins never finished.
  virtual Status DeleteEndedSessions(int64_t now, int64_t idle_before) = 0;
  // OIDC sign-ins in progress: Take returns and removes one (once), nullopt when unknown or expired.
  virtual Status PutPendingLogin(const PendingLoginRecord& p) = 0;
  virtual Result<std::optional<PendingLoginRecord>> TakePendingLogin(const std::string& state_digest,
                                                                     int64_t now) = 0;

  // A secret shared by every server on this store: the stored one, or `candidate` stored now when none is.
  virtual Result<std::string> SharedSecret(const std::string& name, const std::string& candidate) = 0;

  virtual Status AppendAudit(const std::vector<AuditRecord>& rows) = 0;
  virtual Result<std::vector<AuditRecord>> ListAudit(const AuditQuery& q) = 0;
};

class SqlDb;
// The AuthStore on the metadata database (migrated by the metadata store first), through its own connection
// (storage/sql; SQLite's factory: storage/sqlite/sqlite_stores.h).
std::unique_ptr<AuthStore> NewSqlAuthStore(std::unique_ptr<SqlDb> db);

}  // namespace tamga

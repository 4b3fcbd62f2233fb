#pragma once
// AuthService: users, access tokens, grants and the authentication of requests (docs/identity.md). The
// identity state (users, tokens, grants) is small and read on every request, so it lives in memory behind a
// reader/writer lock and every change is written through to the AuthStore first. Passwords are verified
// with scrypt on a small pool (never on an I/O thread) and the verified credential is cached for
// `cache_ttl_ms`; any change to users, tokens or grants invalidates the cache at once. Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/audit_log.h"
#include "auth/credential_cache.h"
#include "auth/oidc.h"
#include "auth/permissions.h"
#include "auth/principal.h"
#include "core/bounded_executor.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "storage/auth_store.h"

namespace tamga {

class AuthService {
 public:
  struct Options {
    Permission default_permission = Permission::kRead;  // MLflow's default: a user without a grant reads
    std::string admin_username = "admin";               // bootstrap admin (TAMGA_ADMIN_USERNAME)
    std::string admin_password;                         // "" = generate one into initial_password_file
    std::string initial_password_file;                  // <data-dir>/initial-admin-password (0600)
    int64_t cache_ttl_ms = 60000;                       // verified credentials
    // Told after every identity change made here (several replicas: the others Reload()); must not block.
    std::function<void()> on_changed;
    int verify_threads = 2;    // scrypt verifications at once
    size_t verify_queue = 64;  // waiting beyond those: 429
    int64_t min_password_length = 8;
    // Bearer JWTs from an OIDC issuer (borrowed; null = only Tamga's own tokens). Users are provisioned on
    // first sight (source "oidc"); their groups become the Principal's teams; members of `oidc_admin_group`
    // are admins.
    OidcVerifier* oidc = nullptr;
    std::string oidc_admin_group;
    int64_t session_idle_ms = 2 * 3600 * 1000;  // browser sessions
    int64_t session_max_ms = 12 * 3600 * 1000;
    size_t max_sessions = 100000;  // beyond: the least recently used end
  };

  // Loads users, tokens and grants; on a store with no user, creates the admin (Options::admin_*).
  static Result<std::unique_ptr<AuthService>> Create(const Options& options, AuthStore* store, Clock* clock);
  ~AuthService();

  // ---- authentication ----
  // The Principal an Authorization header value proves. `done` runs exactly once, inline when the answer is
  // known at once (cache hit, token, malformed header) or on the verification pool after a scrypt check.
  // Unauthenticated for a missing, malformed or wrong credential; ResourceExhausted when too many password
  // checks are waiting.
  void Authenticate(std::string_view authorization, std::function<void(Result<PrincipalPtr>)> done);
  // The answer when it is known at once (a cached proof, a token, a refusal); nullopt when a password check
  // would be needed (then call Authenticate).
  std::optional<Result<PrincipalPtr>> AuthenticateFast(std::string_view authorization);

  // ---- users (MLflow's users API) ----
  // InvalidArgument (bad name, short password), AlreadyExists.
  Result<UserRecord> CreateUser(const std::string& username, const std::string& password, bool is_admin);
  Result<UserRecord> GetUser(const std::string& username) const;  // NotFound
  std::vector<UserRecord> ListUsers() const;
  Status UpdatePassword(const std::string& username, const std::string& password);
  Status UpdateAdmin(const std::string& username, bool is_admin);
  Status DeleteUser(const std::string& username);  // FailedPrecondition for the last admin

  // ---- permissions ----
  // What `who` holds on an object: MANAGE for admins, else the highest of the user's and their teams'
  // grants, else the default permission.
  Permission Effective(const Principal& who, ObjectKind kind, const std::string& object_id) const;
  // Whether `who` holds a capability (kCapabilityRunCode): admins always, others by an explicit grant.
  bool HasCapability(const Principal& who, const std::string& capability) const {
    return Allows(Effective(who, ObjectKind::kCapability, capability), Permission::kRead);
  }
  // Grants to a user (MLflow's permission endpoints). Create: AlreadyExists when a grant exists; Get,
  // Update, Delete: NotFound when it does not; unknown user: NotFound.
  Result<GrantRecord> CreateGrant(ObjectKind kind, const std::string& object_id, const std::string& username,
                                  Permission p);
  Result<GrantRecord> GetGrant(ObjectKind kind, const std::string& object_id,
                               const std::string& username) const;
  Status UpdateGrant(ObjectKind kind, const std::string& object_id, const std::string& username,
                     Permission p);
  Status DeleteGrant(ObjectKind kind, const std::string& object_id, const std::string& username);
  // The creator of an object gets MANAGE on it (as in MLflow). No-op for anonymous principals.
  void GrantCreator(const Principal& who, ObjectKind kind, const std::string& object_id);
  // Drops every grant on a deleted object (registered models: a new model of that name starts clean).
  void ForgetObject(ObjectKind kind, const std::string& object_id);
  // Moves grants with an object that is keyed by name (registered model renames).
  void RenameObject(ObjectKind kind, const std::string& from, const std::string& to);
  // A user's own grants (the User object of MLflow's API).
  std::vector<GrantRecord> GrantsOf(int64_t user_id) const;

  // ---- grants to users or teams on any object (Tamga's permissions API) ----
  struct Subject {
    bool team = false;
    std::string name;  // a username, or a team name (local, or an OIDC group)
  };
  // InvalidArgument (bad team name), NotFound (unknown user; Remove: no such grant).
  Status SetGrant(ObjectKind kind, const std::string& object_id, const Subject& to, Permission p);
  Status RemoveGrant(ObjectKind kind, const std::string& object_id, const Subject& from);
  struct GrantView {
    std::string subject_kind;  // user | team
    std::string subject;       // username | team
    std::string permission;
  };
  std::vector<GrantView> GrantsOn(ObjectKind kind, const std::string& object_id) const;

  // ---- local teams: members with a role (member | maintainer) ----
  struct TeamMember {
    std::string team;
    std::string username;
    std::string role;
  };
  Status SetTeamMember(const std::string& team, const std::string& username, const std::string& role);
  Status RemoveTeamMember(const std::string& team, const std::string& username);  // NotFound
  std::vector<TeamMember> TeamMembers(const std::string& team) const;             // "" = every team
  // Admins, and maintainers of the team.
  bool MayManageTeam(const Principal& who, const std::string& team) const;

  // Which objects of a kind `who` may read, for pushing into a search's SQL: everything, only `ids`, or
  // everything except `ids`.
  struct Visibility {
    enum class Mode { kAll, kOnly, kAllExcept };
    Mode mode = Mode::kAll;
    std::vector<std::string> ids;
    bool Allows(const std::string& id) const;
  };
  Visibility Readable(const Principal& who, ObjectKind kind) const;

  // ---- access tokens ----
  struct CreateTokenRequest {
    int64_t user_id = 0;
    std::string name;
    int64_t expires_ms = 0;           // absolute; 0 = never (or expires_in_ms)
    int64_t expires_in_ms = 0;        // relative to now, when expires_ms is 0
    std::string role = "user";        // user | agent
    std::vector<std::string> queues;  // agent tokens
  };
  struct CreatedToken {
    TokenRecord record;
    std::string secret;  // shown once
  };
  // InvalidArgument (name, role, expiry in the past), NotFound (user).
  Result<CreatedToken> CreateToken(const CreateTokenRequest& req);
  std::vector<TokenRecord> ListTokens(std::optional<int64_t> user_id) const;
  Result<TokenRecord> GetToken(const std::string& id) const;  // NotFound
  Status RevokeToken(const std::string& id);                  // NotFound

  // ---- browser sessions (the web UI's sign-in; docs/security.md, "Browser sign-in") ----
  struct Session {
    std::string id;          // the cookie value: 256 random bits (stored only as its SHA-256)
    std::string csrf_token;  // state-changing requests made with the cookie send it as X-CSRF-Token
    int64_t expires_ms = 0;
  };
  // A session for a principal that has just proved itself (a password or an OIDC sign-in). It ends after
  // `session_idle_ms` without use, at `session_max_ms`, at the principal's own expiry, or when the user's
  // password changes or the user is deleted.
  Result<Session> StartSession(const Principal& who);
  // The principal of a session cookie: Unauthenticated for an unknown or ended session; PermissionDenied for
  // a state-changing request whose `csrf` is not the session's token. Local users are looked up again, so a
  // deleted user or a changed admin flag applies at once.
  Result<PrincipalPtr> AuthenticateSession(std::string_view id, bool state_changing, std::string_view csrf);
  // The CSRF token of a live session ("" when none).
  std::string SessionCsrf(std::string_view id);
  void EndSession(std::string_view id);
  // The principal an OIDC sign-in proves (users provisioned on first sight, as for Bearer JWTs).
  Result<Principal> PrincipalForOidcClaims(const OidcClaims& claims);

  // A Bearer credential for the server's own calls to itself (in-process serving fetching models): an admin
  // principal named "tamga-internal", valid only in this process's memory, never stored.
  std::string InternalAuthorization() const { return "Bearer " + internal_token_; }

  AuditLog* audit() { return audit_.get(); }
  // Signs the login form's anti-CSRF nonces; the same on every replica of one store.
  const std::string& login_form_key() const { return login_form_key_; }
  // Re-reads users, tokens, grants and teams from the store (another replica changed them) and drops every
  // cached credential.
  Status Reload();
  Permission default_permission() const { return options_.default_permission; }

 private:
  AuthService(const Options& options, AuthStore* store, Clock* clock);
  Status Load();
  Status Bootstrap();
  Result<Principal> VerifyPassword(const std::string& username, const std::string& password);
  Result<Principal> PrincipalForToken(std::string_view secret);
  Result<Principal> PrincipalForOidc(std::string_view jwt);
  Principal PrincipalForUser(const UserRecord& u, Principal::Kind kind) const;  // mu_ held (shared or not)
  void Changed();   // drops verified credentials after any identity change (and Announce()s it)
  void Announce();  // tells other replicas (Options::on_changed) that identities changed
  void FlushTokenUse();
  void DropSessionsOf(int64_t user_id);  // auth_service_sessions.cc
  void DropCachedSessions();             // another replica changed identities: read sessions again

  const Options options_;
  AuthStore* const store_;
  Clock* const clock_;
  CredentialCache cache_;
  std::string internal_token_;
  std::string login_form_key_;
  std::string internal_digest_;
  std::unique_ptr<BoundedExecutor> verify_pool_;
  std::unique_ptr<AuditLog> audit_;

  mutable std::shared_mutex mu_;
  std::map<int64_t, UserRecord> users_;        // by id
  std::map<std::string, int64_t> user_ids_;    // username -> id
  std::map<std::string, TokenRecord> tokens_;  // by digest
  // (kind, object id) -> subject "u:<id>" | "t:<team>" -> permission
  std::map<std::pair<std::string, std::string>, std::map<std::string, Permission>> grants_;
  std::map<int64_t, std::map<std::string, std::string>> teams_of_;  // user id -> team -> role
  std::map<std::string, int64_t> token_use_;  // token id -> last use not yet written (guarded by mu_)
  std::atomic<int64_t> token_use_flushed_ms_{0};
  std::atomic<uint64_t> generation_{0};  // bumped by Changed(): a proof computed before it is not cached
  // subject -> the objects it holds a grant on (Readable without a scan of every grant)
  std::map<std::string, std::set<std::pair<std::string, std::string>>> by_subject_;

  struct SessionState {
    int64_t user_id = 0;
    PrincipalPtr snapshot;  // OIDC sign-ins: the principal with its token's groups
    std::string csrf_token;
    int64_t last_seen_ms = 0;
    int64_t expires_ms = 0;  // absolute
  };
  void CacheSession(const SessionRecord& rec, PrincipalPtr snapshot);
  std::optional<SessionState> FindSession(const std::string& digest, int64_t now);
  void FlushSessionUse();
  Mutex sessions_mu_;
  // A cache of the store's sessions, by SHA-256 hex of the id.
  std::map<std::string, SessionState> sessions_ GUARDED_BY(sessions_mu_);
  std::map<std::string, int64_t> session_use_ GUARDED_BY(sessions_mu_);  // last uses not yet written
  std::atomic<int64_t> session_use_flushed_ms_{0};
  std::atomic<int64_t> sessions_swept_ms_{0};
};

}  // namespace tamga

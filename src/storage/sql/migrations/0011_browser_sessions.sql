-- 0011: browser sessions and OIDC sign-ins in progress live in the database, so any replica serves a browser
-- signed in through another, and a restart no longer signs browsers out. Session ids and OIDC states are
-- stored as SHA-256 digests only.
CREATE TABLE browser_sessions (
  id_digest TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  csrf_token TEXT NOT NULL,
  oidc INTEGER NOT NULL DEFAULT 0,
  oidc_admin INTEGER NOT NULL DEFAULT 0,
  teams TEXT NOT NULL DEFAULT '',
  last_seen_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX browser_sessions_by_user ON browser_sessions(user_id);
CREATE TABLE oidc_pending_logins (
  state_digest TEXT PRIMARY KEY,
  verifier TEXT NOT NULL,
  nonce TEXT NOT NULL,
  return_to TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
-- Keys every replica signs with alike (the login form's anti-CSRF nonce), made once by whichever starts first.
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

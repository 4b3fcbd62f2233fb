-- Local teams (docs/security.md): members with a role. OIDC users' teams come from their token's groups.
CREATE TABLE team_members (
  team TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL DEFAULT 'member',
  PRIMARY KEY (team, user_id)) WITHOUT ROWID;
CREATE INDEX team_members_by_user ON team_members(user_id);

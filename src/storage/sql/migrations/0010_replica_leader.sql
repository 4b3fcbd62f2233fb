-- 0010: several replicas on one database (docs/scale-out.md): where the replica holding a leader role (the
-- job scheduler) can be reached, written by that replica when it takes the advisory lock.
CREATE TABLE replica_leader (
  role TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  replica_id TEXT NOT NULL,
  since INTEGER NOT NULL
);

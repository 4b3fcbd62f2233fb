-- 0001: the job queues' own database (jobs.db): queues, jobs, their logs, agents, policies (tiers, quotas).
-- "IF NOT EXISTS": databases written before the jobs store had numbered migrations already hold these tables.
CREATE TABLE IF NOT EXISTS job_queues (
  name TEXT PRIMARY KEY,
  max_concurrency INTEGER NOT NULL DEFAULT 0,
  strategy TEXT NOT NULL DEFAULT 'spread',
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  spec TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '',
  agent_id TEXT NOT NULL DEFAULT '',
  gpu_uuids TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER,
  abort_requested INTEGER NOT NULL DEFAULT 0,
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_queue ON jobs(queue, seq);
CREATE TABLE IF NOT EXISTS job_logs (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  stream TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS job_agents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  info TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS job_policies (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  spec TEXT NOT NULL,
  PRIMARY KEY (kind, key)) WITHOUT ROWID;

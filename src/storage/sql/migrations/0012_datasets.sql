-- 0012: datasets (docs/data.md). A version names its manifest object by SHA-256; tags point at versions
-- ("latest" moves with each new version); dataset_objects is each dataset's index of the objects it has
-- proved it holds (digest as the raw 32 bytes), which its readers may download.
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE dataset_versions (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  version INTEGER NOT NULL,
  manifest TEXT NOT NULL,
  file_count INTEGER NOT NULL,
  total_size INTEGER NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '{}',
  created_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, version)
) WITHOUT ROWID;
CREATE INDEX dataset_versions_by_manifest ON dataset_versions(dataset_id, manifest);
CREATE TABLE dataset_tags (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  tag TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, tag)
) WITHOUT ROWID;
CREATE TABLE dataset_objects (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  digest BLOB NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, digest)
) WITHOUT ROWID;

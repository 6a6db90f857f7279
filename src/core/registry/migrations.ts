import { SqlDb } from './db';

/**
 * Schema migrations, applied in order and recorded in schema_migrations. Never edit a released
 * migration: append a new one. Metric series are stored packed (one row per series, float64 arrays
 * as BLOBs) because the sqlite3 driver is slow per statement and series are read whole.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    task TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE model_tags (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (model_id, tag)
  );
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'failed')),
    source_kind TEXT NOT NULL,
    source_uri TEXT NOT NULL,
    format TEXT,
    framework TEXT,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    file_count INTEGER NOT NULL DEFAULT 0,
    parameter_count INTEGER,
    created_at TEXT NOT NULL,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    git_remote TEXT,
    git_subject TEXT,
    git_author TEXT,
    git_date TEXT,
    git_root TEXT,
    parent_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    params TEXT NOT NULL DEFAULT '{}',
    signature TEXT NOT NULL DEFAULT '{}',
    details TEXT NOT NULL DEFAULT '{}',
    description TEXT NOT NULL DEFAULT '',
    importer_pid INTEGER,
    importer_host TEXT,
    UNIQUE (model_id, number)
  );
  CREATE TABLE version_tags (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (version_id, tag)
  );
  CREATE TABLE files (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (version_id, path)
  );
  CREATE INDEX files_by_sha256 ON files (sha256);
  CREATE INDEX files_by_size ON files (size);
  CREATE TABLE metrics (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    source TEXT NOT NULL,
    point_count INTEGER NOT NULL,
    final_value REAL,
    final_step REAL,
    final_is_best INTEGER NOT NULL DEFAULT 0,
    step_data BLOB NOT NULL,
    value_data BLOB NOT NULL,
    wall_time_data BLOB,
    PRIMARY KEY (version_id, key)
  );
  `,
  // A version's model description (config.json) and the template it follows, stored as written.
  `
  ALTER TABLE versions ADD COLUMN config TEXT;
  ALTER TABLE versions ADD COLUMN template_id TEXT;
  `,
  // Version lifecycle: aliases with their history, archive, soft delete (undo until gc), lineage
  // kinds, the highest number ever made ready (numbers of deleted versions are never reused), and the indexes that keep search and paging off full scans at 100k versions.
  `
  ALTER TABLE versions ADD COLUMN archived_at TEXT;
  ALTER TABLE versions ADD COLUMN deleted_at TEXT;
  ALTER TABLE versions ADD COLUMN parent_kind TEXT;
  ALTER TABLE models ADD COLUMN last_number INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE aliases (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    PRIMARY KEY (model_id, alias)
  );
  CREATE INDEX aliases_by_version ON aliases (version_id);
  CREATE INDEX aliases_by_name ON aliases (alias);
  CREATE TABLE alias_history (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    from_number INTEGER,
    to_number INTEGER,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
  );
  CREATE INDEX alias_history_by_model ON alias_history (model_id, alias, id);
  CREATE INDEX versions_by_parent ON versions (parent_id);
  CREATE INDEX versions_by_commit ON versions (git_commit);
  CREATE INDEX versions_by_format ON versions (format);
  CREATE INDEX metrics_by_key_value ON metrics (key, final_value);
  CREATE INDEX version_tags_by_tag ON version_tags (tag);
  CREATE INDEX model_tags_by_tag ON model_tags (tag);
  `,
  // 4: datasets (content-hashed manifests in the store) and evaluations of versions on them.
  `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    root TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    sample_count INTEGER NOT NULL,
    classes TEXT NOT NULL,
    splits TEXT NOT NULL,
    created_at TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    UNIQUE (name, manifest_sha256)
  );
  CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    split TEXT,
    evaluator TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    sample_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    metrics TEXT NOT NULL DEFAULT '{}',
    per_class TEXT NOT NULL DEFAULT '[]',
    confusion TEXT NOT NULL DEFAULT '[]',
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX evaluations_by_version ON evaluations (version_id, id);
  CREATE INDEX evaluations_by_dataset ON evaluations (dataset_id);
  CREATE TABLE evaluation_samples (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    sample_id TEXT NOT NULL,
    label INTEGER,
    prediction INTEGER,
    score REAL,
    error TEXT,
    PRIMARY KEY (evaluation_id, idx)
  ) WITHOUT ROWID;
  CREATE INDEX evaluation_samples_by_cell ON evaluation_samples (evaluation_id, label, prediction, score);
  `,
  // 5: a version's identity across registries (push/pull), so a copy is recognised instead of made twice.
  `
  ALTER TABLE versions ADD COLUMN origin TEXT;
  CREATE UNIQUE INDEX versions_by_origin ON versions (origin);
  `,
  // 6: what each object-storage object (endpoint|bucket|key) held when last downloaded, by ETag and
  // size, so a new import of the same prefix fetches only what changed.
  `
  CREATE TABLE remote_objects (
    location TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    seen_at TEXT NOT NULL
  );
  `,
  // 7: the registry's identity (one row; its id is also in the folder's .modelreg-registry marker, so
  // gc works only in folders this registry made), and every model's last number made up to date from
  // its versions (registries from before last_number lost it when gc removed the last version).
  `
  CREATE TABLE registry_identity (
    one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  UPDATE models SET last_number = (SELECT MAX(v.number) FROM versions v WHERE v.model_id = models.id AND v.status = 'ready')
   WHERE EXISTS (SELECT 1 FROM versions v WHERE v.model_id = models.id AND v.status = 'ready' AND v.number > models.last_number);
  `,
  // 8: which process runs an evaluation, so gc can remove one whose process died (as for imports).
  `
  ALTER TABLE evaluations ADD COLUMN runner_pid INTEGER;
  ALTER TABLE evaluations ADD COLUMN runner_host TEXT;
  `,
  // 9: training runs (src/core/train): a recipe run by a detached runner, its state kept here so it
  // outlives the window that started it. The stored diff and log are objects (gc keeps them).
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    batch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    recipe TEXT NOT NULL,
    model TEXT NOT NULL,
    root TEXT NOT NULL,
    base_version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    base_ref TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'stopped')),
    params TEXT NOT NULL,
    overridden TEXT NOT NULL,
    argv TEXT NOT NULL,
    env TEXT NOT NULL,
    output TEXT NOT NULL,
    log TEXT NOT NULL,
    metric TEXT,
    jobs INTEGER NOT NULL,
    devices TEXT,
    pid INTEGER,
    runner_pid INTEGER,
    runner_host TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    signal TEXT,
    error TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    git_commit TEXT,
    git_dirty INTEGER,
    diff_sha256 TEXT,
    log_sha256 TEXT,
    details TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX runs_by_batch ON runs (batch, seq);
  CREATE INDEX runs_by_status ON runs (status);
  `,
  // 10: a version's examples (src/core/serve/examples.ts): an inference request and the answer the
  // version gave, kept to replay against another version as a regression check.
  `
  CREATE TABLE version_examples (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (version_id, name)
  );
  `,
  // 11: a detection evaluation's outcome for every box, one row per image (ImageOutcomes as JSON,
  // read a page at a time by the review panel); `fp_score` is its most confident false positive and
  // `fn_area` its largest missed object, so the panel's two sorts are an index scan.
  `
  CREATE TABLE evaluation_images (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    sample_id TEXT NOT NULL,
    fp_score REAL,
    fn_area REAL,
    outcomes TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, idx)
  ) WITHOUT ROWID;
  `,
];

export async function migrate(db: SqlDb): Promise<number> {
  return db.transaction(async (tx) => {
    // Inside the write transaction: two processes opening a new registry at once take turns.
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const row = await tx.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const current = row?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `registry schema version ${current} is newer than this Model Registry (${MIGRATIONS.length}); update the extension`,
      );
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      await tx.exec(MIGRATIONS[v - 1]);
      await tx.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [v, new Date().toISOString()]);
    }
    return MIGRATIONS.length;
  });
}

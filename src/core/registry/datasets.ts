/** Datasets: their rows in the registry database, their manifests as objects in the store. */
import { promises as fsp } from 'fs';
import { RegistryError } from '../errors';
import { RegistryCore as Core } from './core';
import { DatasetKind, DatasetManifest, DatasetRecord } from './datasetTypes';

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface DatasetRow {
  id: number;
  name: string;
  kind: string;
  root: string;
  manifest_sha256: string;
  sample_count: number;
  classes: string;
  splits: string;
  created_at: string;
  details: string;
}

const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind as DatasetKind,
  root: r.root,
  manifestSha256: r.manifest_sha256,
  sampleCount: r.sample_count,
  classes: JSON.parse(r.classes),
  splits: JSON.parse(r.splits),
  createdAt: r.created_at,
  details: JSON.parse(r.details),
});

/** Stores the manifest and records the dataset; the same name and content again returns the existing record. */
export async function addDataset(
  core: Core,
  name: string,
  root: string,
  manifest: DatasetManifest,
  details: Record<string, unknown> = {},
): Promise<DatasetRecord> {
  if (!DATASET_NAME.test(name))
    throw new RegistryError(
      `invalid dataset name '${name}': use letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { sha256 } = await core.localStore('datasets').ingestStream([bytes]);
  await core.write((tx) =>
    tx.run(
      `INSERT INTO datasets (name, kind, root, manifest_sha256, sample_count, classes, splits, created_at, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, manifest_sha256) DO NOTHING`,
      [
        name,
        manifest.kind,
        root,
        sha256,
        manifest.samples.length,
        JSON.stringify(manifest.classes),
        JSON.stringify(manifest.splits),
        new Date().toISOString(),
        JSON.stringify(details),
      ],
    ),
  );
  return (await core.sql
    .get<DatasetRow>('SELECT * FROM datasets WHERE name = ? AND manifest_sha256 = ?', [name, sha256])
    .then((r) => r && toDataset(r)))!;
}

/** The newest registration of each dataset name. */
export async function listDatasets(core: Core): Promise<DatasetRecord[]> {
  const rows = await core.sql.all<DatasetRow>(
    'SELECT * FROM datasets d WHERE id = (SELECT MAX(id) FROM datasets WHERE name = d.name) ORDER BY name',
  );
  return rows.map(toDataset);
}

/** A dataset by name (its newest registration) or "name@<manifest sha prefix>". */
export async function getDataset(core: Core, ref: string): Promise<DatasetRecord> {
  const [name, sha] = ref.split('@');
  const row = sha
    ? await core.sql.get<DatasetRow>(
        "SELECT * FROM datasets WHERE name = ? AND manifest_sha256 LIKE ? || '%' ORDER BY id DESC",
        [name, sha],
      )
    : await core.sql.get<DatasetRow>('SELECT * FROM datasets WHERE name = ? ORDER BY id DESC', [name]);
  if (!row) {
    const known = (await listDatasets(core)).map((d) => d.name);
    throw new RegistryError(
      `no dataset '${ref}'${known.length ? ` (datasets: ${known.join(', ')})` : '; register one with modelreg dataset add PATH'}`,
    );
  }
  return toDataset(row);
}

export async function getDatasetById(core: Core, id: number): Promise<DatasetRecord | undefined> {
  const row = await core.sql.get<DatasetRow>('SELECT * FROM datasets WHERE id = ?', [id]);
  return row && toDataset(row);
}

export async function readManifest(core: Core, d: DatasetRecord): Promise<DatasetManifest> {
  return JSON.parse(
    await fsp.readFile(core.localStore('datasets').objectPath(d.manifestSha256), 'utf8'),
  ) as DatasetManifest;
}

/** Lineage: clones, and the graph of versions made from one another (conversions, fine-tunes). */
import * as path from 'path';
import { RegistryError } from '../errors';
import { RegistryCore as Core } from './core';
import {
  bumpModel,
  LINEAGE_LIMIT,
  LINEAGE_SELECT,
  LineageRow,
  LIVE,
  METRIC_COLUMNS,
  MODEL_NAME,
  nextVersionOf,
  toLineageNode,
  toVersion,
  VERSION_SELECT,
  VersionRow,
} from './rows';
import { Lineage, VersionRecord } from './types';
import { getVersionById, resolve } from './versions';

/**
 * Copies a version into `toModel` (a new model, or the next version of an existing one) without
 * copying bytes: the new version refers to the same objects, and remembers it was cloned.
 */
export async function cloneVersion(
  core: Core,
  ref: string,
  toModel: string,
  opts: { description?: string } = {},
): Promise<VersionRecord> {
  if (!MODEL_NAME.test(toModel))
    throw new RegistryError(
      `invalid model name '${toModel}': use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`,
    );
  const src = await resolve(core, ref);
  if (src.status !== 'ready') throw new RegistryError(`${src.ref} is still being imported; clone it once it is ready`);
  const now = new Date().toISOString();
  const id = await core.write(async (tx) => {
    const { modelId, number } = await nextVersionOf(tx, toModel, now);
    const { lastId } = await tx.run(
      `INSERT INTO versions (model_id, number, status, source_kind, source_uri, format, framework, size_bytes, file_count, parameter_count, created_at,
                             git_commit, git_branch, git_dirty, git_remote, git_subject, git_author, git_date, git_root,
                             parent_id, parent_kind, params, signature, details, description, config, template_id)
       SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), 'ready', 'clone', CAST(? AS TEXT), format, framework, size_bytes, file_count, parameter_count, CAST(? AS TEXT),
              git_commit, git_branch, git_dirty, git_remote, git_subject, git_author, git_date, git_root,
              id, 'clone', params, signature, details, CAST(? AS TEXT), config, template_id
         FROM versions WHERE id = ?`,
      [modelId, number, src.ref, now, opts.description ?? src.description, src.id],
    );
    await tx.run(
      'INSERT INTO files (version_id, path, sha256, size, role) SELECT CAST(? AS BIGINT), path, sha256, size, role FROM files WHERE version_id = ?',
      [lastId, src.id],
    );
    await tx.run(
      `INSERT INTO metrics (version_id, ${METRIC_COLUMNS}) SELECT CAST(? AS BIGINT), ${METRIC_COLUMNS} FROM metrics WHERE version_id = ?`,
      [lastId, src.id],
    );
    await tx.run(
      'INSERT INTO version_tags (version_id, tag) SELECT CAST(? AS BIGINT), tag FROM version_tags WHERE version_id = ?',
      [lastId, src.id],
    );
    await bumpModel(tx, modelId, number);
    return lastId;
  });
  return (await getVersionById(core, id))!;
}

export async function lineage(core: Core, ref: string): Promise<Lineage> {
  const v = await resolve(core, ref);
  const up = await core.sql.all<LineageRow>(
    `WITH RECURSIVE up(id, depth) AS (
       SELECT parent_id, 1 FROM versions WHERE id = ? AND parent_id IS NOT NULL
       UNION SELECT p.parent_id, up.depth + 1 FROM versions p JOIN up ON p.id = up.id WHERE p.parent_id IS NOT NULL AND up.depth < ?)
     ${LINEAGE_SELECT} WHERE v.id IN (SELECT id FROM up) LIMIT ?`,
    [v.id, LINEAGE_LIMIT, LINEAGE_LIMIT],
  );
  const down = await core.sql.all<LineageRow>(
    `WITH RECURSIVE down(id, depth) AS (
       SELECT id, 1 FROM versions WHERE parent_id = ?
       UNION SELECT c.id, down.depth + 1 FROM versions c JOIN down ON c.parent_id = down.id WHERE down.depth < ?)
     ${LINEAGE_SELECT} WHERE v.id IN (SELECT id FROM down) LIMIT ?`,
    [v.id, LINEAGE_LIMIT, LINEAGE_LIMIT + 1],
  );
  const self = (await core.sql.all<LineageRow>(`${LINEAGE_SELECT} WHERE v.id = ?`, [v.id]))[0];
  const rows = [self, ...up, ...down.slice(0, LINEAGE_LIMIT)];
  const ids = new Set(rows.map((r) => r.id));
  const nodes = rows.map(toLineageNode);
  return {
    focus: v.id,
    nodes,
    edges: rows
      .map((r, i) => ({ r, converter: nodes[i].converter }))
      .filter(({ r }) => r.parent_id !== null && ids.has(r.parent_id))
      .map(({ r, converter }) => ({
        from: r.parent_id!,
        to: r.id,
        kind: r.parent_kind ?? 'derived',
        ...(converter ? { converter } : {}),
      })),
    truncated: down.length > LINEAGE_LIMIT || up.length >= LINEAGE_LIMIT,
  };
}

/** Versions made directly from this one (clones, conversions, fine-tunes), oldest first. */
export async function childrenOf(core: Core, versionId: number, limit = 100): Promise<VersionRecord[]> {
  const rows = await core.sql.all<VersionRow>(
    `${VERSION_SELECT} WHERE v.parent_id = ? AND ${LIVE} ORDER BY v.id LIMIT ?`,
    [versionId, limit],
  );
  return rows.map(toVersion);
}

/**
 * The registered version a training output was fine-tuned from, when its config names one: a
 * registry reference (`bert-base@production`) or the folder a version was imported from.
 */
export async function findBase(core: Core, names: string[]): Promise<VersionRecord | undefined> {
  for (const name of names) {
    if (path.isAbsolute(name)) {
      const row = await core.sql.get<VersionRow>(
        `${VERSION_SELECT} WHERE v.source_uri = ? AND v.status = 'ready' AND ${LIVE} ORDER BY v.id DESC LIMIT 1`,
        [path.resolve(name)],
      );
      if (row) return toVersion(row);
      continue;
    }
    try {
      return await resolve(core, name);
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e; // not a registry name: a hub id such as bert-base-uncased
    }
  }
  return undefined;
}

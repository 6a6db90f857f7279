/** Models: listing and looking them up, their tags and descriptions. */
import { RegistryError } from '../errors';
import { RegistryCore as Core } from './core';
import { checkTag, LIVE, MODEL_COLUMNS, MODEL_SELECT, ModelRow, NO_LIMIT, toModel, versionCondition } from './rows';
import { parseSearch } from './search';
import { ListOptions, ModelSummary } from './types';

/** Models in name order, a page at a time; with a filter, only those with a matching version. */
export async function listModels(core: Core, opts: ListOptions = {}): Promise<ModelSummary[]> {
  const q = opts.filter ? parseSearch(opts.filter) : undefined;
  const shown = versionCondition(q, opts);
  // A filter with an indexed term finds its few matching models first; otherwise models are walked
  // in name order (those the model-level part of the filter rejects cost no version lookups), each
  // checked for one shown version, until the page is full.
  const listed = q?.indexed
    ? `m.id IN (SELECT v.model_id FROM versions v JOIN models m ON m.id = v.model_id WHERE ${shown.where})`
    : `${q ? q.modelWhere : 'TRUE'} AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${shown.where})`;
  const rows = await core.sql.all<ModelRow>(
    `${MODEL_COLUMNS} FROM (SELECT * FROM models m WHERE ${listed} ORDER BY m.name LIMIT ? OFFSET ?) m ORDER BY m.name`,
    [...(q && !q.indexed ? q.modelParams : []), ...shown.params, opts.limit ?? NO_LIMIT, opts.offset ?? 0],
  );
  return rows.map(toModel);
}

/** How many models have a version that is not deleted (what the status bar shows). */
export async function countModels(core: Core): Promise<number> {
  const row = await core.sql.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM models m WHERE EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${LIVE})`,
  );
  return row!.n;
}

export async function getModel(core: Core, name: string): Promise<ModelSummary | undefined> {
  const row = await core.sql.get<ModelRow>(
    `${MODEL_SELECT} WHERE m.name = ? AND EXISTS (SELECT 1 FROM versions v WHERE v.model_id = m.id AND ${LIVE})`,
    [name],
  );
  return row && toModel(row);
}

/** The model, or an error naming it and the registry. */
export async function requireModel(core: Core, name: string): Promise<ModelSummary> {
  const m = await getModel(core, name);
  if (!m) throw new RegistryError(`no model named '${name}' in the registry at ${core.location}`);
  return m;
}

export async function setModelTags(core: Core, model: string, tags: string[]): Promise<void> {
  const m = await requireModel(core, model);
  const clean = [...new Set(tags.map(checkTag))];
  await core.write(async (tx) => {
    await tx.run('DELETE FROM model_tags WHERE model_id = ?', [m.id]);
    for (const tag of clean) await tx.run('INSERT INTO model_tags (model_id, tag) VALUES (?, ?)', [m.id, tag]);
  });
}

/** Every tag in use, for completion in pickers. */
export async function allTags(core: Core): Promise<string[]> {
  const rows = await core.sql.all<{ tag: string }>(
    'SELECT tag FROM model_tags UNION SELECT tag FROM version_tags ORDER BY tag',
  );
  return rows.map((r) => r.tag);
}

export async function setModelDescription(core: Core, model: string, description: string): Promise<void> {
  const m = await requireModel(core, model);
  await core.write((tx) =>
    tx.run('UPDATE models SET description = ?, updated_at = ? WHERE id = ?', [
      description.trim(),
      new Date().toISOString(),
      m.id,
    ]),
  );
}

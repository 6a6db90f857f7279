/** Aliases (production, staging…): pointing them at versions, and the history of their moves. */
import { RegistryError } from '../errors';
import { gitUser } from '../git/provenance';
import { RegistryCore as Core } from './core';
import { requireModel } from './models';
import { checkAlias } from './rows';
import { AliasMove, VersionRecord } from './types';

/**
 * Points `alias` of the version's model at the version (moving it if it pointed elsewhere) and
 * records the move. The caller resolves the reference after `checkAlias`, so a bad name is told first.
 */
export async function setAlias(core: Core, v: VersionRecord, alias: string): Promise<AliasMove> {
  checkAlias(alias);
  if (v.status !== 'ready')
    throw new RegistryError(`${v.ref} is still being imported; an alias can point only at a ready version`);
  if (v.archivedAt) throw new RegistryError(`${v.ref} is archived; unarchive it before pointing '${alias}' at it`);
  const by = await actor(core);
  const move = await core.write(async (tx) => {
    const current = await tx.get<{ number: number; version_id: number }>(
      'SELECT v.number, a.version_id FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?',
      [v.modelId, alias],
    );
    const at = new Date().toISOString();
    if (current?.version_id === v.id) return { model: v.model, alias, from: v.number, to: v.number, at, by };
    await tx.run(
      'INSERT INTO aliases (model_id, alias, version_id) VALUES (?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id',
      [v.modelId, alias, v.id],
    );
    await tx.run(
      'INSERT INTO alias_history (model_id, alias, from_number, to_number, changed_at, changed_by) VALUES (?, ?, ?, ?, ?, ?)',
      [v.modelId, alias, current?.number ?? null, v.number, at, by],
    );
    return { model: v.model, alias, from: current?.number ?? null, to: v.number, at, by };
  });
  return move;
}

export async function removeAlias(core: Core, model: string, alias: string): Promise<AliasMove> {
  const m = await requireModel(core, model);
  const by = await actor(core);
  const move = await core.write(async (tx) => {
    const current = await tx.get<{ number: number }>(
      'SELECT v.number FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?',
      [m.id, alias],
    );
    if (!current) throw new RegistryError(`model '${model}' has no alias '${alias}'`);
    const at = new Date().toISOString();
    await tx.run('DELETE FROM aliases WHERE model_id = ? AND alias = ?', [m.id, alias]);
    await tx.run(
      'INSERT INTO alias_history (model_id, alias, from_number, to_number, changed_at, changed_by) VALUES (?, ?, ?, NULL, ?, ?)',
      [m.id, alias, current.number, at, by],
    );
    return { model, alias, from: current.number, to: null, at, by };
  });
  return move;
}

export async function aliasesOf(core: Core, model: string): Promise<{ alias: string; number: number }[]> {
  return core.sql.all(
    'SELECT a.alias, v.number FROM aliases a JOIN versions v ON v.id = a.version_id JOIN models m ON m.id = a.model_id WHERE m.name = ? ORDER BY a.alias',
    [model],
  );
}

/** Every move of a model's aliases (or of one alias), newest first. */
export async function aliasHistory(core: Core, model: string, alias?: string): Promise<AliasMove[]> {
  const m = await requireModel(core, model);
  const rows = await core.sql.all<{
    alias: string;
    from_number: number | null;
    to_number: number | null;
    changed_at: string;
    changed_by: string;
  }>(
    `SELECT alias, from_number, to_number, changed_at, changed_by FROM alias_history WHERE model_id = ? ${alias ? 'AND alias = ?' : ''} ORDER BY id DESC`,
    alias ? [m.id, alias] : [m.id],
  );
  return rows.map((r) => ({
    model,
    alias: r.alias,
    from: r.from_number,
    to: r.to_number,
    at: r.changed_at,
    by: r.changed_by,
  }));
}

/** Who moves aliases (and saves examples): the git user of the registry's folder (asked once per registry). */
export function actor(core: Core): Promise<string> {
  let name = actors.get(core);
  if (!name) actors.set(core, (name = gitUser(core.dir)));
  return name;
}
const actors = new WeakMap<Core, Promise<string>>();

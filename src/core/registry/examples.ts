/** A version's examples: requests and the answers it gave (the serving side is src/core/serve/examples.ts). */
import { RegistryError } from '../errors';
import { actor } from './aliases';
import { RegistryCore as Core } from './core';
import { VersionExample, VersionRecord } from './types';

/** A request and its answer together; tensors larger than this belong in a dataset, not an example. */
export const MAX_EXAMPLE_BYTES = 16 * 1024 * 1024;
export const EXAMPLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkExampleName(name: string): void {
  if (!EXAMPLE_NAME.test(name))
    throw new RegistryError(
      `cannot name an example '${name.slice(0, 80)}': use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export async function saveExample(
  core: Core,
  v: VersionRecord,
  e: Pick<VersionExample, 'name' | 'request' | 'response'>,
  opts: { replace?: boolean } = {},
): Promise<VersionExample> {
  checkExampleName(e.name);
  if (!isObject(e.request) || !Array.isArray(e.request.inputs) || e.request.inputs.length === 0)
    throw new RegistryError(
      `example '${e.name}': the request has no "inputs" (an Open Inference Protocol infer request)`,
    );
  if (!isObject(e.response) || !Array.isArray(e.response.outputs))
    throw new RegistryError(
      `example '${e.name}': the response has no "outputs" (an Open Inference Protocol infer response)`,
    );
  const request = JSON.stringify(e.request);
  const response = JSON.stringify(e.response);
  const size = Buffer.byteLength(request) + Buffer.byteLength(response);
  if (size > MAX_EXAMPLE_BYTES)
    throw new RegistryError(
      `example '${e.name}' is ${(size / 1048576).toFixed(1)} MiB; an example holds at most ${MAX_EXAMPLE_BYTES / 1048576} MiB (keep large inputs in a dataset)`,
    );
  const createdAt = new Date().toISOString();
  const createdBy = await actor(core);
  await core.write(async (tx) => {
    const old = await tx.get('SELECT 1 AS one FROM version_examples WHERE version_id = ? AND name = ?', [v.id, e.name]);
    if (old && !opts.replace)
      throw new RegistryError(`${v.ref} already has an example '${e.name}'; remove it first or replace it`);
    await tx.run(
      `INSERT INTO version_examples (version_id, name, request, response, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (version_id, name) DO UPDATE SET request = excluded.request, response = excluded.response,
         created_at = excluded.created_at, created_by = excluded.created_by`,
      [v.id, e.name, request, response, createdAt, createdBy],
    );
  });
  return { name: e.name, request: e.request, response: e.response, createdAt, createdBy };
}

/** The version's examples in name order. */
export async function listExamples(core: Core, versionId: number): Promise<VersionExample[]> {
  const rows = await core.sql.all<{
    name: string;
    request: string;
    response: string;
    created_at: string;
    created_by: string;
  }>('SELECT * FROM version_examples WHERE version_id = ? ORDER BY name', [versionId]);
  return rows.map((r) => ({
    name: r.name,
    request: JSON.parse(r.request),
    response: JSON.parse(r.response),
    createdAt: r.created_at,
    createdBy: r.created_by,
  }));
}

export async function removeExample(core: Core, v: VersionRecord, name: string): Promise<void> {
  await core.write(async (tx) => {
    const { changes } = await tx.run('DELETE FROM version_examples WHERE version_id = ? AND name = ?', [v.id, name]);
    if (!changes) {
      const names = (
        await tx.all<{ name: string }>('SELECT name FROM version_examples WHERE version_id = ? ORDER BY name', [v.id])
      ).map((r) => r.name);
      throw new RegistryError(
        `${v.ref} has no example '${name.slice(0, 80)}'${names.length ? `; it has: ${names.join(', ')}` : ' (it has none)'}`,
      );
    }
  });
}

/** Maintenance: gc (what deleted, dead or unreferenced leaves behind) and verify (re-hashing the objects). */
import { promises as fsp } from 'fs';
import * as os from 'os';
import { CancelledError } from '../errors';
import { hashFile, LocalStore } from '../store/localStore';
import { RegistryCore as Core } from './core';
import { isAlive, NEVER_READY } from './rows';

/** How long gc spares unreferenced objects in a team registry's bucket (pushes in flight). */
export const SHARED_STORE_GRACE_MS = 60 * 60 * 1000;

export interface VerifyProblem {
  sha256: string;
  problem: 'missing' | 'corrupt';
  /** Versions and paths that reference the object, as "model@vN:path". */
  usedBy: string[];
}

/**
 * Removes versions left `importing` by processes that died, then every object no version refers
 * to, and the temp files of processes that died. Imports running right now are safe: gc reads them
 * under the write lock, which beginVersion takes too, so an import either began before (and its
 * fresh objects are spared) or waits until gc has finished.
 */
export async function gc(
  core: Core,
  opts: { sharedGraceMs?: number } = {},
): Promise<{ removedObjects: number; removedBytes: number; removedVersions: number; removedEvaluations: number }> {
  const host = os.hostname();
  const store = core.store;
  const shared = !(store instanceof LocalStore);
  const result = await core.write(
    async (tx) => {
      // Deleted versions go for good now; their numbers stay used (models.last_number).
      let removedVersions = (await tx.run('DELETE FROM versions WHERE deleted_at IS NOT NULL')).changes;
      const importing = await tx.all<{
        id: number;
        importer_pid: number | null;
        importer_host: string | null;
        created_at: string;
      }>("SELECT id, importer_pid, importer_host, created_at FROM versions WHERE status <> 'ready'");
      let liveSince: number | undefined;
      for (const v of importing) {
        const alive = v.importer_host === host && v.importer_pid !== null && isAlive(v.importer_pid);
        if (alive || v.importer_host !== host) {
          // A live import (or one on another machine sharing this folder): keep it and its fresh objects.
          const t = Date.parse(v.created_at);
          liveSince = liveSince === undefined ? t : Math.min(liveSince, t);
        } else {
          await tx.run('DELETE FROM versions WHERE id = ?', [v.id]);
          removedVersions++;
        }
      }
      // Evaluations whose process died on this host (a live one, or one elsewhere, is kept); samples go too.
      const evaluating = await tx.all<{ id: number; runner_pid: number; runner_host: string }>(
        "SELECT id, runner_pid, runner_host FROM evaluations WHERE status <> 'done' AND runner_pid IS NOT NULL AND runner_host = ?",
        [host],
      );
      const deadEvaluations = evaluating.filter((e) => !isAlive(e.runner_pid));
      for (const e of deadEvaluations) {
        await tx.run('DELETE FROM evaluation_samples WHERE evaluation_id = ?', [e.id]);
        await tx.run('DELETE FROM evaluation_images WHERE evaluation_id = ?', [e.id]);
        await tx.run('DELETE FROM evaluations WHERE id = ?', [e.id]);
      }
      // A model goes only if it never had a ready version: the others keep their row and its last number.
      await tx.run(`DELETE FROM models WHERE ${NEVER_READY}`);
      // A team registry's bucket: a push from another machine leaves no row until it commits, so its
      // objects are spared for a while (an hour unless told otherwise).
      // (A second of slack for the live imports: file times are coarser than their start times.)
      const spareFrom = Math.min(
        liveSince === undefined ? Infinity : liveSince - 1000,
        shared ? Date.now() - (opts.sharedGraceMs ?? SHARED_STORE_GRACE_MS) : Infinity,
      );
      // Objects go under the write lock, so no version can complete with a reference to one meanwhile.
      const referenced = new Set(
        (
          await tx.all<{ sha256: string }>(`SELECT sha256 FROM files UNION SELECT manifest_sha256 FROM datasets
           UNION SELECT diff_sha256 FROM runs WHERE diff_sha256 IS NOT NULL UNION SELECT log_sha256 FROM runs WHERE log_sha256 IS NOT NULL`)
        ).map((r) => r.sha256),
      );
      let removedObjects = 0;
      let removedBytes = 0;
      for await (const sha of store.list()) {
        if (referenced.has(sha)) continue;
        if (spareFrom !== Infinity) {
          // A live import may have written (or reused: the local store refreshes mtime) this object.
          const modified = await store.modifiedMs(sha);
          if (modified !== undefined && modified >= spareFrom) continue;
        }
        removedBytes += await store.remove(sha);
        removedObjects++;
      }
      return { removedObjects, removedBytes, removedVersions, removedEvaluations: deadEvaluations.length };
    },
    (r) => r.removedVersions > 0 || r.removedObjects > 0,
  );
  // Temp files are named by their process: a live one's are never touched, so no lock is needed.
  if (!shared) await store.removeStaleTemp(isAlive);
  return result;
}

/** Re-hashes every referenced object and reports the missing and the corrupt ones. */
export async function verify(
  core: Core,
  opts: { signal?: AbortSignal; onObject?: (done: number, total: number) => void } = {},
): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const store = core.localStore('verify');
  const rows = await core.sql.all<{ sha256: string; size: number; model: string; number: number; path: string }>(
    `SELECT f.sha256, f.size, m.name AS model, v.number, f.path
       FROM files f JOIN versions v ON v.id = f.version_id JOIN models m ON m.id = v.model_id ORDER BY f.sha256`,
  );
  const users = new Map<string, string[]>();
  for (const r of rows) {
    const list = users.get(r.sha256) ?? [];
    list.push(`${r.model}@v${r.number}:${r.path}`);
    users.set(r.sha256, list);
  }
  const problems: VerifyProblem[] = [];
  let done = 0;
  for (const [sha, usedBy] of users) {
    if (opts.signal?.aborted) throw new CancelledError();
    const p = store.objectPath(sha);
    const exists = await fsp.stat(p).then(
      () => true,
      () => false,
    );
    if (!exists) problems.push({ sha256: sha, problem: 'missing', usedBy });
    else if ((await hashFile(p, { signal: opts.signal })).sha256 !== sha)
      problems.push({ sha256: sha, problem: 'corrupt', usedBy });
    opts.onObject?.(++done, users.size);
  }
  return { checked: users.size, problems };
}

/**
 * Training runs: one row per run, written by whoever queues it, the detached runner that runs it,
 * and stop. Every change of state is a conditional UPDATE, so a stop and the runner's own end
 * cannot both win: the first to move a run out of queued/running decides how it ended.
 */
import * as os from 'os';
import { RegistryError } from '../errors';
import { RegistryCore as Core } from './core';
import { SqlValue } from './db';
import { isAlive } from './rows';
import { NewRun, RunEnd, RunRecord, RunStatus } from './runTypes';

interface RunRow {
  id: string;
  batch: string;
  recipe: string;
  model: string;
  root: string;
  base_version_id: number | null;
  base_ref: string | null;
  status: string;
  params: string;
  overridden: string;
  argv: string;
  env: string;
  output: string;
  log: string;
  metric: string | null;
  jobs: number;
  devices: string | null;
  pid: number | null;
  runner_pid: number | null;
  runner_host: string | null;
  stop_requested: number;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  version_id: number | null;
  version_model: string | null;
  version_number: number | null;
  git_commit: string | null;
  git_dirty: number | null;
  diff_sha256: string | null;
  log_sha256: string | null;
  details: string;
}

const RUN_SELECT = `SELECT r.*, m.name AS version_model, v.number AS version_number
  FROM runs r LEFT JOIN versions v ON v.id = r.version_id LEFT JOIN models m ON m.id = v.model_id`;

const ACTIVE = "status IN ('queued', 'running')";

function toRun(r: RunRow): RunRecord {
  return {
    id: r.id,
    batch: r.batch,
    recipe: r.recipe,
    model: r.model,
    root: r.root,
    base: r.base_ref ? { id: r.base_version_id, ref: r.base_ref } : null,
    status: r.status as RunStatus,
    params: JSON.parse(r.params),
    overridden: JSON.parse(r.overridden),
    argv: JSON.parse(r.argv),
    env: JSON.parse(r.env),
    output: r.output,
    log: r.log,
    metric: r.metric,
    jobs: Number(r.jobs),
    devices: r.devices,
    pid: r.pid === null ? null : Number(r.pid),
    runner: r.runner_pid === null ? null : { pid: Number(r.runner_pid), host: r.runner_host ?? '' },
    stopRequested: !!r.stop_requested,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    signal: r.signal,
    error: r.error,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    versionId: r.version_id === null ? null : Number(r.version_id),
    versionRef: r.version_model ? `${r.version_model}@v${r.version_number}` : null,
    git: r.git_commit ? { commit: r.git_commit, dirty: !!r.git_dirty, diff: r.diff_sha256 } : null,
    logObject: r.log_sha256,
    details: JSON.parse(r.details),
  };
}

export async function insertRuns(core: Core, runs: NewRun[]): Promise<void> {
  const now = new Date().toISOString();
  await core.write(async (tx) => {
    for (const [seq, r] of runs.entries()) {
      await tx.run(
        `INSERT INTO runs (id, batch, seq, recipe, model, root, base_version_id, base_ref, status, params, overridden, argv, env,
                           output, log, metric, jobs, devices, queued_at, git_commit, git_dirty, diff_sha256, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id,
          r.batch,
          seq,
          r.recipe,
          r.model,
          r.root,
          r.base?.id ?? null,
          r.base?.ref ?? null,
          JSON.stringify(r.params),
          JSON.stringify(r.overridden),
          JSON.stringify(r.argv),
          JSON.stringify(r.env),
          r.output,
          r.log,
          r.metric,
          r.jobs,
          r.devices,
          now,
          r.git?.commit ?? null,
          r.git ? (r.git.dirty ? 1 : 0) : null,
          r.git?.diff ?? null,
          JSON.stringify(r.details ?? {}),
        ],
      );
    }
  });
}

export async function getRun(core: Core, id: string): Promise<RunRecord | undefined> {
  const row = await core.sql.get<RunRow>(`${RUN_SELECT} WHERE r.id = ?`, [id]);
  return row && toRun(row);
}

export async function requireRun(core: Core, id: string): Promise<RunRecord> {
  const run = await getRun(core, id);
  if (run) return run;
  const near = await core.sql.all<{ id: string }>(
    'SELECT id FROM runs WHERE id LIKE ? ORDER BY queued_at DESC LIMIT 5',
    [`%${id.replace(/[%_]/g, '')}%`],
  );
  throw new RegistryError(
    `no run '${id}' in ${core.location}` + (near.length ? ` (did you mean ${near.map((r) => r.id).join(', ')}?)` : ''),
  );
}

/** Runs newest first; `batch` keeps the order they were queued in. */
export async function listRuns(
  core: Core,
  opts: { status?: RunStatus[]; batch?: string; limit?: number } = {},
): Promise<RunRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (opts.status?.length) {
    where.push(`r.status IN (${opts.status.map(() => '?').join(', ')})`);
    params.push(...opts.status);
  }
  if (opts.batch) {
    where.push('r.batch = ?');
    params.push(opts.batch);
  }
  const order = opts.batch ? 'r.seq' : 'r.queued_at DESC, r.seq DESC';
  const rows = await core.sql.all<RunRow>(
    `${RUN_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`,
    [...params, opts.limit ?? 500],
  );
  return rows.map(toRun);
}

/** The runner of a batch says who it is, so a runner that died is noticed. */
export async function setRunner(core: Core, batch: string, pid: number): Promise<void> {
  await core.write((tx) =>
    tx.run(`UPDATE runs SET runner_pid = ?, runner_host = ? WHERE batch = ? AND ${ACTIVE}`, [
      pid,
      os.hostname(),
      batch,
    ]),
  );
}

/** Moves a queued run to running; false when a stop took it meanwhile. */
export async function claimRun(core: Core, id: string, devices: string | null): Promise<boolean> {
  const { changes } = await core.write((tx) =>
    tx.run(`UPDATE runs SET status = 'running', started_at = ?, devices = ? WHERE id = ? AND status = 'queued'`, [
      new Date().toISOString(),
      devices,
      id,
    ]),
  );
  return changes > 0;
}

export async function setRunPid(core: Core, id: string, pid: number): Promise<void> {
  await core.write((tx) => tx.run("UPDATE runs SET pid = ? WHERE id = ? AND status = 'running'", [pid, id]));
}

export async function setRunDetails(core: Core, id: string, details: Record<string, unknown>): Promise<void> {
  await core.write((tx) => tx.run('UPDATE runs SET details = ? WHERE id = ?', [JSON.stringify(details), id]));
}

/** Ends a queued or running run; false when it had already ended (the first end wins). */
export async function endRun(core: Core, id: string, end: RunEnd): Promise<boolean> {
  const { changes } = await core.write((tx) =>
    tx.run(
      `UPDATE runs SET status = ?, exit_code = ?, signal = ?, error = ?, version_id = ?, log_sha256 = COALESCE(?, log_sha256),
                       finished_at = ? WHERE id = ? AND ${ACTIVE}`,
      [
        end.status,
        end.exitCode ?? null,
        end.signal ?? null,
        end.error ?? null,
        end.versionId ?? null,
        end.logObject ?? null,
        new Date().toISOString(),
        id,
      ],
    ),
  );
  return changes > 0;
}

/** Records that a stop was asked for, so the runner reports the run as stopped rather than failed. */
export async function markStopRequested(core: Core, id: string): Promise<void> {
  await core.write((tx) => tx.run(`UPDATE runs SET stop_requested = 1 WHERE id = ? AND ${ACTIVE}`, [id]));
}

/** Puts an ended run back in the queue of a new batch (Retry): same recipe, parameters and command. */
export async function requeueRun(
  core: Core,
  id: string,
  fresh: Pick<RunRecord, 'id' | 'batch' | 'log' | 'argv' | 'env' | 'output'>,
): Promise<void> {
  await core.write(async (tx) => {
    await tx.run(
      `INSERT INTO runs (id, batch, seq, recipe, model, root, base_version_id, base_ref, status, params, overridden, argv, env,
                         output, log, metric, jobs, devices, queued_at, git_commit, git_dirty, diff_sha256, details)
       SELECT ?, ?, 0, recipe, model, root, base_version_id, base_ref, 'queued', params, overridden, ?, ?,
              ?, ?, metric, 1, NULL, ?, git_commit, git_dirty, diff_sha256, ?
         FROM runs WHERE id = ?`,
      [
        fresh.id,
        fresh.batch,
        JSON.stringify(fresh.argv),
        JSON.stringify(fresh.env),
        fresh.output,
        fresh.log,
        new Date().toISOString(),
        JSON.stringify({ retryOf: id }),
        id,
      ],
    );
  });
}

/**
 * Runs whose runner on this machine is gone: it died (killed, machine slept through a reboot…)
 * without recording their end. Marks them failed, with why.
 */
export async function failOrphanedRuns(core: Core): Promise<number> {
  const rows = await core.sql.all<{
    id: string;
    status: string;
    runner_pid: number | null;
    runner_host: string | null;
    queued_at: string;
  }>(`SELECT id, status, runner_pid, runner_host, queued_at FROM runs WHERE ${ACTIVE}`);
  let failed = 0;
  for (const r of rows) {
    if (r.runner_pid === null) {
      // A runner records itself within a second of being started; a minute without one means it never ran.
      if (Date.now() - Date.parse(r.queued_at) < 60_000) continue;
    } else if (r.runner_host !== os.hostname() || isAlive(Number(r.runner_pid))) continue;
    const why =
      r.runner_pid === null
        ? 'the runner never started'
        : `the runner (process ${r.runner_pid}) ended without recording how this run ended`;
    if (await endRun(core, r.id, { status: 'failed', error: why })) failed++;
  }
  return failed;
}

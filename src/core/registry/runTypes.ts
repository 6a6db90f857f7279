/** Training runs as the registry records them (the SQL is in runs.ts; the work in src/core/train). */

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped';
export type ParamValue = string | number | boolean;

/** A run still to end: the runner may pick it up or is running it. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export const isActiveStatus = (s: RunStatus): boolean => ACTIVE_STATUSES.includes(s);

export interface RunRecord {
  /** Safe in paths and on a command line: `<recipe>-<yyyymmdd-hhmmss>-<4 hex>`. */
  id: string;
  /** One `train` invocation: the runs of a sweep share it, and one runner runs them. */
  batch: string;
  recipe: string;
  model: string;
  /** The folder holding modelreg.json: the run's working folder. */
  root: string;
  base: { id: number | null; ref: string } | null;
  status: RunStatus;
  /** Final parameter values, and which of them were overridden (-p, --sweep). */
  params: Record<string, ParamValue>;
  overridden: string[];
  argv: string[];
  env: Record<string, string>;
  /** The output folder (absolute), imported when the run succeeds. */
  output: string;
  /** The run's log file (stdout and stderr of the command). */
  log: string;
  /** The recipe's main metric, shown while it runs. */
  metric: string | null;
  /** How many runs of the batch run at once. */
  jobs: number;
  /** CUDA_VISIBLE_DEVICES given to this run, when devices were handed out. */
  devices: string | null;
  /** The training process; it leads its own process group. */
  pid: number | null;
  runner: { pid: number; host: string } | null;
  stopRequested: boolean;
  exitCode: number | null;
  signal: string | null;
  /** Why it failed, when not just an exit code (the import failed, the runner died…). */
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  versionId: number | null;
  versionRef: string | null;
  /** The code the run trained with: the commit, and the diff (an object's sha256) when the tree was dirty. */
  git: { commit: string; dirty: boolean; diff: string | null } | null;
  /** The stored log (an object's sha256), once the run ended. */
  logObject: string | null;
  details: Record<string, unknown>;
}

/** What a new run's row holds (queued): the record's facts known before it runs. */
export type NewRun = Pick<
  RunRecord,
  | 'id'
  | 'batch'
  | 'recipe'
  | 'model'
  | 'root'
  | 'params'
  | 'overridden'
  | 'argv'
  | 'env'
  | 'output'
  | 'log'
  | 'metric'
  | 'jobs'
  | 'devices'
  | 'git'
> & {
  base: { id: number; ref: string } | null;
  details?: Record<string, unknown>;
};

/** How a run ended, as the runner (or stop, or the reconciler) records it. */
export interface RunEnd {
  status: 'succeeded' | 'failed' | 'stopped';
  exitCode?: number | null;
  signal?: string | null;
  error?: string | null;
  versionId?: number | null;
  logObject?: string | null;
}

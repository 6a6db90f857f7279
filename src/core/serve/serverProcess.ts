/**
 * A `modelreg serve` in a process of its own, as the VS Code Deployments view runs it: onnxruntime
 * crashing or a model hanging cannot take the caller (the extension host) down; the caller sees the
 * exit and can start it again. The child is the CLI itself (`serve --json`), so what the view runs is
 * exactly what a terminal runs. Its stdin is a pipe it watches: when the caller goes, the server stops.
 */
import { ChildProcess, spawn } from 'child_process';
import { EventEmitter } from 'events';
import * as path from 'path';
import { ServeMetrics, type ModelSummary } from './metrics';
import type { ServedModel } from './server';

export interface DeploySpec {
  /** What to serve: NAME@vN (pinned), NAME@ALIAS (follows the alias). */
  refs: string[];
  /** The local registry folder. */
  registryDir: string;
  host?: string;
  /** 0: any free port. */
  port: number;
  maxBatch?: number;
  batchDelayMs?: number;
}

export type DeploymentStatus = 'starting' | 'ready' | 'failed' | 'crashed' | 'stopping' | 'stopped';

/** What the Deployments view shows of one server. */
export interface DeploymentSnapshot {
  id: number;
  spec: DeploySpec;
  status: DeploymentStatus;
  url?: string;
  models: ServedModel[];
  /** Why it failed or crashed: the server's last error line, or its exit. */
  error?: string;
  startedAt: number;
  metrics: ModelSummary[];
}

const KEPT_LOG_LINES = 2000;
let nextId = 1;

/** The CLI bundle beside the bundle that starts it (dist/cli.js beside dist/extension.js). */
export const cliScript = (): string => path.join(__dirname, 'cli.js');

export class ServerProcess extends EventEmitter {
  readonly id = nextId++;
  status: DeploymentStatus = 'starting';
  url?: string;
  token?: string;
  models: ServedModel[] = [];
  error?: string;
  startedAt = Date.now();
  metrics: ModelSummary[] = [];
  /** The server's log (one line per request, alias moves, errors), the latest KEPT_LOG_LINES. */
  readonly log: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: DeploySpec,
    private readonly script = cliScript(),
  ) {
    super();
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  snapshot(): DeploymentSnapshot {
    const { id, spec, status, url, models, error, startedAt, metrics } = this;
    return { id, spec, status, url, models, error, startedAt, metrics };
  }

  /** Starts the server (again, after a crash or a stop); resolves once it is ready, rejects if it ends first. */
  start(): Promise<void> {
    if (this.child) throw new Error(`deployment ${this.id} is already running`);
    const s = this.spec;
    const args = [this.script, '--registry', s.registryDir, 'serve', ...s.refs, '--json', '--stop-with-stdin'];
    args.push('--host', s.host ?? '127.0.0.1', '--port', String(s.port));
    if (s.maxBatch) args.push('--max-batch', String(s.maxBatch));
    if (s.batchDelayMs !== undefined) args.push('--batch-delay-ms', String(s.batchDelayMs));
    // In the extension host process.execPath is Electron: this makes it a plain Node.
    const child = spawn(process.execPath, args, {
      cwd: s.registryDir,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.set({ status: 'starting', error: undefined, url: undefined, models: [], metrics: [], startedAt: Date.now() });
    const ready = new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const nl = out.indexOf('\n');
        if (nl < 0 || this.status !== 'starting') return;
        try {
          const line = JSON.parse(out.slice(0, nl)) as { url: string; models: ServedModel[]; token?: string };
          this.token = line.token;
          this.set({ status: 'ready', url: line.url, models: line.models });
          resolve();
        } catch (e) {
          this.line(`error: the server's ready line is not JSON (${(e as Error).message})`);
        }
      });
      lines(child.stderr!, (l) => this.line(l));
      child.once('error', (e) => this.line(`error: ${e.message}`));
      this.exited = new Promise((done) =>
        child.once('exit', (code, signal) => {
          this.child = undefined;
          const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
          const last = [...this.log].reverse().find((l) => /^(modelreg: |error: )/.test(l));
          if (this.status === 'stopping') this.set({ status: 'stopped' });
          else if (this.status === 'starting') {
            this.set({ status: 'failed', error: last?.replace(/^modelreg: /, '') ?? `the server ${how}` });
            reject(new Error(this.error));
          } else this.set({ status: 'crashed', error: `the server ${how}${last ? `: ${last}` : ''}` });
          done();
        }),
      );
    });
    return ready;
  }

  /** Asks the server to finish the requests in flight and stop; kills it after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.set({ status: 'stopping' });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Reads the server's /metrics into `metrics` (request counts, p50/p95 per model and version). */
  async readMetrics(signal?: AbortSignal): Promise<ModelSummary[]> {
    if (this.status !== 'ready' || !this.url) return this.metrics;
    const res = await fetch(`${this.url}/metrics`, {
      headers: this.token ? { Authorization: `Bearer ${this.token}` } : {},
      signal,
    });
    if (!res.ok) throw new Error(`${this.url}/metrics answered HTTP ${res.status}`);
    this.set({ metrics: ServeMetrics.parse(await res.text()).summary() });
    return this.metrics;
  }

  private line(l: string): void {
    this.log.push(l);
    if (this.log.length > KEPT_LOG_LINES) this.log.splice(0, this.log.length - KEPT_LOG_LINES);
    this.emit('log', l);
  }

  private set(p: Partial<Pick<ServerProcess, 'status' | 'url' | 'models' | 'error' | 'metrics' | 'startedAt'>>): void {
    Object.assign(this, p);
    this.emit('change');
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): void {
  let rest = '';
  stream.on('data', (b: Buffer) => {
    const parts = (rest + b.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  });
  stream.on('end', () => rest && onLine(rest));
}

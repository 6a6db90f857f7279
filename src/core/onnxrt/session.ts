/**
 * onnxruntime sessions in a child process. onnxruntime is native code that can crash (SIGSEGV in a
 * graph optimiser, abort on a bad kernel) or hang; in-process that would take down the VS Code
 * extension host or the CLI and leave a half-made version behind. Every session the product opens
 * (conversion checks, the built-in evaluator, serving) goes through OrtSession: one child per
 * session, tensors passed as typed arrays (fork's 'advanced' serialization), a crash or a timeout
 * reported as an error and the child gone.
 *
 * The child's script sits beside this module: out/src/core/onnxrt/ortHost.js when compiled by tsc,
 * dist/ortHost.js when bundled by esbuild (see esbuild.mjs).
 */
import { ChildProcess, fork } from 'child_process';
import { EventEmitter } from 'events';
import { existsSync } from 'fs';
import * as path from 'path';
import { CancelledError } from '../errors';
import type { HostReply, HostRequest, TensorData, ValueMeta } from './protocol';

export type { TensorData, ValueMeta } from './protocol';

export interface OrtSessionOptions {
  /** Aborting kills the child: whatever it was doing rejects with CancelledError. */
  signal?: AbortSignal;
  /** How long loading may take before the child is killed; default 10 minutes. */
  loadTimeoutMs?: number;
  /** How long one run() may take before the child is killed; default 10 minutes. */
  runTimeoutMs?: number;
  /** onnxruntime's own session options (graphOptimizationLevel, intraOpNumThreads…), passed as they are. */
  sessionOptions?: Record<string, unknown>;
}

/** onnxruntime itself refused (cannot load the file, a bad feed…): its message, the session still usable after a run error. */
export class OrtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrtError';
  }
}

/** The child died while loading or running: a native crash (signal) or an unexpected exit. */
export class OrtCrashError extends Error {
  constructor(
    readonly phase: 'loading' | 'running',
    /** SIGSEGV, SIGABRT… or "exit 3". */
    readonly how: string,
    readonly stderr: string,
  ) {
    super(`onnxruntime crashed (${how}) ${phase} the model`);
    this.name = 'OrtCrashError';
  }
}

/** The child did not answer in time and was killed. */
export class OrtTimeoutError extends Error {
  constructor(
    readonly phase: 'loading' | 'running',
    readonly ms: number,
  ) {
    super(`onnxruntime did not finish ${phase} the model within ${Math.round(ms / 1000)} s; it was stopped`);
    this.name = 'OrtTimeoutError';
  }
}

/** A request without its id (Omit over each member of the union). */
type RequestBody = HostRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const DEFAULT_TIMEOUT = 10 * 60 * 1000;
const STDERR_KEPT = 4096;

interface Pending {
  phase: 'loading' | 'running';
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Announces every onnxruntime child as it starts: 'spawn' with { pid, file }, for process monitors and
 * logs (and tests that need to crash one on purpose).
 */
export const ortProcesses = new EventEmitter();

/** The child's entry script, beside this module (compiled or bundled). */
export function hostScript(): string {
  const script = path.join(__dirname, 'ortHost.js');
  if (!existsSync(script)) throw new Error(`onnxruntime host script missing: ${script} (rebuild the extension)`);
  return script;
}

export class OrtSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private dead: Error | undefined;
  private stderr = '';
  private readonly exited: Promise<void>;
  inputs: ValueMeta[] = [];
  outputs: ValueMeta[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly opts: OrtSessionOptions,
  ) {
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-STDERR_KEPT);
    });
    child.on('message', (m: HostReply) => this.settle(m));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const how = signal ?? `exit ${code}`;
        for (const [id, p] of this.pending) this.fail(id, p, new OrtCrashError(p.phase, how, this.stderr.trim()));
        this.dead ??= new Error(`the onnxruntime process has ended (${how})`);
        resolve();
      });
    });
    // A send to a child that is dying errors too; its 'exit' then reports the crash. Only a child that never started fails here.
    child.on('error', (e) => {
      if (child.pid === undefined) for (const [id, p] of this.pending) this.fail(id, p, e);
    });
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Starts a child and loads `file` in it. Rejects with OrtError, OrtCrashError, OrtTimeoutError or CancelledError; the child is gone then. */
  static async create(file: string, opts: OrtSessionOptions = {}): Promise<OrtSession> {
    if (opts.signal?.aborted) throw new CancelledError();
    const child = fork(hostScript(), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: [],
    });
    const s = new OrtSession(child, opts);
    try {
      const loading = s.request({ op: 'create', file, options: opts.sessionOptions }, 'loading', opts.loadTimeoutMs);
      ortProcesses.emit('spawn', { pid: child.pid, file });
      const meta = (await loading) as { inputs: ValueMeta[]; outputs: ValueMeta[] };
      s.inputs = meta.inputs;
      s.outputs = meta.outputs;
      return s;
    } catch (e) {
      await s.release();
      throw e;
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get inputNames(): string[] {
    return this.inputs.map((v) => v.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((v) => v.name);
  }

  /** Runs the model; a whole batch is one message each way. */
  async run(feeds: Record<string, TensorData>, opts: { timeoutMs?: number } = {}): Promise<Record<string, TensorData>> {
    return (await this.request({ op: 'run', feeds }, 'running', opts.timeoutMs ?? this.opts.runTimeoutMs)) as Record<
      string,
      TensorData
    >;
  }

  /** Ends the child (idempotent). */
  async release(): Promise<void> {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.dead ??= new Error('the onnxruntime session was released');
      if (this.child.connected) this.child.disconnect(); // the host exits on disconnect
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(killer);
    }
  }

  private readonly onAbort = () => this.kill(new CancelledError());

  private kill(reason: Error): void {
    this.dead ??= reason;
    for (const [id, p] of this.pending) this.fail(id, p, reason);
    this.child.kill('SIGKILL');
  }

  private request(body: RequestBody, phase: Pending['phase'], timeoutMs = DEFAULT_TIMEOUT): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.kill(new OrtTimeoutError(phase, timeoutMs)), timeoutMs);
      this.pending.set(id, { phase, resolve, reject, timer });
      this.hold(true);
      this.child.send({ ...body, id } as HostRequest);
    });
  }

  private settle(m: HostReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    this.hold(this.pending.size > 0);
    if (m.ok) p.resolve(m.result);
    else p.reject(new OrtError(m.error));
  }

  private fail(id: number, p: Pending, e: Error): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    this.hold(this.pending.size > 0);
    p.reject(e);
  }

  /** An idle session does not keep the process alive (a CLI that forgot release() still exits). */
  private hold(busy: boolean): void {
    const ch = this.child as ChildProcess & { channel?: { ref(): void; unref(): void } };
    if (busy) {
      this.child.ref();
      ch.channel?.ref();
    } else {
      this.child.unref();
      ch.channel?.unref();
    }
  }
}

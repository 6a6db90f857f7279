/**
 * Dynamic batching for `modelreg serve`, in the manner of Triton's dynamic batcher.
 *
 *   const b = new DynamicBatcher({ maxBatch: 16, delayMs: 2, maxQueue: 256 }, (feeds) => session.run(feeds), {
 *     onExecution(batchRows, requests, queueMs, computeMs) { … metrics … },
 *   });
 *   const outputs = await b.submit(feeds); // rows = dims[0] of the feeds
 *   await b.close();                       // runs what is queued, then refuses new work
 *
 * - Requests that arrive within `delayMs` of the oldest waiting one run as one batch of at most
 *   `maxBatch` rows; once waiting compatible requests fill `maxBatch` rows the batch runs at once.
 * - Only compatible requests are merged: the same input names, and per input the same element type
 *   and the same dims after the first. Others wait for their own batch, in arrival order.
 * - A request with more rows than `maxBatch` is not refused: it runs alone, as it came (the model's
 *   batch axis is dynamic, so onnxruntime takes it; `maxBatch` bounds merging, not request size — the
 *   server's body-size limit bounds that). So does a request whose feeds have no common dims[0]
 *   (a scalar input, or inputs with different first dims): its outputs come back unsplit.
 * - A feed whose data length is not the product of its dims is refused at submit() (TensorShapeError),
 *   so one malformed request cannot fail the requests merged with it.
 * - Outputs are split back along axis 0 in the order the requests were merged; an output whose
 *   dims[0] is not the batch's row count cannot be split, and then every request of that batch fails.
 * - At most `maxQueue` requests wait (those running do not count); beyond that submit() rejects with
 *   QueueFullError (the server answers 503).
 * - One run() at a time (the session is single-threaded in its child); the next batch forms meanwhile.
 *   An error from run() rejects every request of that batch; later batches run as usual.
 */
import type { TensorData } from '../onnxrt/protocol';

export type Feeds = Record<string, TensorData>;

/** The queue already holds `maxQueue` requests. */
export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`the request queue is full (${maxQueue} waiting); try again shortly`);
    this.name = 'QueueFullError';
  }
}

/** A feed's data does not hold as many elements as its dims say. */
export class TensorShapeError extends Error {
  constructor(
    readonly input: string,
    dims: number[],
    length: number,
  ) {
    super(
      `input ${input}: dims [${dims.join(', ')}] need ${dims.reduce((a, b) => a * b, 1)} elements, the data has ${length}`,
    );
    this.name = 'TensorShapeError';
  }
}

/** submit() after close(). */
export class BatcherClosedError extends Error {
  constructor() {
    super('the model is no longer being served');
    this.name = 'BatcherClosedError';
  }
}

export interface BatcherOptions {
  /** Most rows merged into one run (≥ 1). */
  maxBatch: number;
  /** How long the oldest waiting request may wait for others to join it (≥ 0). */
  delayMs: number;
  /** Most requests waiting (≥ 1). */
  maxQueue: number;
}

export interface BatcherHooks {
  /** After each run that succeeded: rows and requests merged, each request's wait, the run's duration. */
  onExecution?(batchRows: number, requests: number, queueMs: number[], computeMs: number): void;
}

interface Waiting {
  feeds: Feeds;
  /** Rows along axis 0, or undefined when the request cannot be merged. */
  rows: number | undefined;
  key: string;
  since: number;
  resolve: (out: Feeds) => void;
  reject: (e: Error) => void;
}

export class DynamicBatcher {
  private readonly queue: Waiting[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];

  constructor(
    private readonly opts: BatcherOptions,
    private readonly run: (feeds: Feeds) => Promise<Feeds>,
    private readonly hooks: BatcherHooks = {},
  ) {
    if (!(opts.maxBatch >= 1) || !(opts.delayMs >= 0) || !(opts.maxQueue >= 1))
      throw new RangeError(`batcher options out of range: ${JSON.stringify(opts)}`);
  }

  /** Queues one request; resolves with its own rows of the batch's outputs. */
  submit(feeds: Feeds): Promise<Feeds> {
    if (this.closed) return Promise.reject(new BatcherClosedError());
    for (const [name, t] of Object.entries(feeds))
      if (t.data.length !== t.dims.reduce((a, b) => a * b, 1))
        return Promise.reject(new TensorShapeError(name, t.dims, t.data.length));
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new QueueFullError(this.opts.maxQueue));
    const rows = rowsOf(feeds);
    return new Promise((resolve, reject) => {
      this.queue.push({ feeds, rows, key: rows === undefined ? '' : shapeKey(feeds), since: now(), resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new requests and resolves once every queued one has been answered (without waiting the delay). */
  close(): Promise<void> {
    this.closed = true;
    this.schedule();
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** How many requests wait (not counting the batch running). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Starts the next batch now if it is full or due, else sets a timer for when the oldest is due. */
  private schedule(): void {
    if (this.running) return; // the running batch calls schedule() when it ends
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) {
      for (const done of this.idle.splice(0)) done();
      return;
    }
    const batch = this.pick();
    const due = this.queue[0].since + this.opts.delayMs - now();
    const full = batch.rows >= this.opts.maxBatch || batch.items[0].rows === undefined;
    if (full || this.closed || due <= 0) {
      // A timer of 0 would still let requests submitted in the same tick join; a due batch need not wait for them.
      void this.execute(batch.items, batch.rows);
    } else {
      this.timer = setTimeout(() => this.schedule(), due);
    }
  }

  /** The oldest request, and the later compatible ones that fit with it. */
  private pick(): { items: Waiting[]; rows: number } {
    const head = this.queue[0];
    if (head.rows === undefined || head.rows >= this.opts.maxBatch) return { items: [head], rows: head.rows ?? 1 };
    const items = [head];
    let rows = head.rows;
    for (let i = 1; i < this.queue.length && rows < this.opts.maxBatch; i++) {
      const w = this.queue[i];
      if (w.rows !== undefined && w.key === head.key && rows + w.rows <= this.opts.maxBatch) {
        items.push(w);
        rows += w.rows;
      }
    }
    return { items, rows };
  }

  private async execute(items: Waiting[], rows: number): Promise<void> {
    this.running = true;
    const taken = new Set(items);
    this.queue.splice(0, this.queue.length, ...this.queue.filter((w) => !taken.has(w)));
    const start = now();
    const queueMs = items.map((w) => start - w.since);
    try {
      const merged = items.length === 1 ? items[0].feeds : concatRows(items.map((w) => w.feeds));
      const out = await this.run(merged);
      const computeMs = now() - start;
      const parts =
        items.length === 1
          ? [out]
          : splitRows(
              out,
              items.map((w) => w.rows as number),
            );
      items.forEach((w, i) => w.resolve(parts[i]));
      try {
        this.hooks.onExecution?.(rows, items.length, queueMs, computeMs);
      } catch {} // a metrics hook must not fail requests that succeeded
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const w of items) w.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}

const now = () => performance.now();

/** dims[0] shared by every feed, or undefined when there is none (no feeds, a scalar, different first dims). */
function rowsOf(feeds: Feeds): number | undefined {
  let rows: number | undefined;
  for (const t of Object.values(feeds)) {
    if (t.dims.length === 0) return undefined;
    if (rows !== undefined && t.dims[0] !== rows) return undefined;
    rows = t.dims[0];
  }
  return rows;
}

/** What must match for two requests to share a run: input names, element types, dims after the first. */
function shapeKey(feeds: Feeds): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${feeds[name].type}[${feeds[name].dims.slice(1).join(',')}]`)
    .join(';');
}

type Data = TensorData['data'];
type TypedArray = Exclude<Data, string[]>;
type TypedArrayCtor = { new (n: number): TypedArray };

const rowSize = (dims: number[]) => dims.slice(1).reduce((a, b) => a * b, 1);

/** Joins requests' feeds along axis 0, in order. Every feed list must have the same names, types and dims after the first. */
export function concatRows(feedsList: Feeds[]): Feeds {
  if (feedsList.length === 0) throw new Error('concatRows: no feeds to join');
  const first = feedsList[0];
  const key = shapeKey(first);
  feedsList.forEach((f, i) => {
    if (shapeKey(f) !== key) throw new Error(`concatRows: request ${i} has other inputs or shapes than request 0`);
  });
  const out: Feeds = {};
  for (const name of Object.keys(first)) {
    const parts = feedsList.map((f) => f[name]);
    const rows = parts.reduce((n, t) => n + t.dims[0], 0);
    out[name] = { type: first[name].type, dims: [rows, ...first[name].dims.slice(1)], data: concatData(parts) };
  }
  return out;
}

function concatData(parts: TensorData[]): Data {
  const d0 = parts[0].data;
  if (Array.isArray(d0)) return parts.flatMap((t) => t.data as string[]);
  const total = parts.reduce((n, t) => n + t.data.length, 0);
  const data = new (d0.constructor as TypedArrayCtor)(total);
  let at = 0;
  for (const t of parts) {
    if (t.data.constructor !== d0.constructor) throw new Error(`concatRows: ${t.type} data held in different arrays`);
    // set() is typed per array kind; the constructors were just checked equal.
    (data as Float32Array).set(t.data as Float32Array, at);
    at += t.data.length;
  }
  return data;
}

/**
 * Cuts a batch's outputs back into one set per request, `rows[i]` rows each along axis 0. Each part
 * is a copy, so answering one request does not carry (or pin) the whole batch's buffer.
 */
export function splitRows(outputs: Feeds, rows: number[]): Feeds[] {
  const total = rows.reduce((a, b) => a + b, 0);
  const parts: Feeds[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.dims.length === 0 || t.dims[0] !== total)
      throw new Error(
        `output ${name} has shape [${t.dims.join(', ')}], which cannot be split into ${rows.length} requests of ${total} rows in all`,
      );
    const size = rowSize(t.dims);
    let at = 0;
    rows.forEach((n, i) => {
      const data = t.data.slice(at * size, (at + n) * size) as Data;
      parts[i][name] = { type: t.type, dims: [n, ...t.dims.slice(1)], data };
      at += n;
    });
  }
  return parts;
}

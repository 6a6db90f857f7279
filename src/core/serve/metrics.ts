/**
 * Metrics of `modelreg serve`, per model and version, for `GET /metrics` (Prometheus text format
 * 0.0.4) and for the VS Code Deployments view (p50/p95).
 *
 *   const m = new ServeMetrics();
 *   m.track('resnet', '3');                        // series at 0 from the start, as Triton shows them
 *   m.request('resnet', '3', true, 12.5);          // a request answered (ok) or failed, its total ms
 *   m.queued('resnet', '3', 1.2);                  // one request's time in the batcher's queue
 *   m.execution('resnet', '3', 16, 8.0, 4);        // one run: 16 rows from 4 requests in 8 ms
 *   res.end(m.render());                           // Content-Type: METRICS_CONTENT_TYPE
 *   m.summary();                                   // [{ model, version, requests, failures, p50Ms, p95Ms }]
 *
 * Names and meanings follow Triton's (labels `model`, `version`):
 * - nv_inference_request_success / _failure: requests answered / failed;
 * - nv_inference_count: rows inferred (a request of batch size n counts n), nv_inference_exec_count:
 *   runs (inference_count / exec_count = average batch size);
 * - nv_inference_request_duration_us, _queue_duration_us, _compute_infer_duration_us: cumulative µs
 *   over requests. As in Triton, the request and queue durations count successful requests only, and a
 *   run's compute time counts once for each request it served.
 * Plus modelreg_request_duration_seconds, a histogram of successful requests' durations, from which
 * summary() estimates p50/p95 the way PromQL's histogram_quantile does (linear within a bucket).
 * No library: none is among the dependencies, and the text format is a few lines.
 */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds in seconds: fine below 100 ms, where a local model's latencies mostly fall. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export interface ModelSummary {
  model: string;
  version: string;
  requests: number;
  failures: number;
  /** Estimated from the histogram; undefined before the first successful request. */
  p50Ms: number | undefined;
  p95Ms: number | undefined;
}

interface Series {
  model: string;
  version: string;
  success: number;
  failure: number;
  inferences: number;
  executions: number;
  requestUs: number;
  queueUs: number;
  computeUs: number;
  /** Per bucket (not cumulative), with one more for +Inf. */
  buckets: number[];
  sumSeconds: number;
}

const COUNTERS: [name: string, help: string, key: keyof Series][] = [
  ['nv_inference_request_success', 'Number of successful inference requests, all batch sizes', 'success'],
  ['nv_inference_request_failure', 'Number of failed inference requests, all batch sizes', 'failure'],
  ['nv_inference_count', 'Number of inferences performed (a request counts its batch size)', 'inferences'],
  ['nv_inference_exec_count', 'Number of model executions performed (batches)', 'executions'],
  ['nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds', 'requestUs'],
  ['nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds', 'queueUs'],
  ['nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds', 'computeUs'],
];
const HISTOGRAM = 'modelreg_request_duration_seconds';

export class ServeMetrics {
  private readonly series = new Map<string, Series>();

  constructor(private readonly buckets: number[] = DURATION_BUCKETS) {}

  /** Makes the model's series exist (at 0) before its first request. */
  track(model: string, version: string | number): void {
    this.get(model, version);
  }

  /** A request ended: answered (ok) or failed, after `ms` in all. */
  request(model: string, version: string | number, ok: boolean, ms: number): void {
    const s = this.get(model, version);
    if (!ok) {
      s.failure++;
      return;
    }
    s.success++;
    s.requestUs += ms * 1000;
    const sec = ms / 1000;
    s.sumSeconds += sec;
    let i = this.buckets.findIndex((le) => sec <= le);
    if (i < 0) i = this.buckets.length;
    s.buckets[i]++;
  }

  /** A request waited `ms` in the queue before its batch ran. */
  queued(model: string, version: string | number, ms: number): void {
    this.get(model, version).queueUs += ms * 1000;
  }

  /** One run of the model: `rows` inferences for `requests` requests, `computeMs` long. */
  execution(model: string, version: string | number, rows: number, computeMs: number, requests = 1): void {
    const s = this.get(model, version);
    s.executions++;
    s.inferences += rows;
    s.computeUs += computeMs * 1000 * requests;
  }

  /** Everything in Prometheus text format 0.0.4. */
  render(): string {
    const all = [...this.series.values()];
    const lines: string[] = [];
    for (const [name, help, key] of COUNTERS) {
      lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} counter`);
      for (const s of all) lines.push(`${name}${labels(s)} ${Math.round(s[key] as number)}`);
    }
    lines.push(
      `# HELP ${HISTOGRAM} Duration of successful inference requests in seconds`,
      `# TYPE ${HISTOGRAM} histogram`,
    );
    for (const s of all) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.buckets[i];
        lines.push(`${HISTOGRAM}_bucket${labels(s, String(le))} ${cumulative}`);
      });
      lines.push(`${HISTOGRAM}_bucket${labels(s, '+Inf')} ${s.success}`);
      lines.push(`${HISTOGRAM}_sum${labels(s)} ${s.sumSeconds}`);
      lines.push(`${HISTOGRAM}_count${labels(s)} ${s.success}`);
    }
    return lines.join('\n') + '\n';
  }

  /**
   * The metrics a server rendered (the Deployments view reads a server's /metrics in another process),
   * enough for summary(): request and failure counts and the histogram. Lines it does not know are skipped.
   */
  static parse(text: string): ServeMetrics {
    const rows: { name: string; labels: Record<string, string>; value: number }[] = [];
    for (const line of text.split('\n')) {
      const x = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
      if (!x) continue;
      const labels = Object.fromEntries(
        [...x[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, unescapeLabel(v)]),
      );
      if (labels.model !== undefined && labels.version !== undefined)
        rows.push({ name: x[1], labels, value: Number(x[3]) });
    }
    const bucketRows = rows.filter((r) => r.name === `${HISTOGRAM}_bucket` && r.labels.le !== '+Inf');
    const bounds = [...new Set(bucketRows.map((r) => Number(r.labels.le)))].sort((a, b) => a - b);
    const m = new ServeMetrics(bounds.length ? bounds : DURATION_BUCKETS);
    const cumulative = new Map<Series, number[]>();
    for (const r of rows) {
      const s = m.get(r.labels.model, r.labels.version);
      if (r.name === 'nv_inference_request_success') s.success = r.value;
      else if (r.name === 'nv_inference_request_failure') s.failure = r.value;
      else if (r.name === `${HISTOGRAM}_bucket` && r.labels.le !== '+Inf') {
        const c = cumulative.get(s) ?? new Array(m.buckets.length).fill(0);
        c[m.buckets.indexOf(Number(r.labels.le))] = r.value;
        cumulative.set(s, c);
      }
    }
    for (const [s, c] of cumulative) {
      c.forEach((n, i) => (s.buckets[i] = n - (i ? c[i - 1] : 0)));
      s.buckets[m.buckets.length] = s.success - (c[c.length - 1] ?? 0);
    }
    return m;
  }

  /** Per model and version: request and failure counts, and p50/p95 in ms from the histogram. */
  summary(): ModelSummary[] {
    return [...this.series.values()].map((s) => ({
      model: s.model,
      version: s.version,
      requests: s.success + s.failure,
      failures: s.failure,
      p50Ms: this.quantileMs(s, 0.5),
      p95Ms: this.quantileMs(s, 0.95),
    }));
  }

  /**
   * As histogram_quantile: find the bucket holding rank q·count and interpolate linearly inside it (the
   * first bucket starts at 0). A rank in the +Inf bucket gives the highest finite bound.
   */
  private quantileMs(s: Series, q: number): number | undefined {
    if (s.success === 0) return undefined;
    const rank = q * s.success;
    let below = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      const n = s.buckets[i];
      if (below + n >= rank && n > 0) {
        const lower = i === 0 ? 0 : this.buckets[i - 1];
        return (lower + (this.buckets[i] - lower) * ((rank - below) / n)) * 1000;
      }
      below += n;
    }
    return this.buckets[this.buckets.length - 1] * 1000;
  }

  private get(model: string, version: string | number): Series {
    const v = String(version);
    const key = JSON.stringify([model, v]);
    let s = this.series.get(key);
    if (!s) {
      s = {
        model,
        version: v,
        success: 0,
        failure: 0,
        inferences: 0,
        executions: 0,
        requestUs: 0,
        queueUs: 0,
        computeUs: 0,
        buckets: new Array(this.buckets.length + 1).fill(0),
        sumSeconds: 0,
      };
      this.series.set(key, s);
    }
    return s;
  }
}

function labels(s: Series, le?: string): string {
  const l = `model="${escapeLabel(s.model)}",version="${escapeLabel(s.version)}"`;
  return le === undefined ? `{${l}}` : `{${l},le="${le}"}`;
}

/** Label values: backslash, double quote and line feed are escaped (text format 0.0.4). */
export const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const unescapeLabel = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
/** HELP text: backslash and line feed are escaped. */
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

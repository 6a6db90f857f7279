import * as assert from 'assert/strict';
import { DURATION_BUCKETS, escapeLabel, METRICS_CONTENT_TYPE, ServeMetrics } from '../../../../src/core/serve/metrics';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

/** A strict reader of the 0.0.4 text format: every line is a HELP, a TYPE, or a sample of the family declared last. */
function parse(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      assert.ok(!families.has(m[1]), `one HELP for ${m[1]}`);
      families.set(m[1], { help: m[2], type: '', samples: [] });
      current = m[1];
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      assert.equal(m[1], current, `TYPE ${m[1]} follows its HELP`);
      families.get(m[1])!.type = m[2];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const [, name, labelText = '', value] = m;
    assert.ok(current && (name === current || name.startsWith(`${current}_`)), `${name} belongs to ${current}`);
    assert.ok(families.get(current)!.type, `${current} has a TYPE before its samples`);
    families.get(current)!.samples.push({ name, labels: parseLabels(labelText), value: Number(value) });
  }
  return families;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    assert.ok(m, `labels well formed at ${at}: ${text}`);
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    at = re.lastIndex;
  }
  return out;
}

const value = (f: Map<string, Family>, name: string, labels: Record<string, string>) => {
  const family = f.get(name.replace(/_(bucket|sum|count)$/, '')) ?? f.get(name)!;
  const hits = family.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(hits.length, 1, `one ${name} ${JSON.stringify(labels)}`);
  return hits[0].value;
};

describe('ServeMetrics: Prometheus text and percentiles', () => {
  it('declares every metric with HELP and TYPE, Triton names, and a 0 series for a tracked model', () => {
    const m = new ServeMetrics();
    m.track('resnet', 3);
    const f = parse(m.render());
    assert.deepEqual(
      [...f.keys()],
      [
        'nv_inference_request_success',
        'nv_inference_request_failure',
        'nv_inference_count',
        'nv_inference_exec_count',
        'nv_inference_request_duration_us',
        'nv_inference_queue_duration_us',
        'nv_inference_compute_infer_duration_us',
        'modelreg_request_duration_seconds',
      ],
    );
    for (const [name, fam] of f) {
      assert.equal(fam.type, name.startsWith('nv_') ? 'counter' : 'histogram');
      assert.ok(fam.help.length > 10);
      for (const s of fam.samples) {
        assert.equal(s.labels.model, 'resnet');
        assert.equal(s.labels.version, '3');
        assert.equal(s.value, 0);
      }
    }
    assert.equal(METRICS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('counters add up per model and version; durations are cumulative microseconds', () => {
    const m = new ServeMetrics();
    m.request('resnet', 3, true, 10);
    m.request('resnet', 3, true, 2.5);
    m.request('resnet', 3, false, 1);
    m.request('resnet', 4, true, 7);
    m.queued('resnet', 3, 1.25);
    m.queued('resnet', 3, 0.75);
    m.execution('resnet', 3, 16, 4, 2);
    m.execution('resnet', 3, 1, 0.5);
    m.execution('bert', '1', 8, 3, 8);
    const f = parse(m.render());
    const r3 = { model: 'resnet', version: '3' };
    assert.equal(value(f, 'nv_inference_request_success', r3), 2);
    assert.equal(value(f, 'nv_inference_request_failure', r3), 1);
    assert.equal(value(f, 'nv_inference_request_success', { model: 'resnet', version: '4' }), 1);
    assert.equal(value(f, 'nv_inference_count', r3), 17);
    assert.equal(value(f, 'nv_inference_exec_count', r3), 2);
    assert.equal(value(f, 'nv_inference_request_duration_us', r3), 12500); // failures not counted, as Triton
    assert.equal(value(f, 'nv_inference_queue_duration_us', r3), 2000);
    assert.equal(value(f, 'nv_inference_compute_infer_duration_us', r3), 4000 * 2 + 500); // once per request served
    assert.equal(value(f, 'nv_inference_compute_infer_duration_us', { model: 'bert', version: '1' }), 24000);
    assert.equal(value(f, 'nv_inference_count', { model: 'bert', version: '1' }), 8);
    assert.equal(f.get('nv_inference_count')!.samples.length, 3);
  });

  it('the histogram is cumulative over the buckets, +Inf equals _count, _sum is in seconds', () => {
    const m = new ServeMetrics();
    const ms = [0.2, 0.9, 3, 3, 60, 800, 45_000, 12];
    ms.forEach((d) => m.request('m', 1, true, d));
    m.request('m', 1, false, 5); // failures stay out of the histogram
    const f = parse(m.render());
    const buckets = f.get('modelreg_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'));
    assert.deepEqual(
      buckets.map((b) => b.labels.le),
      [...DURATION_BUCKETS.map(String), '+Inf'],
    );
    for (let i = 0; i < buckets.length; i++) {
      const le = buckets[i].labels.le === '+Inf' ? Infinity : Number(buckets[i].labels.le);
      assert.equal(buckets[i].value, ms.filter((d) => d / 1000 <= le).length, `le=${buckets[i].labels.le}`);
      if (i > 0) assert.ok(buckets[i].value >= buckets[i - 1].value);
    }
    const count = value(f, 'modelreg_request_duration_seconds_count', { model: 'm' });
    assert.equal(count, ms.length);
    assert.equal(buckets.at(-1)!.value, count);
    const sum = value(f, 'modelreg_request_duration_seconds_sum', { model: 'm' });
    assert.ok(Math.abs(sum - ms.reduce((a, b) => a + b, 0) / 1000) < 1e-9);
  });

  it('escapes backslashes, quotes and line feeds in label values, and they read back as they were', () => {
    const weird = 'a "quoted"\\path\nnext';
    const m = new ServeMetrics();
    m.request(weird, 'v\\1', true, 1);
    const text = m.render();
    assert.ok(text.includes(`model="a \\"quoted\\"\\\\path\\nnext",version="v\\\\1"`));
    assert.equal(text.split('\n').filter((l) => l.startsWith('next')).length, 0, 'no raw line feed in a value');
    const f = parse(text);
    assert.equal(value(f, 'nv_inference_request_success', { model: weird, version: 'v\\1' }), 1);
    assert.equal(escapeLabel('x'), 'x');
  });

  it('summary() gives counts and p50/p95 as histogram_quantile would, per model and version', () => {
    const m = new ServeMetrics();
    for (let d = 1; d <= 100; d++) m.request('resnet', 3, true, d);
    m.request('resnet', 3, false, 1);
    m.track('bert', 1);
    const [resnet, bert] = m.summary();
    assert.equal(resnet.requests, 101);
    assert.equal(resnet.failures, 1);
    // Rank 50 lies in (25 ms, 50 ms], which holds 25 requests with 25 below: 25 + 25·25/25.
    assert.ok(Math.abs(resnet.p50Ms! - 50) < 1e-9, String(resnet.p50Ms));
    // Rank 95 lies in (75 ms, 100 ms] with 75 below: 75 + 25·20/25.
    assert.ok(Math.abs(resnet.p95Ms! - 95) < 1e-9, String(resnet.p95Ms));
    // Uneven inside a bucket: 10 requests of 30 ms and 10 of 49 ms all land in (25 ms, 50 ms].
    const u = new ServeMetrics();
    for (let i = 0; i < 10; i++) {
      u.request('u', 1, true, 30);
      u.request('u', 1, true, 49);
    }
    const [us] = u.summary();
    assert.ok(Math.abs(us.p50Ms! - 37.5) < 1e-9 && Math.abs(us.p95Ms! - 48.75) < 1e-9, JSON.stringify(us));
    assert.deepEqual(bert, {
      model: 'bert',
      version: '1',
      requests: 0,
      failures: 0,
      p50Ms: undefined,
      p95Ms: undefined,
    });
  });

  it('a percentile beyond the last finite bucket is that bucket bound', () => {
    const m = new ServeMetrics([0.01, 0.1]);
    m.request('m', 1, true, 5);
    m.request('m', 1, true, 500);
    m.request('m', 1, true, 900);
    const [s] = m.summary();
    assert.equal(s.p95Ms, 100);
    // Rank 1.5 of 3: past the first bucket's single request, into +Inf.
    assert.equal(s.p50Ms, 100);
  });
  it('parse() reads rendered text back to the same summary (what the Deployments view shows of another process)', () => {
    const m = new ServeMetrics();
    for (let d = 1; d <= 100; d++) m.request('resnet', 3, true, d);
    m.request('resnet', 3, false, 1);
    m.request('resnet', 3, true, 60_000); // into +Inf
    m.track('a "quoted"\\name', 'v\\1');
    m.execution('resnet', 3, 4, 2);
    const parsed = ServeMetrics.parse(m.render());
    assert.deepEqual(parsed.summary(), m.summary());
    assert.equal(parsed.summary()[0].requests, 102);
    assert.deepEqual(ServeMetrics.parse('garbage\n# HELP x\nx{model="m"} 1\n').summary(), []);
  });
});

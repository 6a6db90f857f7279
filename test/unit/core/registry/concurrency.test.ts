/**
 * The registry under real concurrency and real crashes, with real processes:
 *  1. two "windows" (long-lived processes that open the registry once) and a CLI import at the same
 *     time into the same model: every import gets its own number, 1..N without gaps or duplicates;
 *  2. CLI imports killed with SIGKILL at random moments: no half-registered version, and gc leaves
 *     exactly the referenced objects, no temp files, no importing rows.
 * The CLI and core are the compiled ones (out/src), as `npx tsc -p .` builds them.
 */
import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import { createHash, randomFillSync } from 'crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'fs';
import * as path from 'path';
import * as sqlite3 from 'sqlite3';
import { Registry } from '../../../../src/core/registry/registry';
import { writeLightningCsv } from '../../helpers/makeLogs';
import { safetensorsBytes, writeSafetensors } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { mulberry32 } from '../../../../src/core/util/random';
import { CLI_JS, compiled } from '../../helpers/paths';
import { sqlOf } from '../../helpers/sql';

const CLI = CLI_JS;
const CORE = compiled('src/core/index.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Children still running; a failed test kills them so that none outlives it (a window waiting for "go"). */
const running = new Set<ChildProcess>();

/** Spawns node with args; `child` is available at once (for kill), `done` resolves on exit. */
function run(
  args: string[],
  opts: { stdin?: boolean; env?: Record<string, string> } = {},
): { child: ChildProcess; done: Promise<Exit> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close' (not 'exit'): the pipes are drained and the process is reaped, so its pid is dead for gc.
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
  return { child, done };
}

const cliImport = (registry: string, input: string, ...extra: string[]) =>
  run([CLI, '--registry', registry, 'import', input, ...extra]);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under the objects folder, as the digest its path spells (or the odd path itself). */
function objectFiles(objectsDir: string): { digests: string[]; strays: string[] } {
  const digests: string[] = [];
  const strays: string[] = [];
  for (const shard of readdirSync(objectsDir)) {
    const shardPath = path.join(objectsDir, shard);
    if (!/^[0-9a-f]{2}$/.test(shard) || !statSync(shardPath).isDirectory()) {
      strays.push(shard);
      continue;
    }
    for (const rest of readdirSync(shardPath)) {
      const digest = shard + rest;
      if (/^[0-9a-f]{64}$/.test(digest) && statSync(path.join(shardPath, rest)).isFile()) digests.push(digest);
      else strays.push(`${shard}/${rest}`);
    }
  }
  return { digests: digests.sort(), strays };
}

interface VersionRow {
  id: number;
  number: number;
  status: string;
  file_count: number;
  size_bytes: number;
  source_uri: string;
  importer_pid: number | null;
}

/**
 * Checks that every ready version is whole: its file rows match file_count and size_bytes, and
 * every object is in the store with the recorded size. Returns the ready rows.
 */
async function assertReadyVersionsComplete(r: Registry, model: string, expectFiles?: number): Promise<VersionRow[]> {
  const rows = await sqlOf(r).all<VersionRow>(
    'SELECT v.id, v.number, v.status, v.file_count, v.size_bytes, v.source_uri, v.importer_pid FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number',
    [model],
  );
  const ready = rows.filter((v) => v.status === 'ready');
  for (const v of ready) {
    const files = await r.files(v.id);
    assert.strictEqual(
      files.length,
      v.file_count,
      `v${v.number}: file_count ${v.file_count} but ${files.length} file rows`,
    );
    if (expectFiles !== undefined)
      assert.strictEqual(files.length, expectFiles, `v${v.number}: ${files.length} files, expected ${expectFiles}`);
    assert.strictEqual(
      files.reduce((s, f) => s + f.size, 0),
      v.size_bytes,
      `v${v.number}: size_bytes does not match its files`,
    );
    assert.strictEqual(v.importer_pid, null, `v${v.number} is ready but still names an importer`);
    for (const f of files) {
      const p = r.store.objectPath(f.sha256);
      assert.ok(existsSync(p), `v${v.number}: object of ${f.path} is missing`);
      assert.strictEqual(statSync(p).size, f.size, `v${v.number}: object of ${f.path} has the wrong size`);
    }
  }
  // The public listing agrees: what it shows as ready is complete.
  const listed = await r.listVersions(model, { includeArchived: true });
  for (const v of listed.filter((x) => x.status === 'ready')) {
    const files = await r.files(v.id);
    assert.strictEqual(
      files.length,
      v.fileCount,
      `${v.ref} listed ready with ${v.fileCount} files but has ${files.length}`,
    );
    for (const f of files) assert.ok(await r.store.has(f.sha256), `${v.ref} listed ready but ${f.path} is not stored`);
  }
  return ready;
}

async function referencedObjects(r: Registry): Promise<string[]> {
  return (await sqlOf(r).all<{ sha256: string }>('SELECT DISTINCT sha256 FROM files ORDER BY sha256'))
    .map((x) => x.sha256)
    .sort();
}

function assertNoBusy(label: string, stderr: string): void {
  assert.ok(!/SQLITE_BUSY|database is locked/i.test(stderr), `${label}: ${stderr}`);
}

// A "window": opens the registry once, waits for "go" on stdin, imports its inputs one after another.
const WORKER = `
const path = require('path');
const { Registry, importTrainingOutput } = require(process.env.MODELREG_CORE);
const [registryDir, model, inputsDir, count] = process.argv.slice(2);
(async () => {
  const r = await Registry.open(registryDir);
  process.stdout.write('ready\\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const imported = [];
  const start = Date.now();
  for (let i = 0; i < Number(count); i++) {
    const v = await importTrainingOutput(r, path.join(inputsDir, 'run-' + i), { model });
    if (v.status !== 'ready') throw new Error(v.ref + ' is ' + v.status);
    imported.push(v.number);
  }
  const end = Date.now();
  await r.close();
  process.stdin.destroy();
  process.stdout.write(JSON.stringify({ imported, start, end }) + '\\n');
})().catch((e) => {
  console.error((e && e.stack) || String(e));
  process.exit(1);
});
`;

/** A tiny training output: a 1 KiB safetensors file with distinct values and a Lightning metrics.csv. */
async function smallOutput(dir: string, tag: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'model.safetensors'), [
    { name: 'w', dtype: 'F32', shape: [16, 16], fill: tag },
  ]);
  await writeLightningCsv(path.join(dir, 'metrics.csv'), { epochs: 2, stepsPerEpoch: 3 });
}

describe('registry under concurrent writers and SIGKILL (real processes)', function () {
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
  });

  it('a registry being created while another process holds its database waits for it instead of failing with SQLITE_BUSY', async function () {
    // Two processes opening a new registry at once: switching the file to WAL needs an exclusive lock,
    // and SQLite answers that conflict with SQLITE_BUSY at once (its busy timeout does not apply).
    // Here the other process is a plain connection holding the write lock for 300 ms.
    const dir = path.join(tempDir(), 'reg');
    mkdirSync(dir);
    const other = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(path.join(dir, 'registry.db'), (e) => (e ? reject(e) : resolve(d)));
    });
    const exec = (sql: string) =>
      new Promise<void>((resolve, reject) => other.exec(sql, (e) => (e ? reject(e) : resolve())));
    await exec('BEGIN IMMEDIATE');
    const t0 = performance.now();
    const released = new Promise<void>((resolve, reject) =>
      setTimeout(() => exec('COMMIT').then(resolve, reject), 300),
    );
    try {
      const r = await Registry.open(dir);
      try {
        assert.ok(performance.now() - t0 >= 250, 'it waited for the other connection');
        assert.strictEqual((await sqlOf(r).get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode, 'wal');
        assert.deepStrictEqual(await r.listModels(), []);
      } finally {
        await r.close();
      }
    } finally {
      await released;
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('two windows × 100 imports and a CLI, same model at once: numbers 1..N, all complete, no SQLITE_BUSY', async function () {
    this.timeout(120_000);
    const PER_WORKER = 100;
    const CLI_IMPORTS = 6;
    const MODEL = 'shared';
    const root = tempDir();
    const registry = path.join(root, 'reg'); // not created yet: the first opens race on creating it too
    const worker = path.join(root, 'worker.js');
    writeFileSync(worker, WORKER);

    const t0 = performance.now();
    const inputs = ['a', 'b', 'cli'].map((w) => path.join(root, 'inputs', w));
    for (let w = 0; w < 2; w++)
      for (let i = 0; i < PER_WORKER; i++) await smallOutput(path.join(inputs[w], `run-${i}`), (w + 1) * 1000 + i);
    for (let i = 0; i < CLI_IMPORTS; i++) await smallOutput(path.join(inputs[2], `run-${i}`), 9000 + i);
    const tInputs = performance.now() - t0;

    const workers = [0, 1].map((w) => {
      const p = run([worker, registry, MODEL, inputs[w], String(PER_WORKER)], {
        stdin: true,
        env: { MODELREG_CORE: CORE },
      });
      p.child.stdout!.setEncoding('utf8');
      const ready = new Promise<void>((resolve, reject) => {
        let seen = '';
        p.child.stdout!.on('data', (d: string) => {
          seen += d;
          if (seen.includes('ready\n')) resolve();
        });
        p.done.then((e) => reject(new Error(`worker ${w} exited before it was ready: ${e.code} ${e.stderr}`)), reject);
      });
      return { ...p, ready };
    });
    await Promise.all(workers.map((w) => w.ready));

    const tGo = Date.now();
    for (const w of workers) w.child.stdin!.write('go\n');
    // The CLI imports one after another while both windows import.
    const cliRuns: Exit[] = [];
    const cliChain = (async () => {
      for (let i = 0; i < CLI_IMPORTS; i++) {
        const e = await cliImport(registry, path.join(inputs[2], `run-${i}`), '--model', MODEL, '--json').done;
        cliRuns.push(e);
      }
    })();
    const [a, b] = await Promise.all(workers.map((w) => w.done));
    await cliChain;
    const tAll = Date.now() - tGo;

    for (const [label, e] of [
      ['window a', a],
      ['window b', b],
      ...cliRuns.map((e, i) => [`cli ${i}`, e] as const),
    ] as const) {
      assert.strictEqual(e.code, 0, `${label} exited ${e.code ?? e.signal}: ${e.stderr}`);
      assertNoBusy(label, e.stderr);
    }
    const resA = JSON.parse(a.stdout.trim().split('\n').pop()!) as { imported: number[]; start: number; end: number };
    const resB = JSON.parse(b.stdout.trim().split('\n').pop()!) as { imported: number[]; start: number; end: number };
    const cliNumbers = cliRuns.map((e) => (JSON.parse(e.stdout) as { number: number }).number);

    const r = await Registry.open(registry);
    try {
      const N = 2 * PER_WORKER + CLI_IMPORTS;
      const all = await sqlOf(r).all<VersionRow>(
        'SELECT v.number, v.status FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number',
        [MODEL],
      );
      assert.strictEqual(all.length, N, 'one version per import, nothing else');
      assert.deepStrictEqual(
        all.map((v) => v.number),
        Array.from({ length: N }, (_, i) => i + 1),
        'numbers 1..N, no gaps, no duplicates',
      );
      assert.ok(
        all.every((v) => v.status === 'ready'),
        'every version is ready',
      );
      // What each process was told matches the registry: together exactly 1..N, each once.
      assert.deepStrictEqual(
        [...resA.imported, ...resB.imported, ...cliNumbers].sort((x, y) => x - y),
        Array.from({ length: N }, (_, i) => i + 1),
      );
      // Each window's numbers increase (its imports are sequential), and the two really interleaved.
      for (const res of [resA, resB])
        assert.deepStrictEqual(
          res.imported,
          [...res.imported].sort((x, y) => x - y),
        );
      const interleavings = [...resA.imported.map((n) => [n, 'a']), ...resB.imported.map((n) => [n, 'b'])]
        .sort((x, y) => (x[0] as number) - (y[0] as number))
        .filter((x, i, arr) => i > 0 && x[1] !== arr[i - 1][1]).length;
      assert.ok(
        interleavings > 10,
        `the two windows barely overlapped (${interleavings} switches): not a concurrency test`,
      );

      await assertReadyVersionsComplete(r, MODEL, 2);
      const sources = (await sqlOf(r).all<{ source_uri: string }>('SELECT source_uri FROM versions')).map(
        (x) => x.source_uri,
      );
      assert.strictEqual(new Set(sources).size, N, 'each input registered once');
      const verify = await r.verify();
      assert.deepStrictEqual(verify.problems, []);
      assert.strictEqual(
        verify.checked,
        N + 1,
        'N distinct weights and one metrics.csv (identical in every input, stored once)',
      );
      // No leftovers even without gc: exactly the referenced objects, no temp files, no unfinished rows.
      const { digests, strays } = objectFiles(r.store.objectsDir);
      assert.deepStrictEqual(strays, []);
      assert.deepStrictEqual(digests, await referencedObjects(r));
      assert.deepStrictEqual(readdirSync(path.join(registry, 'tmp')), []);
    } finally {
      await r.close();
    }
    const overlapMs = Math.min(resA.end, resB.end) - Math.max(resA.start, resB.start);
    console.log(
      `      inputs ${tInputs.toFixed(0)} ms; windows ${resA.end - resA.start} / ${resB.end - resB.start} ms (overlap ${overlapMs} ms); ` +
        `CLI imports ${cliRuns.map((e) => e.ms.toFixed(0)).join(', ')} ms got ${cliNumbers.map((n) => 'v' + n).join(', ')}; all done in ${tAll} ms`,
    );
  });

  it('SIGKILL at random points of CLI imports: no half-registered version; gc leaves only referenced objects', async function () {
    this.timeout(300_000);
    const TRIALS = Number(process.env.CONCURRENCY_TRIALS ?? 40);
    const seed = Number(process.env.CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`      SIGKILL trials: ${TRIALS}, seed ${seed} (replay with CONCURRENCY_SEED=${seed})`);
    const random = mulberry32(seed);

    const root = tempDir();
    const registry = path.join(root, 'reg');
    const input = path.join(root, 'bigrun');
    mkdirSync(input);
    // A 32 MiB safetensors file (random bytes, so nothing compresses or dedups), then small files:
    // metrics.csv (the same every run) and two 4 KiB files stamped per run, copied after the weights
    // (files are imported in name order), so a kill can land between storing objects and committing.
    const big = path.join(input, 'model.safetensors');
    const bytes = safetensorsBytes([{ name: 'w', dtype: 'U8', shape: [32 << 20] }]);
    randomFillSync(bytes, bytes.length - (32 << 20));
    writeFileSync(big, bytes);
    await writeLightningCsv(path.join(input, 'metrics.csv'));
    const FILES = 4;
    /** Makes the weights and the small files distinct for each run (same sizes), so every import stores new objects. */
    const stamp = (n: number) => {
      const fd = openSync(big, 'r+');
      const b = Buffer.alloc(8);
      b.writeDoubleLE(n);
      writeSync(fd, b, 0, 8, bytes.length - 8);
      closeSync(fd);
      writeFileSync(path.join(input, 'notes.txt'), `run ${String(n).padStart(6)}\n`.repeat(256));
      writeFileSync(path.join(input, 'run.log'), `step ${String(n).padStart(6)} ok\n`.repeat(256));
    };

    // One unkilled import to learn how long an import takes (and to have a v1 that must survive).
    stamp(-1);
    const stampFile = path.join(registry, 'last-change'); // Registry.changeStamp: "<iso time> <host> <pid>" of the last change
    const whenReserved = (pid: number, done: Promise<unknown>) =>
      new Promise<number | undefined>((resolve) => {
        const poll = setInterval(() => {
          if (!existsSync(stampFile) || !readFileSync(stampFile, 'utf8').endsWith(` ${pid}`)) return;
          clearInterval(poll);
          resolve(performance.now());
        }, 2);
        void done.then(() => (clearInterval(poll), resolve(undefined)));
      });
    const firstRun = cliImport(registry, input, '--json');
    const reserved = whenReserved(firstRun.child.pid!, firstRun.done);
    const first = await firstRun.done;
    assert.strictEqual(first.code, 0, first.stderr);
    const duration = first.ms;
    const reservedAt = await reserved;
    assert.ok(reservedAt !== undefined, 'the import wrote its change stamp when it reserved its version');
    const copyDuration = performance.now() - reservedAt;
    const firstVersion = JSON.parse(first.stdout) as { number: number; fileCount: number };
    assert.strictEqual(firstVersion.number, 1);
    assert.strictEqual(firstVersion.fileCount, FILES);

    type Outcome =
      | 'before reservation'
      | 'reserved, nothing stored'
      | 'copying (temp file left)'
      | 'objects stored, not committed'
      | 'completed';
    const outcomes: { delay: number; outcome: Outcome }[] = [];
    let seenIds = new Set<number>([1]);
    let seenUnreferenced = new Set<string>();
    // Half the kills land anywhere from spawn on (most hit node's start-up); the other half are timed
    // from the moment the import reserved its version (its change stamp names its pid), so they land
    // while it copies, between copying and committing, or just after.
    for (let t = 0; t < TRIALS; t++) {
      stamp(t);
      const afterReservation = t % 2 === 1;
      const delay = random() * 1.2 * (afterReservation ? copyDuration : duration);
      const p = cliImport(registry, input);
      let timer: NodeJS.Timeout | undefined;
      if (!afterReservation) timer = setTimeout(() => p.child.kill('SIGKILL'), delay);
      else
        void whenReserved(p.child.pid!, p.done).then(
          (at) => at !== undefined && (timer = setTimeout(() => p.child.kill('SIGKILL'), delay)),
        );
      const e = await p.done;
      clearTimeout(timer);
      // Either it finished before the kill (then it must have succeeded) or the kill ended it.
      if (e.signal !== 'SIGKILL')
        assert.strictEqual(e.code, 0, `trial ${t} (kill at ${delay.toFixed(0)} ms) failed by itself: ${e.stderr}`);
      assertNoBusy(`trial ${t}`, e.stderr);
      assert.ok(!/SQLITE_/.test(e.stderr), `trial ${t}: ${e.stderr}`);

      // Ready versions are whole after every single kill; and which state did this kill leave?
      const r = await Registry.open(registry);
      try {
        await assertReadyVersionsComplete(r, 'bigrun', FILES);
        const rows = await sqlOf(r).all<VersionRow>('SELECT id, status FROM versions');
        const fresh = rows.filter((x) => !seenIds.has(x.id));
        seenIds = new Set(rows.map((x) => x.id));
        assert.ok(fresh.length <= 1, `trial ${t} made ${fresh.length} versions`);
        const referenced = new Set(await referencedObjects(r));
        const unreferenced = objectFiles(r.store.objectsDir).digests.filter((d) => !referenced.has(d));
        const newUnreferenced = unreferenced.filter((d) => !seenUnreferenced.has(d));
        seenUnreferenced = new Set(unreferenced);
        const temps = readdirSync(path.join(registry, 'tmp')).filter((n) => n.startsWith(`${p.child.pid}-`));
        const outcome: Outcome =
          fresh.length === 0
            ? 'before reservation'
            : fresh[0].status === 'ready'
              ? 'completed'
              : temps.length
                ? 'copying (temp file left)'
                : newUnreferenced.length
                  ? 'objects stored, not committed'
                  : 'reserved, nothing stored';
        if (fresh.length === 0)
          assert.deepStrictEqual(newUnreferenced, [], `trial ${t}: objects stored without a reservation`);
        outcomes.push({ delay, outcome });
      } finally {
        await r.close();
      }
    }
    const counts = outcomes.reduce<Record<string, number>>((m, o) => ((m[o.outcome] = (m[o.outcome] ?? 0) + 1), m), {});
    console.log(
      `      one import takes ${duration.toFixed(0)} ms (${copyDuration.toFixed(0)} after reserving); kills left: ${JSON.stringify(counts)}`,
    );
    const midImport = outcomes.filter((o) => o.outcome !== 'before reservation' && o.outcome !== 'completed').length;
    assert.ok(
      midImport >= TRIALS / 8,
      `only ${midImport} of ${TRIALS} kills landed inside an import; the timing above is off`,
    );

    const r = await Registry.open(registry);
    try {
      const readyBefore = await assertReadyVersionsComplete(r, 'bigrun', FILES);
      const importingBefore = (await sqlOf(r).all<VersionRow>("SELECT id FROM versions WHERE status <> 'ready'"))
        .length;
      assert.strictEqual(readyBefore.length, 1 + (counts['completed'] ?? 0));

      const gc = await r.gc();
      console.log(`      gc: ${JSON.stringify(gc)} (importing rows before: ${importingBefore})`);
      assert.strictEqual(gc.removedVersions, importingBefore, 'gc removes every import whose process died');
      assert.deepStrictEqual(
        await sqlOf(r).all("SELECT id, number, status FROM versions WHERE status <> 'ready'"),
        [],
        'no importing rows remain',
      );
      const readyAfter = await assertReadyVersionsComplete(r, 'bigrun', FILES);
      assert.deepStrictEqual(
        readyAfter.map((v) => v.id),
        readyBefore.map((v) => v.id),
        'gc keeps every ready version',
      );
      const verify = await r.verify();
      assert.deepStrictEqual(verify.problems, []);
      const { digests, strays } = objectFiles(r.store.objectsDir);
      assert.deepStrictEqual(strays, [], 'nothing but objects in objects/');
      assert.deepStrictEqual(digests, await referencedObjects(r), 'only referenced objects remain');
      for (const d of digests) assert.strictEqual(sha256(r.store.objectPath(d)), d);
      assert.deepStrictEqual(readdirSync(path.join(registry, 'tmp')), [], 'no temp files remain');
      // A second gc has nothing left to do.
      assert.deepStrictEqual(await r.gc(), {
        removedObjects: 0,
        removedBytes: 0,
        removedVersions: 0,
        removedEvaluations: 0,
      });

      // A normal import afterwards gets the next number and is whole.
      const model = (await sqlOf(r).get<{ last_number: number }>(
        "SELECT last_number FROM models WHERE name = 'bigrun'",
      ))!;
      const expected = Math.max(...readyAfter.map((v) => v.number)) + 1;
      assert.strictEqual(model.last_number + 1, expected);
      stamp(TRIALS + 1);
      const last = await cliImport(registry, input, '--json').done;
      assert.strictEqual(last.code, 0, last.stderr);
      const v = JSON.parse(last.stdout) as {
        number: number;
        status: string;
        fileCount: number;
        files: { sha256: string; path: string }[];
      };
      assert.strictEqual(v.number, expected, 'the next import takes the next number');
      assert.strictEqual(v.status, 'ready');
      assert.strictEqual(v.fileCount, FILES);
      assert.strictEqual(v.files.find((f) => f.path === 'model.safetensors')!.sha256, sha256(big));
      await assertReadyVersionsComplete(r, 'bigrun', FILES);
      assert.deepStrictEqual((await r.verify()).problems, []);
      assert.deepStrictEqual(objectFiles(r.store.objectsDir).digests, await referencedObjects(r));
    } finally {
      await r.close();
    }
  });
});

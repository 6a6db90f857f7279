import * as assert from 'assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'fs';
import * as path from 'path';
import { SqlDb, SqliteDb } from '../../../../src/core/registry/db';
import { MIGRATIONS } from '../../../../src/core/registry/migrations';
import { Registry, parseRef } from '../../../../src/core/registry/registry';
import { tempDir } from '../../helpers/tmp';
import { sqlOf } from '../../helpers/sql';

async function storedFile(r: Registry, dir: string, name: string, content: string) {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  const res = await r.store.ingestFile(p);
  return { path: name, sha256: res.sha256, size: res.size, role: 'other' as const };
}

const empty = {
  metrics: [],
  format: null,
  framework: null,
  parameterCount: null,
  git: null,
  params: {},
  signature: {},
  details: {},
};

describe('Registry', () => {
  let dir: string;
  let r: Registry;
  beforeEach(async () => {
    dir = tempDir();
    r = await Registry.open(path.join(dir, '.modelreg'));
  });
  afterEach(() => r.close());

  it('creates registry.db in WAL mode with the schema migrated once', async () => {
    assert.ok(existsSync(path.join(dir, '.modelreg', 'registry.db')));
    const mode = await sqlOf(r).get<{ journal_mode: string }>('PRAGMA journal_mode');
    assert.strictEqual(mode?.journal_mode, 'wal');
    await r.close();
    r = await Registry.open(path.join(dir, '.modelreg')); // reopening applies nothing twice
    const rows = await sqlOf(r).all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepStrictEqual(
      rows.map((row) => row.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
  });

  it('numbers versions v1, v2… per model and resolves references', async () => {
    const a = await r.beginVersion('resnet', { kind: 'training-output', uri: '/x' });
    const b = await r.beginVersion('resnet', { kind: 'training-output', uri: '/y' });
    const c = await r.beginVersion('bert', { kind: 'training-output', uri: '/z' });
    assert.deepStrictEqual([a.number, b.number, c.number], [1, 2, 1]);
    const f = await storedFile(r, dir, 'w', 'weights');
    await r.completeVersion(a.id, { ...empty, files: [f] });
    assert.strictEqual((await r.resolve('resnet')).number, 1, 'latest ready version');
    await r.completeVersion(b.id, { ...empty, files: [f] });
    assert.strictEqual((await r.resolve('resnet')).number, 2);
    assert.strictEqual((await r.resolve('resnet@v1')).id, a.id);
    assert.strictEqual((await r.resolve('resnet@1')).id, a.id);
    await assert.rejects(r.resolve('resnet@v9'), /model 'resnet' has no version v9/);
    await assert.rejects(r.resolve('nope'), /no model named 'nope'/);
    await assert.rejects(r.resolve('bert'), /has no ready version/);
    assert.throws(() => parseRef('x@latest!'), /cannot read version reference/);
  });

  it('gives concurrent importers in two connections distinct version numbers', async () => {
    const other = await Registry.open(path.join(dir, '.modelreg'));
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? r : other).beginVersion('m', { kind: 'training-output', uri: String(i) }),
        ),
      );
      assert.deepStrictEqual(
        results.map((x) => x.number).sort((x, y) => x - y),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    } finally {
      await other.close();
    }
  });

  it('completes a version with files and packed metric series in one go', async () => {
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    const steps = Array.from({ length: 100000 }, (_, i) => i);
    const loss = steps.map((s) => 1 / (s + 1));
    const v = await r.completeVersion(id, {
      ...empty,
      files: [await storedFile(r, dir, 'model.bin', 'abc')],
      format: 'safetensors',
      metrics: [
        {
          source: 'trainer_state.json',
          series: [
            { key: 'loss', steps, values: loss },
            { key: 'eval_accuracy', steps: [1, 2], values: [0.5, 0.7] },
          ],
          best: { key: 'eval_accuracy', value: 0.9, step: 1 },
        },
        { source: 'metrics.csv', series: [{ key: 'loss', steps: [0], values: [NaN] }] },
      ],
    });
    assert.strictEqual(v.status, 'ready');
    assert.strictEqual(v.sizeBytes, 3);
    assert.strictEqual(v.fileCount, 1);
    const finals = await r.finalMetrics(id);
    assert.deepStrictEqual(
      finals.map((m) => [m.key, m.value, m.isBest, m.pointCount]),
      [
        ['eval_accuracy', 0.9, true, 2],
        ['loss', 1 / 100000, false, 100000],
        ['loss (metrics.csv)', null, false, 1],
      ],
    );
    const s = await r.metricSeries(id, 'loss');
    assert.strictEqual(s!.values.length, 100000);
    assert.strictEqual(s!.values[99999], 1 / 100000);
    assert.strictEqual(s!.steps[12345], 12345);
  });

  it('refuses to complete a version whose objects are missing', async () => {
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await assert.rejects(
      r.completeVersion(id, { ...empty, files: [{ path: 'x', sha256: 'a'.repeat(64), size: 1, role: 'other' }] }),
      /not in the store/,
    );
    assert.strictEqual((await r.getVersionById(id))!.status, 'importing');
  });

  it('abandoning the only version of a model removes the model too', async () => {
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.abandonVersion(id);
    assert.deepStrictEqual(await r.listModels(), []);
  });

  it('rejects invalid model names', async () => {
    await assert.rejects(r.beginVersion('../evil', { kind: 'x', uri: '' }), /invalid model name/);
    await assert.rejects(r.beginVersion('', { kind: 'x', uri: '' }), /invalid model name/);
  });

  it('gc removes unreferenced objects and dead imports, and keeps referenced ones', async () => {
    const keep = await storedFile(r, dir, 'keep', 'keep me');
    const orphan = await storedFile(r, dir, 'orphan', 'nobody refers to me');
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.completeVersion(id, { ...empty, files: [keep] });
    const dead = await r.beginVersion('m', { kind: 'training-output', uri: '/dead' });
    await sqlOf(r).run('UPDATE versions SET importer_pid = 999999999 WHERE id = ?', [dead.id]);
    const res = await r.gc();
    assert.deepStrictEqual(res, {
      removedObjects: 1,
      removedBytes: orphan.size,
      removedVersions: 1,
      removedEvaluations: 0,
    });
    assert.ok(await r.store.has(keep.sha256));
    assert.ok(!(await r.store.has(orphan.sha256)));
    assert.strictEqual(await r.getVersionById(dead.id), undefined);
  });

  it('gc spares an old unreferenced object that a running import has just reused', async () => {
    const first = await storedFile(r, dir, 'w', 'weights of a deleted version');
    const v1 = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.completeVersion(v1.id, { ...empty, files: [first] });
    await r.deleteVersion('m@v1');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(r.store.objectPath(first.sha256), hourAgo, hourAgo);
    // A new import of the same bytes starts, reuses the stored object, and gc runs before it commits.
    const v2 = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    const again = await storedFile(r, dir, 'w2', 'weights of a deleted version');
    assert.strictEqual(again.sha256, first.sha256);
    assert.deepStrictEqual(await r.gc(), {
      removedObjects: 0,
      removedBytes: 0,
      removedVersions: 1,
      removedEvaluations: 0,
    });
    await r.completeVersion(v2.id, { ...empty, files: [again] });
    assert.deepStrictEqual((await r.verify()).problems, []);
  });

  it('an import whose object vanished before it committed fails clearly and leaves no version', async () => {
    const f = await storedFile(r, dir, 'w', 'bytes');
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.store.remove(f.sha256);
    await assert.rejects(
      r.completeVersion(id, { ...empty, files: [f] }),
      /object [0-9a-f]{64} for w is not in the store \(removed by a gc running meanwhile\?\); import again/,
    );
    assert.strictEqual((await r.getVersionById(id))!.status, 'importing');
  });

  it('deleting a version keeps its objects until gc', async () => {
    const f = await storedFile(r, dir, 'w', 'weights');
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.completeVersion(id, { ...empty, files: [f] });
    await r.deleteVersion('m@v1');
    assert.ok(await r.store.has(f.sha256));
    assert.deepStrictEqual(await r.listModels(), []);
    await r.gc();
    assert.ok(!(await r.store.has(f.sha256)));
  });

  it('verify reports a flipped byte and a missing object, naming the versions that use them', async () => {
    const a = await storedFile(r, dir, 'a.bin', 'aaaaaaaa');
    const b = await storedFile(r, dir, 'b.bin', 'bbbbbbbb');
    const c = await storedFile(r, dir, 'c.bin', 'cccccccc');
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.completeVersion(id, { ...empty, files: [a, b, c] });
    assert.deepStrictEqual((await r.verify()).problems, []);
    const pa = r.store.objectPath(a.sha256);
    chmodSync(pa, 0o644);
    writeFileSync(pa, 'aaaabaaa'); // one byte flipped
    chmodSync(r.store.objectPath(b.sha256), 0o644);
    await r.store.remove(b.sha256);
    const res = await r.verify();
    assert.strictEqual(res.checked, 3);
    assert.deepStrictEqual(
      res.problems.map((p) => [p.sha256, p.problem, p.usedBy]).sort(),
      [
        [a.sha256, 'corrupt', ['m@v1:a.bin']],
        [b.sha256, 'missing', ['m@v1:b.bin']],
      ].sort(),
    );
  });

  it('gc takes the write lock before it reads the running imports: an import starting in between keeps its objects', async () => {
    // A second connection, as another window or the CLI would have. Right before gc asks for the
    // write lock, it begins an import and stores that import's object; gc must see that import.
    const other = await Registry.open(path.join(dir, '.modelreg'));
    try {
      // The registry's connection is private: the first transaction opened after this patch is gc's.
      const transaction = SqliteDb.prototype.transaction;
      let started: { id: number; file: Awaited<ReturnType<typeof storedFile>> } | undefined;
      let starting = false;
      SqliteDb.prototype.transaction = async function <T>(this: SqliteDb, fn: (tx: SqlDb) => Promise<T>) {
        if (!starting) {
          starting = true;
          const { id } = await other.beginVersion('m', { kind: 'training-output', uri: '/out' });
          started = { id, file: await storedFile(other, dir, 'fresh', 'weights of an import that began just now') };
        }
        return transaction.call(this, fn) as Promise<T>;
      };
      try {
        await r.gc();
      } finally {
        SqliteDb.prototype.transaction = transaction;
      }
      assert.ok(started, 'gc took the write lock');
      assert.ok(await other.store.has(started.file.sha256), "gc removed the running import's object");
      const v = await other.completeVersion(started.id, { ...empty, files: [started.file] });
      assert.strictEqual(v.status, 'ready');
      assert.deepStrictEqual((await other.verify()).problems, []);
    } finally {
      await other.close();
    }
  });

  it("gc in a folder of the user's deletes nothing it did not make: user files, tmp/ files and subfolders stay", async () => {
    const home = tempDir(); // say registryPath pointed at a home folder
    const user = [
      'notes.txt',
      'tmp/draft.txt',
      'tmp/1-report.txt',
      'tmp/999999999-0123456789ab',
      'tmp/photos/a.jpg',
      'tmp/999999998-abcdefabcdef-work/keep.txt',
    ];
    const look = `objects/ab/${'c'.repeat(62)}`; // an object of a SHA-256 git repository looks just like ours
    for (const f of [...user, look]) {
      mkdirSync(path.dirname(path.join(home, f)), { recursive: true });
      writeFileSync(path.join(home, f), `the user's ${f}`);
    }
    const reg = await Registry.open(home);
    try {
      // The registry works there (its own objects and temp files go to folders it makes)…
      const f = await storedFile(reg, dir, 'w', 'weights');
      const { id } = await reg.beginVersion('m', { kind: 'training-output', uri: '/out' });
      await reg.completeVersion(id, { ...empty, files: [f] });
      await reg.deleteVersion('m@v1');
      writeFileSync(`${reg.store.tempPath()}`, 'a temp file of this process');
      const dead = reg.store.tempPath().replace(/^(.*\/)\d+-/, '$1999999997-');
      writeFileSync(dead, 'a temp file of a process that died');
      await reg.gc();
      // …and gc removes what it made (the deleted version's object, the dead process's temp file)…
      assert.ok(!(await reg.store.has(f.sha256)), 'its own unreferenced object goes');
      assert.ok(!existsSync(dead), 'its own dead temp file goes');
      // …and nothing of the user's.
      for (const u of [...user, look])
        assert.strictEqual(readFileSync(path.join(home, u), 'utf8'), `the user's ${u}`, `${u} was deleted`);
      assert.deepStrictEqual(readdirSync(path.join(home, 'tmp', 'photos')), ['a.jpg']);
    } finally {
      await reg.close();
    }
    // Reopening keeps to the same folders: the user's tmp/ and objects/ are still not adopted.
    const again = await Registry.open(home);
    try {
      await again.gc();
      for (const u of [...user, look]) assert.ok(existsSync(path.join(home, u)), `${u} was deleted on the second gc`);
    } finally {
      await again.close();
    }
  });

  it('a registry folder is recognised by the id in its database, not assumed: a copied database does not adopt another tmp/', async () => {
    const a = tempDir();
    const reg = await Registry.open(a);
    const id = reg.id;
    await reg.close();
    assert.match(id, /^[0-9a-f]{32}$/);
    // The same database in another folder whose tmp/ someone else made.
    const b = tempDir();
    mkdirSync(path.join(b, 'tmp'));
    writeFileSync(path.join(b, 'tmp', '999999999-0123456789ab'), 'not ours');
    writeFileSync(path.join(b, 'registry.db'), readFileSync(path.join(a, 'registry.db')));
    const copy = await Registry.open(b);
    try {
      assert.strictEqual(copy.id, id);
      await copy.gc();
      assert.ok(existsSync(path.join(b, 'tmp', '999999999-0123456789ab')));
    } finally {
      await copy.close();
    }
  });

  it('a registry made before identities keeps its objects/ and tmp/ when it is upgraded', async () => {
    const f = await storedFile(r, dir, 'w', 'weights stored by an older version');
    const { id } = await r.beginVersion('m', { kind: 'training-output', uri: '/out' });
    await r.completeVersion(id, { ...empty, files: [f] });
    writeFileSync(r.store.tempPath().replace(/\/\d+-/, '/999999999-'), 'left by a process that died');
    // What an older Model Registry left: no identity row, no marker, schema at migration 6.
    await sqlOf(r).exec('DROP TABLE registry_identity');
    await sqlOf(r).exec('DROP TABLE runs');
    await sqlOf(r).exec('DROP TABLE version_examples');
    await sqlOf(r).exec('DROP TABLE evaluation_images');
    await sqlOf(r).exec(
      'ALTER TABLE evaluations DROP COLUMN runner_pid; ALTER TABLE evaluations DROP COLUMN runner_host',
    );
    await sqlOf(r).run('DELETE FROM schema_migrations WHERE version >= 7');
    await r.close();
    rmSync(path.join(dir, '.modelreg', '.modelreg-registry'));
    r = await Registry.open(path.join(dir, '.modelreg'));
    assert.strictEqual(r.store.objectsDir, path.join(dir, '.modelreg', 'objects'));
    assert.strictEqual(r.store.tempDir, path.join(dir, '.modelreg', 'tmp'));
    assert.deepStrictEqual((await r.verify()).problems, []);
    await r.gc();
    assert.deepStrictEqual(readdirSync(r.store.tempDir), [], 'its temp folder is swept as before');
    assert.ok(await r.store.has(f.sha256));
  });

  it('touches last-change on every write so other processes can refresh', async () => {
    assert.ok(!existsSync(r.changeStamp));
    await r.beginVersion('m', { kind: 'x', uri: '' });
    assert.ok(existsSync(r.changeStamp));
  });
});

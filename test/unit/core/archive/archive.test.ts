// Export a version to a tar or a folder and import it back; hostile and broken archives are refused
// with a clear error, write nothing outside the store and leave no version behind.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  statSync,
  writeFileSync,
} from 'fs';
import * as path from 'path';
import * as tar from 'tar-stream';
import { exportVersion, importArchive } from '../../../../src/core/archive/archive';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { writeLightningCsv } from '../../helpers/makeLogs';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../../helpers/tmp';
import { CLI_JS } from '../../helpers/paths';

/** A tar built entry by entry, hostile ones included (tar-stream writes names and types as given). */
type Entry = Parameters<tar.Pack['entry']>[0] & { data?: Buffer };
function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<Buffer>((resolve) => pack.on('end', () => resolve(Buffer.concat(chunks))));
  for (const { data, ...h } of entries) pack.entry(h, data ?? '');
  pack.finalize();
  return done;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Export and import of version archives', () => {
  let work: string;
  let r: Registry;
  let weights: Buffer;

  beforeEach(async () => {
    work = tempDir();
    makeGitRepo(work);
    const out = path.join(work, 'outputs', 'run1');
    mkdirSync(path.join(out, 'sub'), { recursive: true });
    weights = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [64], fill: 3 }]);
    writeFileSync(path.join(out, 'model.safetensors'), weights);
    writeFileSync(path.join(out, 'sub', 'notes.txt'), 'hello\n');
    await writeLightningCsv(path.join(out, 'metrics.csv'));
    r = await Registry.open(path.join(work, '.modelreg'));
    await importTrainingOutput(r, out, { model: 'resnet' });
    await r.setVersionTags('resnet@v1', ['baseline']);
    await r.setVersionDescription('resnet@v1', 'first run');
  });
  afterEach(() => r.close());

  async function roundTrip(dest: string) {
    const progress: number[] = [];
    const out = await exportVersion(r, 'resnet@v1', dest, { onProgress: (d) => progress.push(d) });
    assert.strictEqual(progress[progress.length - 1], out.bytes);
    const other = await Registry.open(path.join(work, 'other'));
    try {
      const v = await importArchive(other, dest);
      const orig = await r.resolve('resnet@v1');
      assert.strictEqual(v.ref, 'resnet@v1');
      assert.strictEqual(v.source.kind, 'archive');
      assert.deepStrictEqual(
        [v.format, v.git?.commit, v.description, v.tags],
        [orig.format, orig.git?.commit, 'first run', ['baseline']],
      );
      assert.deepStrictEqual(v.signature, orig.signature);
      assert.deepStrictEqual(await other.files(v.id), await r.files(orig.id));
      const strip = (ms: { key: string; value: number | null; step: number | null; pointCount: number }[]) =>
        ms.map((m) => [m.key, m.value, m.step, m.pointCount]);
      assert.deepStrictEqual(strip(await other.finalMetrics(v.id)), strip(await r.finalMetrics(orig.id)));
      const [a, b] = [await other.allSeries(v.id), await r.allSeries(orig.id)];
      assert.deepStrictEqual(
        a.map((s) => [s.key, Array.from(s.values)]),
        b.map((s) => [s.key, Array.from(s.values)]),
      );
      assert.strictEqual((v.details.archive as { from: string }).from, 'resnet@v1');
      assert.deepStrictEqual((await other.verify()).problems, []);
      // Importing again into the same registry makes a new version that shares the objects.
      const again = await importArchive(other, dest, { model: 'resnet-copy' });
      assert.strictEqual(again.ref, 'resnet-copy@v1');
    } finally {
      await other.close();
    }
  }

  it('round-trips through a .tar: files, hashes, metric series, provenance, tags', () =>
    roundTrip(path.join(work, 'resnet.tar')));
  it('round-trips through a .tar.gz', () => roundTrip(path.join(work, 'resnet.tar.gz')));
  it('round-trips through a folder, whose files are plain writable copies', async () => {
    const dest = path.join(work, 'exported');
    await roundTrip(dest);
    assert.deepStrictEqual(readFileSync(path.join(dest, 'files', 'model.safetensors')), weights);
    assert.strictEqual(statSync(path.join(dest, 'files', 'model.safetensors')).mode & 0o200, 0o200);
    const manifest = JSON.parse(readFileSync(path.join(dest, 'manifest.json'), 'utf8'));
    assert.strictEqual(manifest.format, 'modelreg-archive');
    assert.strictEqual(
      manifest.files.find((f: { path: string }) => f.path === 'model.safetensors').sha256,
      sha(weights),
    );
  });

  it('refuses to export into a non-empty folder and leaves no partial tar on cancel', async () => {
    const busy = path.join(work, 'busy');
    mkdirSync(busy);
    writeFileSync(path.join(busy, 'keep.txt'), 'mine');
    await assert.rejects(exportVersion(r, 'resnet@v1', busy), /busy: the folder is not empty/);
    assert.deepStrictEqual(readdirSync(busy), ['keep.txt']);
    for (const dest of ['x.tar', 'x.tar.gz', 'x-folder']) {
      const abort = new AbortController();
      const cancelMidway = { signal: abort.signal, onProgress: (done: number) => done > 0 && abort.abort() };
      await assert.rejects(exportVersion(r, 'resnet@v1', path.join(work, dest), cancelMidway), /cancelled/);
      assert.deepStrictEqual(
        readdirSync(work).filter((f) => f.startsWith('x')),
        [],
        `nothing left of ${dest}`,
      );
    }
  });

  describe('hostile and broken archives', () => {
    let good: Buffer;
    let manifest: { files: { path: string; sha256: string; size: number }[] };
    const data = Buffer.from('weights!');

    beforeEach(() => {
      manifest = {
        format: 'modelreg-archive',
        formatVersion: 1,
        model: 'evil',
        files: [{ path: 'model.bin', sha256: sha(data), size: data.length }],
      } as never;
    });
    const m = () => ({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });

    async function refuses(entries: Entry[], pattern: RegExp) {
      const file = path.join(work, `bad-${Math.random().toString(36).slice(2)}.tar`);
      writeFileSync(file, await tarOf(entries));
      const before = readdirSync(work).sort();
      await assert.rejects(importArchive(r, file), (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(e.message.startsWith(file), `names the archive: ${e.message}`);
        return true;
      });
      assert.deepStrictEqual(readdirSync(work).sort(), before, 'nothing written beside the archive');
      assert.deepStrictEqual(
        (await r.listModels()).map((x) => x.name),
        ['resnet'],
        'no half version',
      );
      assert.strictEqual((await r.gc()).removedVersions, 0, 'no importing row left');
    }

    it('accepts the well-formed archive these cases start from', async () => {
      good = await tarOf([m(), { name: 'files/model.bin', data }]);
      const file = path.join(work, 'good.tar');
      writeFileSync(file, good);
      assert.strictEqual((await importArchive(r, file)).ref, 'evil@v1');
    });
    it("'../' paths", () =>
      refuses(
        [m(), { name: 'files/../../escape.bin', data }],
        /entry 'files\/\.\.\/\.\.\/escape\.bin' has an unsafe path/,
      ));
    it('absolute paths', () => refuses([m(), { name: '/tmp/escape.bin', data }], /unsafe path/));
    it('symlinks', () =>
      refuses(
        [m(), { name: 'files/model.bin', type: 'symlink', linkname: '/etc/passwd' }],
        /is a symlink to '\/etc\/passwd'; archives may hold only regular files/,
      ));
    it('hard links', () =>
      refuses([m(), { name: 'files/model.bin', type: 'link', linkname: 'manifest.json' }], /is a link/));
    it('duplicate names', () =>
      refuses(
        [m(), { name: 'files/model.bin', data }, { name: 'files/model.bin', data }],
        /'files\/model\.bin' appears twice/,
      ));
    it('files not in the manifest', () =>
      refuses(
        [m(), { name: 'files/model.bin', data }, { name: 'files/extra.bin', data }],
        /'files\/extra\.bin' is not listed in manifest\.json/,
      ));
    it('files missing from the archive', () =>
      refuses([m()], /missing 1 file\(s\) listed in manifest\.json: model\.bin/));
    it('altered content', () =>
      refuses([m(), { name: 'files/model.bin', data: Buffer.from('WEIGHTS!') }], /does not match its SHA-256/));
    it('a wrong size', () =>
      refuses([m(), { name: 'files/model.bin', data: Buffer.from('weights!!') }], /has 9 bytes; manifest.json says 8/));
    it('no manifest first', () =>
      refuses([{ name: 'files/model.bin', data }, m()], /first entry must be manifest\.json/));
    it('a manifest with unsafe paths', () => {
      manifest.files[0].path = '../x';
      return refuses([m()], /files\[0\]\.path "\.\.\/x" is not a safe relative path/);
    });
    it('a manifest that is not ours', () =>
      refuses([{ name: 'manifest.json', data: Buffer.from('{"format":"zip"}') }], /not a Model Registry archive/));
    it('a manifest that is not JSON', () =>
      refuses([{ name: 'manifest.json', data: Buffer.from('{nope') }], /manifest\.json is not valid JSON/));
    it('a manifest nested 100k deep: a clear refusal naming manifest.json, not a stack overflow', () => {
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const text = JSON.stringify(manifest).replace(/}$/, `, "details": {"x": ${deep}}}`);
      return refuses(
        [
          { name: 'manifest.json', data: Buffer.from(text) },
          { name: 'files/model.bin', data },
        ],
        /: manifest\.json is nested more than \d+ levels deep/,
      );
    });
    it('metrics.json with more series than a log may hold, refused before anything is stored', () => {
      const series = Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}`, steps: [1], values: [1] }));
      const metrics = { name: 'metrics.json', data: Buffer.from(JSON.stringify([{ source: 'a', series }])) };
      return refuses(
        [m(), metrics, { name: 'files/model.bin', data }],
        /: metrics\.json: log 0 has 10001 metric series, more than 10000 \(limit per log\)/,
      );
    });
    it('metrics.json with more points than a log may hold', () => {
      const steps = new Array(2_000_001).fill(0);
      const metrics = {
        name: 'metrics.json',
        data: Buffer.from(JSON.stringify([{ source: 'a', series: [{ key: 'loss', steps, values: steps }] }])),
      };
      return refuses(
        [m(), metrics, { name: 'files/model.bin', data }],
        /: metrics\.json: log 0 has 2000001 points, more than 2000000 \(limit per log\)/,
      );
    });
    it('a truncated tar', async () => {
      const whole = await tarOf([m(), { name: 'files/model.bin', data: Buffer.alloc(5000, 1) }]);
      manifest.files[0] = { path: 'model.bin', sha256: sha(Buffer.alloc(5000, 1)), size: 5000 };
      const file = path.join(work, 'cut.tar');
      writeFileSync(file, await tarOf([m(), { name: 'files/model.bin', data: Buffer.alloc(5000, 1) }]));
      truncateSync(file, whole.length - 3000);
      await assert.rejects(importArchive(r, file), /cut\.tar: (not a readable tar archive|.*does not match)/);
      assert.deepStrictEqual(
        (await r.listModels()).map((x) => x.name),
        ['resnet'],
      );
    });
    it('a file that is no tar at all', async () => {
      const file = path.join(work, 'noise.tar');
      writeFileSync(file, Buffer.alloc(4096, 7));
      await assert.rejects(importArchive(r, file), /noise\.tar: not a readable tar archive/);
    });
    it('a folder with a symlink among its files', async () => {
      const dest = path.join(work, 'exported');
      await exportVersion(r, 'resnet@v1', dest);
      symlinkSync('/etc/passwd', path.join(dest, 'files', 'sub', 'link'));
      await assert.rejects(importArchive(r, dest), /link: not a regular file/);
    });
    it('a FIFO given as the archive: refused at once, never opened for reading (CLI, real FIFO)', () => {
      const fifo = path.join(work, 'resnet.tar');
      assert.strictEqual(spawnSync('mkfifo', [fifo]).status, 0);
      const cli = CLI_JS;
      // A reader that opens the FIFO blocks until a writer comes: the timeout turns that hang into a failure.
      const res = spawnSync(
        process.execPath,
        [cli, '--registry', path.join(work, '.modelreg'), 'import-archive', fifo],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.strictEqual(res.signal, null, 'import-archive hung on the FIFO');
      assert.strictEqual(res.status, 2, res.stderr);
      assert.match(
        res.stderr,
        /resnet\.tar: is a named pipe \(FIFO\), not an archive; give a \.tar, \.tar\.gz or an exported folder/,
      );
      assert.ok(!/\n\s+at /.test(res.stderr), 'no stack trace');
    });
    it('a folder whose manifest.json or metrics.json is a FIFO', async () => {
      for (const name of ['manifest.json', 'metrics.json']) {
        const dest = path.join(work, `fifo-${name}`);
        await exportVersion(r, 'resnet@v1', dest);
        rmSync(path.join(dest, name));
        assert.strictEqual(spawnSync('mkfifo', [path.join(dest, name)]).status, 0);
        // Should it be opened anyway, a writer lets the read end (and the test fail) instead of hanging.
        const rescue = setTimeout(() => {
          try {
            closeSync(openSync(path.join(dest, name), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
          } catch {
            /* nobody reading */
          }
        }, 10_000);
        try {
          await assert.rejects(
            importArchive(r, dest),
            new RegExp(`${name.replace('.', '\\.')}: is a named pipe \\(FIFO\\), not a regular file; not read`),
          );
        } finally {
          clearTimeout(rescue);
        }
      }
      assert.deepStrictEqual(
        (await r.listVersions('resnet')).map((v) => v.number),
        [1],
      );
    });
    it('a folder whose export did not finish', async () => {
      const dest = path.join(work, 'half');
      mkdirSync(path.join(dest, 'files'), { recursive: true });
      await assert.rejects(importArchive(r, dest), /half: no manifest\.json/);
      assert.ok(!existsSync(path.join(work, 'escape.bin')));
    });
  });
});

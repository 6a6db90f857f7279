/**
 * Imports and exports killed with SIGKILL by real child processes (the compiled CLI, out/src), and
 * what the next process makes of what they left: an interrupted import is shown as such and can be
 * cleaned up; an export's partial tar is removed by the next export and by gc. Under strace, the
 * store and the export fsync what a power loss would otherwise lose.
 */
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  ftruncateSync,
} from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { CLI_JS } from '../../helpers/paths';

const CLI = CLI_JS;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function run(args: string[], command = process.execPath): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // 'close': pipes drained and the process reaped, so its pid is dead for whoever looks next.
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Resolves when `test` holds (polled), or with false when the process ended first. */
function when(test: () => boolean, done: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (!test()) return;
      clearInterval(poll);
      resolve(true);
    }, 2);
    void done.then(() => (clearInterval(poll), resolve(test())));
  });
}

/** A training output whose one weights file is big (sparse: no disk until copied) and so slow to copy. */
function bigOutput(dir: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const header = safetensorsBytes([{ name: 'w', dtype: 'U8', shape: [16], fill: 1 }]);
  writeFileSync(path.join(dir, 'model.safetensors'), header);
  const fd = openSync(path.join(dir, 'weights.bin'), 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return dir;
}

describe('SIGKILLed imports and exports (real processes)', function () {
  this.timeout(120_000);
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
  });

  it('an import killed while copying is listed as interrupted (list skips it, --all shows it), and Clean up removes it', async () => {
    const root = tempDir();
    const registry = path.join(root, 'reg');
    const input = bigOutput(path.join(root, 'out'), 1 << 30);
    const p = run([CLI, '--registry', registry, 'import', input, '--model', 'big']);
    // The import has reserved big@v1 once its change stamp names its pid; kill it while it copies.
    const stamp = path.join(registry, 'last-change');
    const reserved = await when(
      () => existsSync(stamp) && readFileSync(stamp, 'utf8').endsWith(` ${p.child.pid}`),
      p.done,
    );
    assert.ok(reserved, 'the import reserved its version');
    p.child.kill('SIGKILL');
    assert.strictEqual((await p.done).signal, 'SIGKILL', 'it was killed before it finished');

    const r = await Registry.open(registry);
    try {
      const [v] = await r.listVersions('big');
      assert.deepStrictEqual([v.number, v.status, v.interrupted, v.importer?.pid], [1, 'importing', true, p.child.pid]);

      const list = run([CLI, '--registry', registry, 'list', 'big']);
      const shown = await list.done;
      assert.strictEqual(shown.code, 0, shown.stderr);
      assert.ok(!/big@v1/.test(shown.stdout), `an interrupted import is not listed:\n${shown.stdout}`);
      assert.match(
        shown.stdout + shown.stderr,
        /1 interrupted import not shown \(its process died\): modelreg gc removes it; --all shows it/,
      );
      const all = await run([CLI, '--registry', registry, 'list', 'big', '--all']).done;
      // (a tab, or "\t" while the CLI's control-character escaping also escapes tabs)
      assert.match(all.stdout, /^big@v1(\t|\\t)interrupted(\t|\\t)/m);
      const json = await run([CLI, '--registry', registry, 'list', 'big', '--all', '--json']).done;
      assert.deepStrictEqual(
        (JSON.parse(json.stdout) as { ref: string; status: string }[]).map((x) => [x.ref, x.status]),
        [['big@v1', 'interrupted']],
      );

      // A running import of the same process is not interrupted: Clean up refuses it.
      const live = await r.beginVersion('big', { kind: 'training-output', uri: input });
      await assert.rejects(
        r.cleanUpInterrupted(live.id),
        /big@v2 is still being imported by process \d+ on this machine/,
      );
      await r.abandonVersion(live.id);

      await r.cleanUpInterrupted(v.id);
      assert.deepStrictEqual(await r.listVersions('big'), []);
      assert.deepStrictEqual(readdirSync(r.store.tempDir), [], "the killed import's temp file went too");
      // v1 never held a version (numbers count as used once a version with it is ready), so it is free.
      const next = await importTrainingOutput(r, bigOutput(path.join(root, 'small'), 1024), { model: 'big' });
      assert.strictEqual(next.number, 1);
    } finally {
      await r.close();
    }
  });

  it('an export killed while writing leaves a partial tar that the next export and gc remove', async () => {
    const root = tempDir();
    const registry = path.join(root, 'reg');
    const r = await Registry.open(registry);
    try {
      await importTrainingOutput(r, bigOutput(path.join(root, 'out'), 256 << 20), { model: 'big' });
      const exportKilled = async (dest: string): Promise<string> => {
        const p = run([CLI, '--registry', registry, 'export', 'big@v1', dest]);
        const partial = `${dest}.${p.child.pid}.partial`;
        assert.ok(
          await when(() => existsSync(partial) && statSync(partial).size > 0, p.done),
          'the export started writing',
        );
        p.child.kill('SIGKILL');
        assert.strictEqual((await p.done).signal, 'SIGKILL', 'it was killed before it finished');
        assert.ok(existsSync(partial), 'the killed export left its partial tar');
        assert.ok(!existsSync(dest));
        return partial;
      };

      const dest = path.join(root, 'exports', 'big.tar');
      mkdirSync(path.dirname(dest));
      writeFileSync(path.join(root, 'exports', 'big.tar.notes'), "the user's");
      const left = await exportKilled(dest);
      const again = await run([CLI, '--registry', registry, 'export', 'big@v1', dest]).done;
      assert.strictEqual(again.code, 0, again.stderr);
      assert.ok(!existsSync(left), 'the next export removed the partial tar of the killed one');
      assert.deepStrictEqual(readdirSync(path.dirname(dest)).sort(), ['big.tar', 'big.tar.notes']);

      const other = path.join(root, 'elsewhere.tar.gz');
      const left2 = await exportKilled(other);
      await r.gc();
      assert.ok(!existsSync(left2), 'gc removed the partial tar of the killed export');
      assert.deepStrictEqual(readdirSync(r.store.tempDir), []);
      assert.ok(existsSync(path.join(root, 'exports', 'big.tar.notes')));
    } finally {
      await r.close();
    }
  });

  it('fsyncs the object folder after a rename into it, and an exported tar before its rename (strace)', async function () {
    if (spawnSync('strace', ['-V']).status !== 0) this.skip(); // CI installs strace (apt-get install strace)
    const root = tempDir();
    const registry = path.join(root, 'reg');
    const input = path.join(root, 'out');
    mkdirSync(input);
    writeFileSync(
      path.join(input, 'model.safetensors'),
      safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [64], fill: 9 }]),
    );
    const traced = async (...args: string[]) => {
      const log = path.join(root, `strace-${args[0]}.log`);
      const e = await run(
        [
          '-f',
          '-y',
          '-qq',
          '-e',
          'trace=fsync,fdatasync,rename,renameat,renameat2',
          '-o',
          log,
          process.execPath,
          CLI,
          '--registry',
          registry,
          ...args,
        ],
        'strace',
      ).done;
      assert.strictEqual(e.code, 0, e.stderr);
      // "[pid N] " prefixes dropped; one call per line.
      return readFileSync(log, 'utf8')
        .split('\n')
        .map((l) => l.replace(/^\d+\s+/, ''));
    };

    const imported = await traced('import', input, '--model', 'm');
    const objects = path.join(registry, 'objects');
    const into = imported.findIndex((l) => /^rename(at2?)?\(/.test(l) && l.includes(`${objects}/`));
    assert.ok(into >= 0, `no rename into objects/:\n${imported.join('\n')}`);
    const shard = /"([^"]*\/objects\/[0-9a-f]{2})\/[0-9a-f]{62}"/.exec(
      imported[into].split(', ').slice(-2).join(', '),
    )![1];
    assert.ok(
      imported.slice(into).some((l) => l.startsWith('fsync(') && l.includes(`<${shard}>`)),
      `objects folder ${shard} not fsynced after the rename:\n${imported.join('\n')}`,
    );

    const dest = path.join(root, 'm.tar');
    const exported = await traced('export', 'm@v1', dest);
    const renamed = exported.findIndex((l) => /^rename(at2?)?\(/.test(l) && l.includes(`${dest}"`));
    assert.ok(renamed >= 0, `no rename to ${dest}:\n${exported.join('\n')}`);
    assert.ok(
      exported.slice(0, renamed).some((l) => /^f(data)?sync\(/.test(l) && /m\.tar\.\d+\.partial>/.test(l)),
      `the tar was not fsynced before its rename:\n${exported.join('\n')}`,
    );
    assert.ok(
      exported.slice(renamed).some((l) => l.startsWith('fsync(') && l.includes(`<${root}>`)),
      `the tar's folder was not fsynced after the rename:\n${exported.join('\n')}`,
    );
  });
});

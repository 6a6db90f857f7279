// An open VS Code window refreshes its views when `.modelreg/last-change` changes (and a team
// registry's view when PostgreSQL NOTIFYs): every CLI command that writes must change it. The
// command list comes from the CLI's own help, so a new command fails here until it is placed in
// WRITING (and run below) or in READ_ONLY.
import * as assert from 'assert';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PgDb } from '../../../src/core/registry/pgDb';
import { s3Client } from '../../../src/core/store/s3/client';
import { pushTestImage, startOciRegistry, startPostgres, startSwiftS3, teamCliEnv } from '../../services/services';
import { onnxModelBytes } from '../helpers/makeWeights';
import { eventually } from '../../helpers/eventually';
import { CLI_JS } from '../helpers/paths';
import { tempDir } from '../helpers/tmp';

/** Commands that write, each run below (some in several variants). */
const WRITING = [
  'import',
  'import-image',
  'import-archive',
  'alias set',
  'alias rm',
  'tag',
  'describe',
  'clone',
  'archive',
  'delete',
  'gc',
  'convert',
  'dataset add',
  'evaluate',
  'push',
  'pull',
  'example save',
  'example rm',
];
/** The writing commands a team registry takes too (--registry postgres://…), each run on one below. */
const TEAM_WRITING = ['alias set', 'alias rm', 'tag', 'describe', 'clone', 'archive', 'delete'];
/**
 * Training commands: their writes are made by the detached runner through the same write path
 * (core.ts write(), which stamps); test/unit/core/train/runs.test.ts runs them for real.
 */
const TRAINING = ['train', 'rerun', 'runs', 'runs stop', 'runs retry', 'runs log'];
/**
 * Commands that only read the registry (export writes a file outside it, push-image an image elsewhere,
 * and neither records anything; serve reads versions and watches the stamp).
 */
const READ_ONLY = [
  'templates',
  'validate',
  'list',
  'show',
  'verify',
  'alias list',
  'lineage',
  'search',
  'export',
  'push-image',
  'converters',
  'datasets',
  'dataset show',
  'evaluations',
  'serve',
  'example list',
  'example replay',
];

function modelreg(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_JS, ...args], { cwd, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Every command and subcommand the CLI's help lists ("alias set"), `help` left out. */
async function cliCommands(prefix: string[] = []): Promise<string[]> {
  const help = (await modelreg(os.tmpdir(), [...prefix, '--help'])).out;
  const listed = help.split('\nCommands:\n')[1] ?? '';
  const found: string[] = [];
  for (const line of listed.split('\n')) {
    const m = /^ {2}(\S+)(.*?)(?: {2,}|$)/.exec(line);
    if (!m || m[1] === 'help') continue;
    const name = [...prefix, m[1]];
    // A command with neither options nor arguments may group subcommands (alias, dataset).
    const sub = m[2].trim() === '' ? await cliCommands(name) : [];
    found.push(...(sub.length ? sub : [name.join(' ')]));
  }
  return found;
}

describe('CLI commands that write stamp the change', function () {
  this.timeout(300_000);

  it('dataset add and evaluate change .modelreg/last-change', async () => {
    const ws = tempDir();
    mkdirSync(path.join(ws, 'out'));
    writeFileSync(path.join(ws, 'out', 'model.onnx'), onnxModelBytes({ features: 2, classes: 2 }));
    writeFileSync(path.join(ws, 'data.csv'), 'x1,x2,label\n1,0,a\n0,1,b\n');
    const stamp = path.join(ws, '.modelreg', 'last-change');
    const read = () => (existsSync(stamp) ? readFileSync(stamp, 'utf8') : '');
    const ok = async (...args: string[]) => {
      const r = await modelreg(ws, args);
      assert.strictEqual(r.code, 0, `${args.join(' ')}: ${r.err}`);
    };
    await ok('import', 'out', '--model', 'm');
    let before = read();
    assert.notStrictEqual(before, '', 'import stamps');
    await ok('dataset', 'add', 'data.csv', '--name', 'd');
    assert.notStrictEqual(read(), before, 'dataset add stamps');
    before = read();
    await ok('evaluate', 'm@v1', '--dataset', 'd');
    assert.notStrictEqual(read(), before, 'evaluate stamps');
  });

  it('every CLI command is known here as writing or read-only', async () => {
    const commands = await cliCommands();
    assert.ok(commands.includes('alias set') && commands.includes('dataset add'), commands.join(', '));
    const unknown = commands.filter((c) => !WRITING.includes(c) && !READ_ONLY.includes(c) && !TRAINING.includes(c));
    assert.deepStrictEqual(unknown, [], 'new commands: add each to WRITING (and run it below) or to READ_ONLY');
    assert.deepStrictEqual(
      [...WRITING, ...READ_ONLY].filter((c) => !commands.includes(c)),
      [],
      'listed here but gone from the CLI',
    );
  });

  describe('against a real registry (and PostgreSQL, Swift s3api and an OCI registry)', () => {
    let pg: Awaited<ReturnType<typeof startPostgres>>;
    let swift: Awaited<ReturnType<typeof startSwiftS3>>;
    let oci: Awaited<ReturnType<typeof startOciRegistry>>;
    let env: NodeJS.ProcessEnv;
    before(async () => {
      [pg, swift, oci] = await Promise.all([startPostgres(), startSwiftS3(), startOciRegistry()]);
      const s3 = s3Client({
        endpoint: swift.endpoint,
        region: swift.region,
        credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'team' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
      await s3.send(
        new PutObjectCommand({
          Bucket: 'data',
          Key: 'run/model.onnx',
          Body: onnxModelBytes({ features: 3, classes: 2 }),
        }),
      );
      s3.destroy();
      await pushTestImage(oci.host, 'team/classifier', 'v1', {
        'model/model.onnx': onnxModelBytes({ features: 4, classes: 2 }),
      });
      env = teamCliEnv(pg, swift);
    });
    after(() => Promise.all([pg?.stop(), swift?.stop(), oci?.stop()]));

    it('each writing command changes .modelreg/last-change (push: the team’s stamp and NOTIFY)', async () => {
      const ws = tempDir();
      mkdirSync(path.join(ws, 'out'));
      writeFileSync(path.join(ws, 'out', 'model.onnx'), onnxModelBytes({ features: 2, classes: 2 }));
      writeFileSync(path.join(ws, 'data.csv'), 'x1,x2,label\n1,0,a\n0,1,b\n');
      const stampOf = (dir: string) => {
        const file = path.join(dir, 'last-change');
        return existsSync(file) ? readFileSync(file, 'utf8') : '';
      };
      const ran = new Set<string>();
      const teamCommands = new Set<string>();
      /** Runs a command in `cwd` and asserts that it changed the stamp of ./.modelreg there. */
      const stampsIn = async (cwd: string, command: string, ...args: string[]) => {
        const before = stampOf(path.join(cwd, '.modelreg'));
        const r = await modelreg(cwd, args, env);
        assert.strictEqual(r.code, 0, `modelreg ${args.join(' ')}: ${r.err}`);
        assert.notStrictEqual(
          stampOf(path.join(cwd, '.modelreg')),
          before,
          `modelreg ${args.join(' ')} did not change the stamp`,
        );
        ran.add(command);
      };
      const stamps = (command: string, ...args: string[]) => stampsIn(ws, command, ...args);
      const ok = async (...args: string[]) => {
        const r = await modelreg(ws, args, env);
        assert.strictEqual(r.code, 0, `modelreg ${args.join(' ')}: ${r.err}`);
      };

      await stamps('import', 'import', 'out', '--model', 'm');
      await stamps('import', 'import', 's3://data/run/', '--endpoint', swift.endpoint, '--region', swift.region);
      await stamps('import-image', 'import-image', `${oci.host}/team/classifier:v1`, '--path', '/model');
      await ok('export', 'm@v1', 'm-v1.tar');
      await stamps('import-archive', 'import-archive', 'm-v1.tar', '--model', 'from-archive');
      await stamps('alias set', 'alias', 'set', 'm@v1', 'production');
      await stamps('alias rm', 'alias', 'rm', 'm', 'production');
      await stamps('tag', 'tag', 'm@v1', 'reviewed');
      await stamps('tag', 'tag', 'm@v1', '--remove', 'reviewed');
      await stamps('describe', 'describe', 'm', 'a model');
      await stamps('describe', 'describe', 'm@v1', 'a version');
      await stamps('clone', 'clone', 'm@v1', 'm2');
      await stamps('archive', 'archive', 'm2@v1');
      await stamps('archive', 'archive', 'm2@v1', '--undo');
      await stamps('delete', 'delete', 'm2@v1');
      await stamps('gc', 'gc');
      await stamps('convert', 'convert', 'm@v1', '--to', 'onnx-fp16');
      await stamps('dataset add', 'dataset', 'add', 'data.csv', '--name', 'd');
      await stamps('evaluate', 'evaluate', 'm@v1', '--dataset', 'd');
      writeFileSync(
        path.join(ws, 'request.json'),
        JSON.stringify({ inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [1, 0] }] }),
      );
      await stamps('example save', 'example', 'save', 'm@v1', 'first', '--request', 'request.json');
      await stamps('example rm', 'example', 'rm', 'm@v1', 'first');

      // push writes the team registry: its stamp (a folder per team registry) and a NOTIFY.
      const teamDir = path.join(
        os.tmpdir(),
        `modelreg-team-${createHash('sha256').update(pg.url).digest('hex').slice(0, 12)}`,
      );
      const watcher = await PgDb.open(pg.url);
      const heard: string[] = [];
      const stop = await watcher.watch((stamp) => heard.push(stamp));
      try {
        /** Runs a command that writes the team registry; asserts its stamp changed and was announced. */
        const stampsTeam = async (command: string, ...args: string[]) => {
          const before = stampOf(teamDir);
          await ok(...args);
          const after = stampOf(teamDir);
          assert.notStrictEqual(after, before, `modelreg ${args.join(' ')} did not change the team registry's stamp`);
          await eventually(() => assert.ok(heard.includes(after), `modelreg ${args.join(' ')} was not announced`), {
            timeout: 10_000,
          });
          ran.add(command);
        };
        await stampsTeam('push', 'push', 'm@v1');
        // The metadata commands on the team registry itself (--registry postgres://…) take the same write
        // path. (Its gc keeps unreferenced objects for a grace period, so right after a delete it removes
        // nothing and, like a local gc that removes nothing, records nothing.)
        const team = (...args: string[]) => ['--registry', pg.url, ...args];
        const onTeam = async (command: string, ...args: string[]) => {
          await stampsTeam(command, ...team(...args));
          teamCommands.add(command);
        };
        await onTeam('alias set', 'alias', 'set', 'm@v1', 'production');
        await onTeam('alias rm', 'alias', 'rm', 'm', 'production');
        await onTeam('tag', 'tag', 'm@v1', 'reviewed');
        await onTeam('tag', 'tag', 'm@v1', '--remove', 'reviewed');
        await onTeam('describe', 'describe', 'm', 'a team model');
        await onTeam('describe', 'describe', 'm@v1', 'a team version');
        await onTeam('clone', 'clone', 'm@v1', 'm3');
        await onTeam('archive', 'archive', 'm3@v1');
        await onTeam('archive', 'archive', 'm3@v1', '--undo');
        await onTeam('delete', 'delete', 'm3@v1');
      } finally {
        await stop();
        await watcher.close();
      }
      // pull into another workspace (here the version is already the pushed one's origin).
      await stampsIn(tempDir(), 'pull', 'pull', 'm@v1');

      assert.deepStrictEqual([...ran].sort(), [...WRITING].sort(), 'every writing command was run');
      assert.deepStrictEqual(
        [...teamCommands].sort(),
        [...TEAM_WRITING].sort(),
        'every command that writes a team registry was run on one',
      );
    });
  });
});

// The team registry against a real PostgreSQL and a real Swift s3api: push and pull round trips that
// keep hashes, provenance, metric series and lineage; objects never sent twice; faults (the bucket or
// the database going away mid-push, the bucket mid-pull) leave no version on either side, and the
// retry completes.
import * as assert from 'assert';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomFillSync } from 'crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { s3Client } from '../../../../src/core/store/s3/client';
import { S3Connection } from '../../../../src/core/store/s3/connection';
import { Registry } from '../../../../src/core/registry/registry';
import { openTeamRegistry, pullVersion, pushVersion, TeamRegistry } from '../../../../src/core/registry/team';
import { eventually } from '../../../helpers/eventually';
import { startPostgres, startSwiftS3 } from '../../../services/services';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';
import { sqlOf } from '../../helpers/sql';

describe('Team registry (PostgreSQL + Swift s3api)', function () {
  this.timeout(180_000);
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let swift: Awaited<ReturnType<typeof startSwiftS3>>;
  let connection: S3Connection;
  let admin: S3Client;
  let count = 0;
  let work: string;
  let local: Registry;
  let team: TeamRegistry;

  before(async () => {
    [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
    connection = {
      endpoint: swift.endpoint,
      region: swift.region,
      forcePathStyle: true,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    };
    admin = s3Client(connection);
  });
  after(async () => {
    admin?.destroy();
    await Promise.all([pg?.stop(), swift?.stop()]);
  });

  /** A fresh team registry: its own database and bucket. */
  async function newTeam(): Promise<{ url: string; bucket: string; open: () => Promise<TeamRegistry> }> {
    const n = ++count;
    const url = await pg.createDatabase(`team_${n}`);
    await admin.send(new CreateBucketCommand({ Bucket: `team-${n}` }));
    const open = () =>
      openTeamRegistry({ registry: url, store: `s3://team-${n}/models`, connection, workDir: tempDir() });
    return { url, bucket: `team-${n}`, open };
  }

  let seed = 0;
  function output(name: string, opts: { bigBytes?: number; config?: Record<string, unknown> } = {}): string {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'model.safetensors'),
      safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [64], fill: ++seed }]),
    );
    writeFileSync(path.join(dir, 'metrics.csv'), 'step,loss,accuracy\n1,0.9,0.5\n2,0.5,0.75\n3,0.25,0.875\n');
    if (opts.bigBytes) writeFileSync(path.join(dir, 'extra.bin'), randomFillSync(Buffer.alloc(opts.bigBytes)));
    if (opts.config) writeFileSync(path.join(dir, 'config.json'), JSON.stringify(opts.config));
    return dir;
  }

  beforeEach(async () => {
    work = tempDir();
    makeGitRepo(work);
    local = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(async () => {
    await local.close();
    await team?.close();
    team = undefined as unknown as TeamRegistry;
  });

  const objectKeys = async (bucket: string) =>
    ((await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  it('push keeps files, provenance, metric series, tags and lineage; a second push sends nothing; pull brings it all back', async () => {
    const t = await newTeam();
    team = await t.open();
    await importTrainingOutput(local, output('base'), { model: 'resnet' });
    await local.setVersionTags('resnet@v1', ['baseline']);
    const base = await local.resolve('resnet@v1');
    const clone = await local.cloneVersion(base.ref, 'resnet-small');
    const pushed = await pushVersion(local, team, clone.ref);
    assert.deepStrictEqual(
      pushed.copied.map((v) => v.ref),
      ['resnet@v1', 'resnet-small@v1'],
      'the parent goes first',
    );
    assert.strictEqual(pushed.objectsSent, 2, 'weights and metrics.csv, once each although both versions use them');
    assert.deepStrictEqual(
      await objectKeys(t.bucket),
      (await local.files(base.id)).map((f) => `models/objects/${f.sha256.slice(0, 2)}/${f.sha256.slice(2)}`).sort(),
    );

    const remote = await team.resolve('resnet-small@v1');
    const remoteBase = await team.resolve('resnet@v1');
    assert.strictEqual(remote.parentId, remoteBase.id);
    assert.strictEqual(remote.parentKind, 'clone');
    assert.deepStrictEqual((await team.lineage(remote.ref)).edges, [
      { from: remoteBase.id, to: remote.id, kind: 'clone' },
    ]);
    for (const [a, b] of [
      [base, remoteBase],
      [clone, remote],
    ]) {
      assert.deepStrictEqual(await team.files(b.id), await local.files(a.id));
      assert.deepStrictEqual(b.git, a.git);
      assert.deepStrictEqual(
        [b.createdAt, b.source, b.format, b.params, b.signature, b.sizeBytes, b.tags],
        [a.createdAt, a.source, a.format, a.params, a.signature, a.sizeBytes, a.tags],
      );
      assert.deepStrictEqual(await team.allSeries(b.id), await local.allSeries(a.id));
      assert.deepStrictEqual(await team.finalMetrics(b.id), await local.finalMetrics(a.id));
      assert.strictEqual((b.details.copiedFrom as { ref: string }).ref, a.ref);
    }

    const again = await pushVersion(local, team, clone.ref);
    assert.deepStrictEqual([again.copied.length, again.objectsSent, again.version.id], [0, 0, remote.id]);
    // A copy deleted in the team registry is not silently "already there".
    await team.deleteVersion(remote.ref);
    await assert.rejects(
      pushVersion(local, team, clone.ref),
      /resnet-small@v1 was copied to postgres:.* as resnet-small@v1, which was deleted there: restore it there, or run gc there/,
    );
    await team.restoreVersion(remote.id);

    // Pull into another workspace's registry: same bytes, same facts; pulling twice changes nothing.
    const other = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      const pulled = await pullVersion(team, other, 'resnet-small@latest');
      assert.deepStrictEqual(
        pulled.copied.map((v) => v.ref),
        ['resnet@v1', 'resnet-small@v1'],
      );
      for (const f of await other.files(pulled.version.id)) {
        assert.ok(
          readFileSync(other.store.objectPath(f.sha256)).equals(readFileSync(local.store.objectPath(f.sha256))),
          f.path,
        );
      }
      assert.deepStrictEqual(await other.allSeries(pulled.version.id), await local.allSeries(clone.id));
      assert.strictEqual((await other.resolve('resnet-small@v1')).parentId, (await other.resolve('resnet@v1')).id);
      const twice = await pullVersion(team, other, 'resnet-small@v1');
      assert.deepStrictEqual([twice.copied.length, twice.objectsSent], [0, 0]);
      assert.deepStrictEqual((await other.verify()).problems, []);
    } finally {
      await other.close();
    }
    // Pulling into the registry it came from finds the original.
    assert.strictEqual((await pullVersion(team, local, 'resnet-small@v1')).version.id, clone.id);
  });

  it('numbers come from the team registry; a version sharing objects sends only the new ones', async () => {
    const t = await newTeam();
    team = await t.open();
    const elsewhere = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      // Someone else pushed resnet v1 first: this workspace's v1 and v2 become the team's v2 and v3.
      const theirs = await importTrainingOutput(elsewhere, output('theirs'), { model: 'resnet' });
      await pushVersion(elsewhere, team, theirs.ref);
    } finally {
      await elsewhere.close();
    }
    const v1 = await importTrainingOutput(local, output('run1'), { model: 'resnet' });
    const run2 = output('run2');
    writeFileSync(path.join(run2, 'model.safetensors'), readFileSync(path.join(work, 'run1', 'model.safetensors')));
    writeFileSync(path.join(run2, 'notes.txt'), 'second run, same weights\n');
    const v2 = await importTrainingOutput(local, run2, { model: 'resnet' });
    assert.strictEqual((await pushVersion(local, team, v1.ref)).version.number, 2);
    const second = await pushVersion(local, team, v2.ref);
    assert.deepStrictEqual([second.version.number, second.objectsSent, second.objectsSkipped], [3, 1, 2]);
    assert.deepStrictEqual(
      (await team.listVersions('resnet')).map((v) => v.number),
      [3, 2, 1],
    );
  });

  it('the bucket going away mid-push: a clear error, no version anywhere; the retry sends only what is missing', async () => {
    const t = await newTeam();
    team = await t.open();
    const v = await importTrainingOutput(local, output('big', { bigBytes: 48 << 20 }), { model: 'bert' });
    let killed = false;
    await assert.rejects(
      pushVersion(local, team, v.ref, {
        onProgress: (p) => {
          if (!killed && p.phase === 'sending' && p.bytes > 16 << 20) {
            killed = true;
            swift.kill();
          }
        },
      }),
      /copying bert@v1 to postgres:\/\/.* stopped at extra\.bin: .*Nothing was recorded; run it again/,
    );
    assert.ok(killed, 'the proxy was killed during the upload');
    assert.deepStrictEqual(await team.listModels(), []);
    assert.strictEqual((await sqlOf(team).get<{ n: number }>('SELECT COUNT(*) AS n FROM versions'))!.n, 0);
    await swift.restart();
    const retry = await pushVersion(local, team, v.ref);
    assert.strictEqual(retry.version.ref, 'bert@v1');
    assert.strictEqual(retry.objectsSent + retry.objectsSkipped, 3);
    assert.ok(retry.objectsSkipped >= 1, 'objects uploaded before the fault are not sent again');
    assert.deepStrictEqual(
      (await team.files(retry.version.id)).map((f) => f.sha256),
      (await local.files(v.id)).map((f) => f.sha256),
    );
  });

  it('the database going away mid-push: a clear error, no version; after it is back the retry completes', async () => {
    const t = await newTeam();
    team = await t.open();
    const v = await importTrainingOutput(local, output('big', { bigBytes: 32 << 20 }), { model: 'bert' });
    let killing: Promise<void> | undefined;
    await assert.rejects(
      pushVersion(local, team, v.ref, {
        onProgress: (p) => {
          if (!killing && p.phase === 'sending' && p.bytes > 8 << 20) killing = pg.kill();
        },
      }),
      /the team registry database postgres:\/\/postgres@127\.0\.0\.1:\d+\/team_\d+ is unreachable/,
    );
    await killing;
    await pg.restart();
    await team.close();
    team = await t.open();
    assert.strictEqual(
      (await sqlOf(team).get<{ n: number }>('SELECT COUNT(*) AS n FROM versions'))!.n,
      0,
      'no half version',
    );
    const retry = await pushVersion(local, team, v.ref);
    assert.deepStrictEqual(
      [retry.version.ref, retry.objectsSent],
      ['bert@v1', 0],
      'every object made it before the database went away',
    );
  });

  it('the bucket going away mid-pull leaves no version and no temp file locally; the retry completes', async () => {
    const t = await newTeam();
    team = await t.open();
    const v = await importTrainingOutput(local, output('big', { bigBytes: 48 << 20 }), { model: 'bert' });
    await pushVersion(local, team, v.ref);
    const other = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      let killed = false;
      await assert.rejects(
        pullVersion(team, other, 'bert@v1', {
          onProgress: (p) => {
            if (!killed && p.phase === 'receiving' && p.bytes > 8 << 20) {
              killed = true;
              swift.kill();
            }
          },
        }),
        /copying bert@v1 to .* stopped at extra\.bin/,
      );
      assert.deepStrictEqual(await other.listModels(), []);
      assert.deepStrictEqual(readdirSync(path.join(other.dir, 'tmp')), []);
      await swift.restart();
      const retry = await pullVersion(team, other, 'bert@v1');
      assert.strictEqual(retry.version.ref, 'bert@v1');
      assert.deepStrictEqual((await other.verify()).problems, []);
    } finally {
      await other.close();
    }
  });

  it('every change is announced to watchers of the team database (how the Team Registry view hears of colleagues’ pushes)', async () => {
    const t = await newTeam();
    team = await t.open();
    const watcher = await t.open();
    const heard: string[] = [];
    const stop = (await watcher.watch((stamp) => heard.push(stamp)))!;
    try {
      const v = await importTrainingOutput(local, output('run1'), { model: 'resnet' });
      await pushVersion(local, team, v.ref);
      await team.setAlias('resnet@v1', 'production');
      await eventually(
        () => {
          assert.deepStrictEqual(heard.slice(-1), [team.lastStamp], 'the last change heard is the alias');
          assert.ok(heard.length >= 2, `a push and an alias: ${heard.length} heard`);
        },
        { timeout: 2_000, interval: 20 },
      );
    } finally {
      await stop();
      await watcher.close();
    }
  });

  it('a watcher listens again once the database is back, and says so (what happened meanwhile is unknown)', async () => {
    const t = await newTeam();
    team = await t.open();
    const heard: string[] = [];
    const stop = (await team.watch((stamp) => heard.push(stamp), 200))!;
    const until = (what: string, ok: () => boolean) =>
      eventually(() => assert.ok(ok(), what), { timeout: 7_500, interval: 50 });
    try {
      // The test server runs with synchronous_commit=off: flush the new schema before the crash.
      await sqlOf(team).exec('CHECKPOINT');
      await pg.kill();
      await pg.restart();
      await until('the watcher came back and reported it', () => heard.includes(''));
      const v = await importTrainingOutput(local, output('run1'), { model: 'resnet' });
      await pushVersion(local, team, v.ref);
      await until('a push after the restart is heard', () => heard.includes(team.lastStamp!));
    } finally {
      await stop();
    }
  });

  it('gc on the team registry purges deleted versions; their objects go once older than the grace for pushes in flight', async () => {
    const t = await newTeam();
    team = await t.open();
    const v1 = await importTrainingOutput(local, output('run1'), { model: 'resnet' });
    const v2 = await importTrainingOutput(local, output('run2', { bigBytes: 1 << 20 }), { model: 'resnet' });
    await pushVersion(local, team, v1.ref);
    await pushVersion(local, team, v2.ref);
    const keys = async () => (await objectKeys(t.bucket)).length;
    assert.strictEqual(await keys(), 4, 'two weights, extra.bin, and one metrics.csv (the same in both)');
    await team.deleteVersion('resnet@v2');
    assert.deepStrictEqual(
      await team.gc(),
      { removedVersions: 1, removedObjects: 0, removedBytes: 0, removedEvaluations: 0 },
      'fresh objects are spared',
    );
    await new Promise((resolve) => setTimeout(resolve, 1100)); // Swift rounds Last-Modified up to the second
    const swept = await team.gc({ sharedGraceMs: 0 });
    assert.strictEqual(swept.removedObjects, 2, "v2's weights and extra.bin");
    assert.strictEqual(
      swept.removedBytes,
      (await local.files(v2.id)).filter((f) => f.path !== 'metrics.csv').reduce((s, f) => s + f.size, 0),
    );
    const other = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      await pullVersion(team, other, 'resnet@v1');
      assert.deepStrictEqual((await other.verify()).problems, [], 'what v1 uses is all still there');
    } finally {
      await other.close();
    }
  });

  it('a database that wants a password: asked for clearly, refused when wrong, opened with the right one', async () => {
    const locked = await startPostgres({ password: 's3cret' });
    try {
      const open = (password?: string) =>
        openTeamRegistry({ registry: locked.url, password, store: 's3://b', connection, workDir: tempDir() });
      await assert.rejects(
        open(),
        /postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres wants a password: give it in the extension \(Enter Team Registry Credentials…\), in PGPASSWORD or in ~\/\.pgpass/,
      );
      await assert.rejects(open('wrong'), /password authentication failed for user "postgres"/);
      const opened = await open('s3cret');
      assert.deepStrictEqual(await opened.listModels(), []);
      await opened.close();
    } finally {
      await locked.stop();
    }
  });

  it('refuses what is not a team registry, naming it', async () => {
    await assert.rejects(
      openTeamRegistry({ registry: 'mysql://x', store: 's3://b', connection, workDir: tempDir() }),
      /must be a postgres:\/\/ address/,
    );
    await assert.rejects(
      openTeamRegistry({
        registry: pg.url.replace(/\/postgres$/, '/no_such_db'),
        store: 's3://b',
        connection,
        workDir: tempDir(),
      }),
      /database "no_such_db" does not exist/,
    );
    git(work, 'status');
  });
});

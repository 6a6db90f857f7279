// The team registry inside the real extension host: a real PostgreSQL and Swift s3api on 127.0.0.1,
// set up through settings; Push to Team Registry from the Models tree, the Team Registry view listing
// it, and Pull into Workspace bringing a colleague's version into the workspace's registry.
import * as assert from 'assert';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  importTrainingOutput,
  openTeamRegistry,
  pushVersion,
  Registry,
  s3Client,
  TransferResult,
  VersionRecord,
} from '../../src/core';
import { startPostgres, startSwiftS3 } from '../services/services';
import { api, labels, nextEvent, sleep } from './helpers';
import { sqlOf } from '../unit/helpers/sql';

describe('Team registry (PostgreSQL + Swift s3api)', function () {
  this.timeout(180_000);
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let swift: Awaited<ReturnType<typeof startSwiftS3>>;
  const config = () => vscode.workspace.getConfiguration('modelRegistry');

  before(async () => {
    [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
    const admin = s3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'team' }));
    admin.destroy();
    // The bucket's keys through the AWS chain (a connection without stored keys uses it).
    process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
  });
  after(async () => {
    for (const key of ['team.registry', 'team.store', 'team.connection', 'objectStorage.connections'])
      await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await Promise.all([pg?.stop(), swift?.stop()]);
  });

  it('pushes a version from Models, shows it under Team Registry, and pulls a colleague’s version into the workspace', async () => {
    const a = await api();
    assert.deepStrictEqual(await labels(a.team), [], 'not set up: the welcome text shows');

    await config().update(
      'objectStorage.connections',
      [{ name: 'team-swift', endpoint: swift.endpoint, region: swift.region, forcePathStyle: true }],
      vscode.ConfigurationTarget.Workspace,
    );
    await config().update('team.connection', 'team-swift', vscode.ConfigurationTarget.Workspace);
    await config().update('team.store', 's3://team/registry', vscode.ConfigurationTarget.Workspace);
    // A password in the setting is refused (credentials never live in settings), and the view says why.
    await config().update(
      'team.registry',
      pg.url.replace('postgres@', 'postgres:secret@'),
      vscode.ConfigurationTarget.Workspace,
    );
    await a.team.service.reopen();
    assert.match(
      (await labels(a.team))[0],
      /^Team registry unavailable: modelRegistry\.team\.registry holds a password: remove it/,
    );
    await config().update('team.registry', pg.url, vscode.ConfigurationTarget.Workspace);

    const out = vscode.Uri.file(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'outputs', 'resnet-cifar'));
    // compare.test.ts imported resnet-cifar already: a copy, not the "same files as" question.
    // Which model is answered: other suites imported this folder into models of their own.
    const local = (await vscode.commands.executeCommand('modelRegistry.importOutput', out, undefined, {
      model: 'resnet-cifar',
      answer: 'Import a Copy',
    })) as VersionRecord;
    const pushed = await vscode.commands.executeCommand<TransferResult>('modelRegistry.pushVersion', local.ref);
    assert.ok(pushed, 'the push ran');
    assert.deepStrictEqual([pushed.version.model, pushed.version.git?.commit], [local.model, local.git?.commit]);
    assert.deepStrictEqual(await labels(a.team), [local.model]);
    const model = (await a.team.tree.getChildren())[0];
    const [version] = await a.team.tree.getChildren(model);
    assert.match(
      a.team.tree.getTreeItem(version).contextValue ?? '',
      /^version\.ready\b/,
      'Pull into Workspace is offered on it',
    );
    // Several selected versions go in one push.
    const mineRegistry = await a.service.get();
    for (let i = 0; i < 2; i++) await importTrainingOutput(mineRegistry, out.fsPath, { model: 'multi' });
    a.tree.refresh();
    const multi = (await a.tree.getChildren()).find((n) => a.tree.getTreeItem(n).label === 'multi')!;
    const both = await a.tree.getChildren(multi);
    const many = await vscode.commands.executeCommand<TransferResult[]>('modelRegistry.pushVersion', both[0], both);
    assert.deepStrictEqual(many?.map((r) => r.version.ref).sort(), ['multi@v1', 'multi@v2']);

    // The team view filters on its own (the Models view keeps its rows).
    await vscode.commands.executeCommand('modelRegistry.filterTeam', 'multi');
    assert.deepStrictEqual(await labels(a.team), ['multi']);
    assert.match(a.team.view.message ?? '', /Showing versions that match: multi/);
    assert.ok((await labels(a)).includes(local.model), 'the Models view is not filtered');
    await vscode.commands.executeCommand('modelRegistry.clearTeamFilter');
    assert.deepStrictEqual(await labels(a.team), ['multi', local.model]);

    // Promote it in the team registry from the Team Registry view: the alias is the team's, not the workspace's.
    await vscode.commands.executeCommand('modelRegistry.setAlias', version, 'production');
    assert.deepStrictEqual(
      (await (await a.team.service.get()).resolve(`${local.model}@production`)).id,
      pushed.version.id,
    );
    assert.deepStrictEqual(
      (await (await a.service.get()).aliases(local.model)).map((x) => x.alias),
      [],
      'the workspace registry has no such alias',
    );
    const files = (await a.team.tree.getChildren(version)).find((n) => a.team.tree.getTreeItem(n).label === 'Files')!;
    assert.deepStrictEqual(
      (await labels(a.team, files)).sort(),
      (await (await a.service.get()).files(local.id)).map((f) => f.path).sort(),
    );

    // A colleague pushes from their own registry; Pull brings it here with its metrics.
    await sleep(500); // this window's own refresh (after its push) has landed
    const heard = nextEvent(
      a.team.tree.onDidChangeTreeData,
      10_000,
      'the Team Registry view did not refresh within 10 s of a colleague’s push',
    );
    const colleague = await Registry.open(path.join(os.tmpdir(), `colleague-${Date.now()}`, '.modelreg'));
    const team = await openTeamRegistry({
      registry: pg.url,
      store: 's3://team/registry',
      connection: { endpoint: swift.endpoint, region: swift.region, forcePathStyle: true },
      workDir: colleague.dir,
    });
    try {
      const theirs = await importTrainingOutput(colleague, out.fsPath, { model: 'colleague-resnet' });
      await pushVersion(colleague, team, theirs.ref);
    } finally {
      await Promise.all([colleague.close(), team.close()]);
    }
    // No refresh: the colleague's push is announced by the team database and the view follows.
    await heard;
    assert.deepStrictEqual(await labels(a.team), ['colleague-resnet', 'multi', local.model]);
    const [theirModel] = await a.team.tree.getChildren();
    const [theirVersion] = await a.team.tree.getChildren(theirModel);
    const pulled = await vscode.commands.executeCommand<TransferResult>('modelRegistry.pullVersion', theirVersion);
    assert.strictEqual(pulled?.version.ref, 'colleague-resnet@v1');
    const mine = await a.service.get();
    assert.deepStrictEqual(
      await mine.finalMetrics(pulled.version.id),
      await mine.finalMetrics(local.id),
      'same output, same metrics',
    );
    a.tree.refresh();
    assert.ok((await labels(a)).includes('colleague-resnet'), 'the pulled model is in the Models tree');

    // A big team registry pages like the Models view: "Show more…" grows the team view, not the other one.
    const teamDb = sqlOf(await a.team.service.get());
    const now = new Date().toISOString();
    await teamDb.run(
      "INSERT INTO models (name, created_at, updated_at) SELECT 'bulk-' || lpad(g::text, 3, '0'), ?, ? FROM generate_series(1, 205) g",
      [now, now],
    );
    await teamDb.run(
      "INSERT INTO versions (model_id, number, status, source_kind, source_uri, created_at) SELECT id, 1, 'ready', 'training-output', '/bulk', ? FROM models WHERE name LIKE 'bulk-%'",
      [now],
    );
    a.team.tree.refresh();
    const page = await a.team.tree.getChildren();
    assert.deepStrictEqual([page.length, page[page.length - 1].kind], [201, 'more']);
    await vscode.commands.executeCommand('modelRegistry.showMore', page[page.length - 1]);
    assert.strictEqual((await a.team.tree.getChildren()).length, 208, 'all 208 models after one more page');
  });
});

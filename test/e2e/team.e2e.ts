// End to end: a team registry on a real PostgreSQL and Swift s3api, set up in settings. A colleague
// has pushed bert (aliased production there). The Team Registry view lists it under Models and
// Datasets; right-click the workspace's resnet v1 → "Push to Team Registry" and it appears in the
// team view; right-click the team's bert v1 → "Pull into Workspace" and it appears under Models.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { s3Client } from '../../src/core';
import { startPostgres, startSwiftS3 } from '../services/services';
import { contextMenu, E2eContext, expand, expandPane, STEP_TIMEOUT, stepper, treeItem } from './workbench';

export async function run(ctx: E2eContext): Promise<void> {
  const [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
  try {
    const admin = s3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'team' }));
    admin.destroy();
    const keys = { AWS_ACCESS_KEY_ID: swift.accessKeyId, AWS_SECRET_ACCESS_KEY: swift.secretAccessKey };
    const teamEnv = {
      ...process.env,
      ...keys,
      MODELREG_TEAM: pg.url,
      MODELREG_TEAM_STORE: 's3://team/registry',
      MODELREG_TEAM_STORE_ENDPOINT: swift.endpoint,
    };

    const workspace = await ctx.prepareWorkspace();
    const cli = (registry: string, ...args: string[]) =>
      execFileSync(process.execPath, [path.join(ctx.repoRoot, 'dist', 'cli.js'), '--registry', registry, ...args], {
        cwd: workspace,
        env: teamEnv,
      });
    cli(path.join(workspace, '.modelreg'), 'import', 'outputs/resnet-cifar', '--model', 'resnet');
    // The colleague's registry lives elsewhere; only the team registry joins them.
    const colleague = path.join(os.tmpdir(), `colleague-${process.pid}`, '.modelreg');
    cli(colleague, 'import', 'outputs/run1', '--model', 'bert');
    cli(colleague, 'push', 'bert@v1');
    cli(pg.url, 'alias', 'set', 'bert@v1', 'production');

    const server = await ctx.startCodeServer({
      workspace,
      env: keys,
      settings: {
        'modelRegistry.objectStorage.connections': [
          { name: 'team-swift', endpoint: swift.endpoint, region: swift.region, forcePathStyle: true },
        ],
        'modelRegistry.team.connection': 'team-swift',
        'modelRegistry.team.store': 's3://team/registry',
        'modelRegistry.team.registry': pg.url,
      },
    });
    const page = await ctx.openWorkbench(server, workspace);
    page.setDefaultTimeout(STEP_TIMEOUT);
    const step = stepper(ctx, page, 'team');
    const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
    const pane = (title: string) =>
      registry.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: title }) });
    const models = pane('Models');
    const team = pane('Team Registry');

    await step(1, 'the Team Registry view lists the colleague’s bert, v1 marked @production', 'view', async () => {
      await page.getByRole('tab', { name: /Model Registry/ }).click();
      await expandPane(registry, 'Team Registry'); // contributed collapsed, like every pane that starts empty
      await expand(treeItem(team, page, 'bert'));
      await treeItem(team, page, 'v1')
        .locator('.label-description', { hasText: /@production/ })
        .waitFor();
    });

    await step(
      2,
      'right-click resnet v1 under Models → Push to Team Registry: the notification, and resnet in the team view',
      'pushed',
      async () => {
        await expand(treeItem(models, page, 'resnet'));
        await contextMenu(page, treeItem(models, page, 'v1'), 'Push to Team Registry');
        await page
          .locator('.notification-toast')
          .filter({ hasText: /Pushed resnet@v1 → resnet@v1/ })
          .waitFor();
        await treeItem(team, page, 'resnet').waitFor();
      },
    );

    await step(
      3,
      'right-click bert v1 in the team view → Pull into Workspace: bert shows under Models',
      'pulled',
      async () => {
        await contextMenu(page, treeItem(team, page, 'v1').first(), 'Pull into Workspace');
        await page
          .locator('.notification-toast')
          .filter({ hasText: /Pulled bert@v1 → bert@v1/ })
          .waitFor();
        await treeItem(models, page, 'bert').waitFor();
      },
    );
    await server.stop();
  } finally {
    await Promise.all([pg.stop(), swift.stop()]);
  }
}

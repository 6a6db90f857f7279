// End to end: a cloned repository opened in Restricted Mode (Workspace Trust on, folder not
// trusted). Its modelreg.json names a training command; Train New Version… refuses to run it, says
// why, and offers Manage Workspace Trust; nothing is queued and the command never runs.
import { existsSync, writeFileSync } from 'fs';
import * as path from 'path';
import { E2eContext, expand, expandPane, STEP_TIMEOUT, stepper, treeItem, workspaceCli } from './workbench';

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  cli('import', 'outputs/resnet-cifar', '--model', 'resnet');
  // A recipe whose command would leave a mark if it ever ran.
  const mark = path.join(workspace, 'the-recipe-ran');
  writeFileSync(
    path.join(workspace, 'modelreg.json'),
    JSON.stringify({
      train: { resnet: { command: ['touch', mark], params: {}, output: 'outputs/${run}' } },
    }),
  );

  const server = await ctx.startCodeServer({ workspace, restricted: true });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'trust');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');

  await step(1, 'the folder opens in Restricted Mode; the registry still shows its models', 'restricted', async () => {
    await page.locator('.statusbar').getByText('Restricted Mode').waitFor();
    await page.getByRole('tab', { name: /Model Registry/ }).click();
    await expand(treeItem(registry, page, 'resnet'));
    await treeItem(registry, page, 'v1').waitFor();
  });

  await step(
    2,
    'Train New Version… from the Runs view is refused: it names why, with Manage Workspace Trust',
    'refused',
    async () => {
      await expandPane(registry, 'Runs');
      await registry.locator('.welcome-view-content').getByRole('button', { name: 'Train New Version…' }).click();
      const toast = page.locator('.notification-toast').filter({
        hasText: /Train New Version runs the workspace's training command; that is only allowed in a trusted workspace/,
      });
      await toast.getByRole('button', { name: 'Manage Workspace Trust' }).waitFor();
      await page.waitForTimeout(500); // the toast's fade-in, for the screenshot
    },
  );

  await step(3, 'nothing was queued and the command never ran', 'nothing-ran', async () => {
    await page.waitForTimeout(1000);
    const runs = JSON.parse(cli('runs', '--json').toString()) as unknown[];
    if (runs.length) throw new Error(`${runs.length} runs were queued: ${JSON.stringify(runs)}`);
    if (existsSync(mark)) throw new Error('the recipe’s command ran in an untrusted workspace');
    await registry.getByText('No training runs yet.', { exact: false }).waitFor();
  });
}

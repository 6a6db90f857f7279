// End to end: two versions registered from the CLI; in the Model Registry view, right-click v2 →
// "Set Alias…", pick "production" and see the @production badge; filter the view by the alias and
// see the filter in the view's title; open the lineage graph of a clone.
import { contextMenu, E2eContext, expand, STEP_TIMEOUT, stepper, treeItem, workspaceCli } from './workbench';

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  cli('import', 'outputs/resnet-cifar', '--model', 'resnet');
  cli('import', 'outputs/resnet-cifar', '--model', 'resnet', '--allow-duplicate');
  cli('clone', 'resnet@v1', 'resnet-edge');

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'lifecycle');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
  // A container with one view shows the view's title, description and actions in the side bar's title.
  const sidebar = page.locator('.part.sidebar');

  await step(1, 'the Model Registry view lists resnet → v2, v1; the status bar counts the models', 'tree', async () => {
    await page.getByRole('tab', { name: /Model Registry/ }).click();
    await expand(treeItem(registry, page, 'resnet'));
    await treeItem(registry, page, 'v2').waitFor();
    await page.locator('.statusbar-item').filter({ hasText: '2 models' }).first().waitFor();
  });

  await step(2, 'right-click v2 → Set Alias… → production: the badge shows', 'alias', async () => {
    await contextMenu(page, treeItem(registry, page, 'v2'), 'Set Alias…');
    await page.locator('.quick-input-widget').getByText('production', { exact: true }).waitFor();
    await page.keyboard.insertText('production');
    await page.keyboard.press('Enter');
    await treeItem(registry, page, 'v2')
      .locator('.label-description', { hasText: /@production/ })
      .waitFor();
  });

  await step(3, 'filter the view by @production: only resnet v2, and the title says so', 'filter', async () => {
    await registry.hover();
    await sidebar.getByRole('button', { name: 'Filter Models…' }).click();
    await page.locator('.quick-input-widget input.input').first().waitFor();
    await page.keyboard.insertText('@production');
    await page.keyboard.press('Enter');
    await sidebar.getByText('Showing versions that match: @production').waitFor();
    await treeItem(registry, page, 'v1').waitFor({ state: 'detached' });
    await treeItem(registry, page, 'resnet-edge').waitFor({ state: 'detached' });
    await treeItem(registry, page, 'v2').waitFor();
  });

  await step(
    4,
    'clear the filter; the lineage graph of resnet-edge@v1 shows it was cloned from resnet@v1',
    'lineage',
    async () => {
      await sidebar.getByRole('button', { name: 'Clear Filter' }).click();
      // Collapse resnet so that the only v1 row is resnet-edge's (list rows are not in visual order in the DOM).
      await treeItem(registry, page, 'resnet').locator('.monaco-tl-twistie').click();
      await treeItem(registry, page, 'v2').waitFor({ state: 'detached' });
      await expand(treeItem(registry, page, 'resnet-edge'));
      await contextMenu(page, treeItem(registry, page, 'v1'), 'Show Lineage Graph');
      await page.getByRole('tab', { name: /Lineage: resnet-edge@v1/ }).waitFor();
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
      await frame.locator('g.node[data-ref="resnet@v1"]').waitFor();
      await frame.locator('g.node.focus[data-ref="resnet-edge@v1"]').waitFor();
    },
  );
  await server.stop();
}

// End to end, what a newcomer sees before and after the first import: the Models welcome text
// (plain, no Markdown asterisks) with the Datasets and Team Registry panes collapsed below it; the
// Explorer's context menu with our items in a section of their own; the Settings UI's User tab
// listing the convert and evaluate profiles; and the Command Palette offering Set Alias…, which
// asks which version, while Clear Filter stays out of it until a filter is set.
import type { Page } from 'playwright-core';
import {
  E2eContext,
  openContextMenu,
  expand,
  expandPane,
  STEP_TIMEOUT,
  stepper,
  treeItem,
  waitForAttribute,
  workspaceCli,
} from './workbench';

/** Opens the Command Palette (if it is not open) with `>text` typed. */
async function typeInPalette(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  if (!(await input.isVisible())) {
    await page.keyboard.press('F1');
    await input.waitFor();
  }
  await input.fill(`>${text}`);
}

/** The palette's row for the command labelled `label` (category and title). */
function paletteRow(page: Page, label: string) {
  return page.locator('.quick-input-list').getByRole('option', { name: label, exact: true });
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'discover');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const header = (name: string) => registry.locator('.pane-header').filter({ hasText: name });

  await step(1, 'the Models welcome reads plainly; Datasets and Team Registry are collapsed', 'welcome', async () => {
    await page.getByRole('tab', { name: /Model Registry/ }).click();
    const welcome = registry.locator('.welcome-view-content').first();
    await welcome.getByText(/choose "Import as Model"/).waitFor();
    const text = (await welcome.textContent()) ?? '';
    if (text.includes('*')) throw new Error(`the welcome text shows asterisks: ${text}`);
    for (const name of ['Datasets', 'Team Registry']) await waitForAttribute(header(name), 'aria-expanded', 'false');
    await waitForAttribute(header('Models'), 'aria-expanded', 'true');
    // The open pane takes the side bar; the collapsed ones are just their headers.
    const models = await registry.locator('.pane').first().boundingBox();
    const all = await registry.boundingBox();
    if (!models || !all || models.height < 0.7 * all.height)
      throw new Error(`the Models pane is ${models?.height} px of the side bar's ${all?.height} px`);
  });

  await step(2, 'expanding Datasets shows its welcome', 'datasets', async () => {
    await expandPane(registry, 'Datasets');
    await registry.getByText(/No datasets registered yet/).waitFor();
  });

  await step(3, "the Explorer's context menu has our items in their own section", 'explorer-menu', async () => {
    await page
      .getByRole('tab', { name: /Explorer/ })
      .first()
      .click();
    const explorer = page.locator('.explorer-folders-view');
    const outputs = treeItem(explorer, page, 'outputs');
    await openContextMenu(page, outputs, 'Import as Model');
    // The menu as a list of labels, '---' for separators.
    const items = await page
      .locator('.monaco-menu .actions-container')
      .first()
      .evaluate((ul) =>
        [...ul.children].map((li) =>
          li.querySelector('.separator') || li.classList.contains('separator')
            ? '---'
            : (li.querySelector('.action-label')?.textContent ?? '').trim(),
        ),
      );
    ctx.log(`explorer menu: ${items.join(' | ')}`);
    const ours = ['Import as Model', 'Import from Template…', 'Register Dataset…'];
    const at = items.indexOf(ours[0]);
    const section = items.slice(at, at + ours.length);
    if (at < 0 || section.join('|') !== ours.join('|') || items[at - 1] !== '---' || items[at + ours.length] !== '---')
      throw new Error(`our items are not a section of their own: ${items.join(' | ')}`);
  });

  await step(4, "the Settings UI's User tab lists the convert and evaluate profiles", 'settings', async () => {
    await page.keyboard.press('Escape');
    await typeInPalette(page, 'Preferences: Open User Settings');
    await paletteRow(page, 'Preferences: Open User Settings').waitFor();
    await page.keyboard.press('Enter');
    const editor = page.locator('.settings-editor');
    await editor.waitFor();
    await page.keyboard.insertText('@ext:modelreg.model-registry profiles');
    for (const category of ['Convert', 'Evaluate'])
      await editor
        .locator('.setting-item-contents')
        .filter({ hasText: new RegExp(`${category}:\\s*Profiles`) })
        .first()
        .waitFor();
  });

  await step(
    5,
    'the palette offers Set Alias…; Clear Filter and Hide Archived only when they apply',
    'palette',
    async () => {
      await page.keyboard.press('Escape');
      for (const title of ['Set Alias…', 'Show Lineage Graph', 'Show Archived Versions']) {
        await typeInPalette(page, `Model Registry: ${title}`);
        await paletteRow(page, `Model Registry: ${title}`).waitFor();
      }
      for (const title of ['Clear Filter', 'Hide Archived Versions']) {
        // The list shows Show Archived Versions until it has filtered for the new text.
        await typeInPalette(page, `Model Registry: ${title}`);
        await paletteRow(page, 'Model Registry: Show Archived Versions').waitFor({ state: 'detached' });
        if (await paletteRow(page, `Model Registry: ${title}`).count())
          throw new Error(`the palette offers ${title} with nothing to undo`);
      }
    },
  );

  await step(6, 'Set Alias… from the palette asks which version, most recent first', 'which-version', async () => {
    await page.keyboard.press('Escape');
    const cli = workspaceCli(ctx, workspace);
    cli('import', 'outputs/resnet-cifar', '--model', 'resnet');
    // The same files again: a second version only with --allow-duplicate.
    cli('import', 'outputs/resnet-cifar', '--model', 'resnet', '--allow-duplicate');
    await page.getByRole('tab', { name: /Model Registry/ }).click();
    await treeItem(registry, page, 'resnet').waitFor();
    await typeInPalette(page, 'Model Registry: Set Alias…');
    await paletteRow(page, 'Model Registry: Set Alias…').waitFor();
    await page.keyboard.press('Enter');
    const quick = page.locator('.quick-input-widget');
    await quick.getByText('Set Alias: which version?').waitFor();
    const first = quick.locator('.monaco-list-row').first();
    await first.getByText('resnet@v2', { exact: true }).waitFor();
  });

  await step(7, 'picking it and an alias puts the badge on that version', 'alias', async () => {
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').getByText('Set an alias on resnet@v2').waitFor();
    await page.keyboard.insertText('production');
    await page.keyboard.press('Enter');
    await expand(treeItem(registry, page, 'resnet'));
    await treeItem(registry, page, 'v2').filter({ hasText: '@production' }).waitFor();
  });
}

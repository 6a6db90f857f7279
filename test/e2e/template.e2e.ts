// End to end, as a user does it: right-click models/squeezenet → "Import from Template…", pick
// "Image classification", get a config.json whose diagnostics come from the language server, break
// it (squiggles, Problems, the CodeLens counts the errors), mend it, and import it from the CodeLens.
import type { Page } from 'playwright-core';
import { contextMenu, E2eContext, expand, STEP_TIMEOUT, stepper, treeItem } from './workbench';

const IMPORT_TIMEOUT = 120_000;

/** Replaces the text of line `line` (1-based, leading spaces kept) through the keyboard. */
async function replaceLine(page: Page, line: number, text: string): Promise<void> {
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input.input').waitFor();
  await page.keyboard.insertText(String(line));
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  // Delete first: a quote inserted over a selection would surround it instead (editor.autoSurround).
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(text);
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'template');
  const explorer = page.locator('.explorer-folders-view');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  const lens = (text: RegExp) => editor.locator('.codelens-decoration a').filter({ hasText: text });

  await step(1, 'right-click models/squeezenet → Import from Template…', 'templates', async () => {
    await page.getByRole('tab', { name: /Model Registry/ }).waitFor();
    await expand(treeItem(explorer, page, 'models'));
    await contextMenu(page, treeItem(explorer, page, 'squeezenet'), 'Import from Template…');
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Object detection' }).first().waitFor();
  });

  await step(2, 'pick "Image classification": config.json opens with an Import lens', 'generated', async () => {
    await page.keyboard.insertText('Image classification');
    await page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ hasText: 'image-classification' })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: /config\.json/ }).waitFor();
    await editor.getByText('"image-classification"').first().waitFor();
    await lens(/Import as Model/).waitFor();
  });

  await step(
    3,
    'a wrong model_type and a misspelt key: squiggles, Problems, and the lens counts them',
    'diagnostics',
    async () => {
      await editor.click();
      await replaceLine(page, 3, '"model_type": "PyTorch", "modle_name": "squeezenet",');
      await editor.locator('.squiggly-error').first().waitFor();
      await lens(/2 errors to fix before import/).waitFor();
      await page.keyboard.press('Control+Shift+M');
      const problems = page.locator('.markers-panel');
      await problems
        .getByText(/model_type is "PyTorch", but the model file squeezenet.onnx is an ONNX model/)
        .first()
        .waitFor();
      await problems
        .getByText(/Property modle_name is not allowed/)
        .first()
        .waitFor();
      // Hover the squiggle: the message shows in the editor as well.
      await editor
        .locator('.view-lines span', { hasText: /^"PyTorch"$/ })
        .first()
        .hover();
      await page
        .locator('.monaco-hover')
        .filter({ hasText: /model_type|modle_name/ })
        .first()
        .waitFor()
        .catch(() => ctx.log('no hover shown; the Problems panel has the messages'));
    },
  );

  await step(4, 'mend it and import from the lens', 'imported', async () => {
    await editor.click();
    await replaceLine(page, 3, '"model_type": "ONNX",');
    await lens(/Import as Model/).waitFor();
    await lens(/Import as Model/).click();
    const done = page
      .locator('.notifications-toasts, .notifications-center')
      .getByText(/Imported squeezenet@v1/)
      .first();
    await done.waitFor({ timeout: IMPORT_TIMEOUT });
    await page
      .locator('.notification-toast.notification-fade-in-done')
      .first()
      .waitFor({ timeout: 5_000 })
      .catch(() => {});
  });

  await step(5, 'the registry shows squeezenet → v1 → config.json', 'registry', async () => {
    const tab = page.getByRole('tab', { name: /Model Registry/ });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
    await expand(treeItem(registry, page, 'squeezenet'));
    await expand(treeItem(registry, page, 'v1'));
    await treeItem(registry, page, 'config.json').waitFor();
  });
  await server.stop();
}

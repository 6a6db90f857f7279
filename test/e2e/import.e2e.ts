// End to end, as a user does it: in the Explorer, right-click outputs/run1 → "Import as Model",
// see the "Imported" notification, open the Model Registry view and find run1 → v1 → Files,
// Metrics, Source. Run by scripts/test-vscode.mjs (code-server + headless Chromium).
import { cpSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import {
  contextMenu,
  E2eContext,
  eventually,
  expand,
  STEP_TIMEOUT,
  stepper,
  treeItem,
  waitForAttribute,
} from './workbench';

const IMPORT_TIMEOUT = 120_000;

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  // A second run of run1: the same model trained with another learning rate.
  const run2 = path.join(workspace, 'outputs', 'run2');
  cpSync(path.join(workspace, 'outputs', 'run1'), run2, { recursive: true });
  const args = path.join(run2, 'training_args.json');
  writeFileSync(args, readFileSync(args, 'utf8').replace(/"learning_rate": [^,]+/, '"learning_rate": 0.0001'));
  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  // A failed activation shows no notification when the command comes from a menu; the workbench
  // only logs it. Watch the console so the import step can fail at once with the reason.
  let activationFailed: (message: string) => void = () => {};
  const activationFailure = new Promise<string>((resolve) => (activationFailed = resolve));
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes("Activating extension 'modelreg.model-registry' failed")) {
      activationFailed(m.text().replace(/^%c\s*\S+\s+color: #\w+\s*/, ''));
    }
  });
  const step = stepper(ctx, page, 'import');
  const explorer = page.locator('.explorer-folders-view');
  // The view container's id is derived from package.json's viewsContainers id.
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');

  await step(1, 'Explorer shows outputs/run1', 'explorer', async () => {
    // Compact folders are off in the test settings, so run1 is a row of its own.
    await expand(treeItem(explorer, page, 'outputs'));
    await treeItem(explorer, page, 'run1').waitFor();
  });

  await step(2, 'right-click run1 shows "Import as Model"', 'context-menu', async () => {
    // A context menu is built when it opens: wait until the workbench knows the extension's
    // contributions (its activity bar tab is there), and reopen the menu if the item is missing.
    await page.getByRole('tab', { name: /Model Registry/ }).waitFor();
    const item = page.getByRole('menuitem', { name: 'Import as Model' });
    for (let attempt = 1; ; attempt++) {
      await treeItem(explorer, page, 'run1').click({ button: 'right' });
      try {
        await item.waitFor({ timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt === 4) throw e;
        ctx.log(`"Import as Model" not in the context menu yet (attempt ${attempt}), reopening it`);
        await page.keyboard.press('Escape');
      }
    }
  });

  await step(3, 'run1 has a checkpoint folder: the import asks, final weights only first', 'checkpoints', async () => {
    await page.getByRole('menuitem', { name: 'Import as Model' }).click();
    const pick = page.locator('.quick-input-widget');
    await pick.getByText('outputs/run1 has 1 checkpoint folder: what should the version hold?').waitFor();
    const rows = pick.locator('.monaco-list-row');
    await rows.first().getByText('Final weights only', { exact: true }).waitFor();
    await rows.first().getByText('Leaves out checkpoint-50', { exact: false }).waitFor();
    await rows.nth(1).getByText('Include checkpoints', { exact: true }).waitFor();
    await rows.nth(2).getByText('Pick one checkpoint…', { exact: true }).waitFor();
  });

  await step(4, 'Enter takes the final weights; the import reports "Imported"', 'imported', async () => {
    await page.keyboard.press('Enter');
    const done = page
      .locator('.notifications-toasts, .notifications-center')
      .getByText(/Imported/)
      .first();
    // Fail fast on an error notification instead of waiting out the timeout.
    const failed = page
      .locator('.notifications-toasts .notification-list-item')
      .filter({ has: page.locator('.codicon-error') })
      .first();
    const shown = done
      .or(failed)
      .waitFor({ timeout: IMPORT_TIMEOUT })
      .then(() => undefined);
    shown.catch(() => {}); // may lose the race below
    const activationError = await Promise.race([shown, activationFailure]);
    if (activationError) throw new Error(activationError);
    if (!(await done.isVisible())) throw new Error(`error notification: ${(await failed.textContent())?.trim()}`);
    ctx.log(`notification: ${(await done.textContent())?.trim()}`);
    // Let the toast finish sliding in before the screenshot.
    await page
      .locator('.notification-toast.notification-fade-in-done')
      .first()
      .waitFor({ timeout: 5_000 })
      .catch(() => {});
  });

  await step(
    5,
    '"Reveal" on the notification opens the view with run1 expanded and v1 selected',
    'revealed',
    async () => {
      await page
        .locator('.notifications-toasts .notification-list-item')
        .filter({ hasText: /Imported run1@v1/ })
        .getByRole('button', { name: 'Reveal' })
        .click();
      const tab = page.getByRole('tab', { name: /Model Registry/ });
      await waitForAttribute(tab, 'aria-selected', 'true');
      await waitForAttribute(treeItem(registry, page, 'run1'), 'aria-expanded', 'true');
      const v1 = treeItem(registry, page, 'v1');
      await waitForAttribute(v1, 'aria-selected', 'true');
      // Selected and focused: the keyboard acts on it (Enter, the context menu key).
      await eventually(
        async () => {
          if (!(await v1.evaluate((el) => el.classList.contains('focused'))))
            throw new Error('v1 is selected but does not have the keyboard focus');
        },
        { timeout: STEP_TIMEOUT },
      );
    },
  );

  await step(6, 'the Model Registry view shows run1 → v1', 'registry', async () => {
    // Clicking the tab of a container that is already showing would hide it.
    const tab = page.getByRole('tab', { name: /Model Registry/ });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    await waitForAttribute(tab, 'aria-selected', 'true');
    await expand(treeItem(registry, page, 'run1'));
    await treeItem(registry, page, 'v1').waitFor();
  });

  await step(7, 'v1 expands to Files, Metrics, Parameters, Source', 'version', async () => {
    const version = treeItem(registry, page, 'v1');
    await expand(version);
    const level = Number(await version.getAttribute('aria-level'));
    for (const section of ['Files', 'Metrics', 'Parameters', 'Source']) {
      const row = treeItem(registry, page, section);
      await row.waitFor();
      const l = Number(await row.getAttribute('aria-level'));
      if (l !== level + 1) throw new Error(`"${section}" is at tree level ${l}, expected ${level + 1} (under v1)`);
    }
  });

  await step(8, 'Metrics shows the final values, the best one marked', 'metrics', async () => {
    await expand(treeItem(registry, page, 'Metrics'));
    const accuracy = treeItem(registry, page, 'eval_accuracy');
    await accuracy.waitFor();
    const text = (await accuracy.textContent()) ?? '';
    if (!/\(best\)/.test(text)) throw new Error(`eval_accuracy row says "${text}", expected a value marked (best)`);
    await treeItem(registry, page, 'loss').waitFor();
  });

  await step(9, 'Files lists checkpoint-50 as a checkpoint left out', 'files', async () => {
    await expand(treeItem(registry, page, 'Files'));
    const row = treeItem(registry, page, 'checkpoint-50');
    await row.waitFor();
    await row.locator('.codicon-history').waitFor();
    const text = (await row.textContent()) ?? '';
    if (!/step 50 · .*not imported/.test(text)) throw new Error(`checkpoint-50 row says "${text}"`);
    await treeItem(registry, page, 'model.safetensors').waitFor();
  });

  await step(10, 'Import as Model on outputs/run2 asks, run1 first with the reasons', 'second-run', async () => {
    await page
      .getByRole('tab', { name: /Explorer/ })
      .first()
      .click();
    await contextMenu(page, treeItem(explorer, page, 'run2'), 'Import as Model');
    const input = page.locator('.quick-input-widget');
    await input.getByText('Import outputs/run2 as a new version of…').waitFor();
    const first = input.getByRole('option').first();
    const text = (await first.textContent()) ?? '';
    ctx.log(`first item: ${text}`);
    if (!/^run1/.test(text) || !/same architectures \(BertForSequenceClassification\)/.test(text))
      throw new Error(`the first item is not run1 with its reasons: "${text}"`);
  });

  await step(
    11,
    'Enter imports it as run1@v2; Reveal selects v2 under the expanded run1',
    'second-revealed',
    async () => {
      await page.keyboard.press('Enter');
      // run2 is a copy of run1, checkpoint-50 too: Enter again takes the final weights.
      await page
        .locator('.quick-input-widget')
        .getByText('outputs/run2 has 1 checkpoint folder', { exact: false })
        .waitFor();
      await page.keyboard.press('Enter');
      const toast = page
        .locator('.notifications-toasts .notification-list-item')
        .filter({ hasText: /Imported run1@v2/ });
      await toast.waitFor({ timeout: IMPORT_TIMEOUT });
      await toast.getByRole('button', { name: 'Reveal' }).click();
      const tab = page.getByRole('tab', { name: /Model Registry/ });
      await waitForAttribute(tab, 'aria-selected', 'true');
      await waitForAttribute(treeItem(registry, page, 'run1'), 'aria-expanded', 'true');
      await waitForAttribute(treeItem(registry, page, 'v2'), 'aria-selected', 'true');
      if (await treeItem(registry, page, 'run2').count()) throw new Error('a model run2 was made');
    },
  );
}

// End to end, the Get Started walkthrough as a newcomer walks it: open it from the Command Palette
// (Welcome: Open Walkthrough…), and for each step click its button on the walkthrough page, finish
// the flow it starts (the file dialog, quick picks, the converter's form), see its result (tree rows,
// the Compare and evaluation panels) and see the step tick off on the page.
// Besides the numbered screenshots it saves `walkthrough-media-<step>.png`, the crops that
// media/walkthrough/ holds (copied by hand after looking at them).
import { mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Locator } from 'playwright-core';
import { commitHigherRate, makeWalkthroughWorkspace } from '../fixtures/walkthroughWorkspace';
import {
  E2eContext,
  eventually,
  expand,
  expandPane,
  STEP_TIMEOUT,
  stepper,
  treeItem,
  waitForAttribute,
} from './workbench';

const WALKTHROUGH = 'modelreg.model-registry#modelRegistry.firstHour';
const LONG = 120_000;

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'modelreg-walkthrough-'));
  try {
    makeWalkthroughWorkspace(workspace);
    await walk(ctx, workspace);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function walk(ctx: E2eContext, workspace: string): Promise<void> {
  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'walkthrough');
  const quick = page.locator('.quick-input-widget');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const walkthrough = page.locator('.gettingStartedContainer');
  const stepRow = (id: string) =>
    walkthrough.locator(`button.getting-started-step[data-step-id="${WALKTHROUGH}#${id}"]`);
  /** A crop for media/walkthrough/: the top `height` px of `what`, with the notifications cleared. */
  const media = async (name: string, what: Locator, height: number) => {
    for (const close of await page.locator('.notifications-toasts .codicon-notifications-clear').all())
      await close.click().catch(() => {}); // a toast may have gone by itself
    await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' });
    await page.mouse.move(1, 1); // no hover cards
    const box = (await what.boundingBox())!;
    const clip = { x: box.x, y: box.y, width: box.width, height: Math.min(height, box.height) };
    await page.screenshot({ path: path.join(ctx.screenshotDir, `walkthrough-media-${name}.png`), clip });
  };
  const group = (tab: RegExp) =>
    page.locator('.editor-group-container').filter({ has: page.getByRole('tab', { name: tab }) });

  /** Shows the walkthrough page again (a panel may have covered it), opens step `id` and clicks its button. */
  const clickButton = async (id: string, button: string) => {
    const tab = page.locator('.part.editor').getByRole('tab', { name: /Walkthrough/ });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    const row = stepRow(id);
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await waitForAttribute(row, 'aria-expanded', 'true');
    await row.getByRole('button', { name: button }).click();
  };
  const ticked = async (id: string) => {
    const tab = page.locator('.part.editor').getByRole('tab', { name: /Walkthrough/ });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    await waitForAttribute(stepRow(id), 'aria-checked', 'true');
  };
  /** Answers the simple file dialog (a quick input in a browser-hosted VS Code) with `relative`, by its OK button. */
  const pickPath = async (title: string, ok: string, relative: string) => {
    await quick.getByText(title).waitFor();
    const input = quick.locator('input.input');
    const full = path.join(workspace, relative);
    // The dialog puts the default folder in the box when it is ready; typing before that gets prefixed.
    await eventually(
      async () => {
        if (!(await input.inputValue()).startsWith(workspace))
          throw new Error('the dialog has not filled in its folder');
      },
      { timeout: STEP_TIMEOUT },
    );
    await eventually(
      async () => {
        if ((await input.inputValue()).replace(/\/$/, '') !== full) {
          await input.fill(full);
          throw new Error(`the dialog shows ${await input.inputValue()}`);
        }
      },
      { timeout: STEP_TIMEOUT },
    );
    // A click while the dialog is still reading the folder is dropped: click until the dialog closes.
    const title_ = quick.getByText(title);
    for (let attempt = 1; ; attempt++) {
      await quick.getByRole('button', { name: ok }).click();
      try {
        await title_.waitFor({ state: 'hidden', timeout: 3_000 });
        return;
      } catch (e) {
        if (attempt === 5) throw e;
      }
    }
  };
  const notification = (text: RegExp) =>
    page.locator('.notifications-toasts, .notifications-center').getByText(text).first();
  const showRegistry = async () => {
    const tab = page.locator('.part.activitybar').getByRole('tab', { name: /Model Registry/ });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    await waitForAttribute(tab, 'aria-selected', 'true');
  };
  const sidebar = page.locator('.part.sidebar');

  await step(1, 'Welcome: Open Walkthrough… lists ours; it opens with seven unchecked steps', 'page', async () => {
    await page.keyboard.press('F1');
    await quick.locator('input.input').fill('>Welcome: Open Walkthrough');
    await quick
      .getByRole('option', { name: /Welcome: Open Walkthrough/ })
      .first()
      .click();
    await quick.getByRole('option', { name: /Get Started with Model Registry/ }).click();
    await walkthrough.locator('h2', { hasText: 'Get Started with Model Registry' }).waitFor();
    const steps = walkthrough.locator(`button.getting-started-step[data-step-id^="${WALKTHROUGH}#"]`);
    if ((await steps.count()) !== 7) throw new Error(`the walkthrough shows ${await steps.count()} steps, expected 7`);
    for (const s of await steps.all()) await waitForAttribute(s, 'aria-checked', 'false');
    await walkthrough.locator('.getting-started-media img').first().waitFor();
  });

  await step(
    2,
    'Import Training Output… → pick outputs/colour-net: v1, and the step ticks off',
    'imported',
    async () => {
      await clickButton('import', 'Import Training Output…');
      await pickPath('Pick a training output folder or a weights file', 'Import as Model', 'outputs/colour-net');
      await notification(/Imported colour-net@v1/).waitFor({ timeout: LONG });
      await ticked('import');
      await showRegistry();
      // A refresh landing while the row expands can leave it open and empty ("No tree item with id
      // '1/model/colour-net' found" in the extension host log, VS Code's own race): collapse and reopen.
      const model = treeItem(registry, page, 'colour-net');
      await eventually(
        async () => {
          await expand(model);
          try {
            await treeItem(registry, page, 'v1').waitFor({ timeout: 5_000 });
          } catch (e) {
            await model.locator('.monaco-tl-twistie').click();
            throw e;
          }
        },
        { timeout: LONG },
      );
      await expand(treeItem(registry, page, 'v1'));
      await treeItem(registry, page, 'Metrics').waitFor();
      await media('import', sidebar, 300);
    },
  );

  await step(
    3,
    'Import Another Run… → outputs/colour-net-lr05 (after a commit raising the learning rate): colour-net proposed, imported as v2, and the step ticks off',
    'second-run',
    async () => {
      commitHigherRate(workspace);
      await clickButton('secondRun', 'Import Another Run…');
      await pickPath('Pick a training output folder or a weights file', 'Import as Model', 'outputs/colour-net-lr05');
      // The import proposes the model this folder is a new run of, first, with its reasons.
      await quick.getByText('Import outputs/colour-net-lr05 as a new version of…').waitFor();
      const first = quick.locator('.monaco-list-row').first();
      await first.getByText('colour-net', { exact: true }).waitFor();
      await media('second-run', quick, 240);
      await page.keyboard.press('Enter');
      await notification(/Imported colour-net@v2/).waitFor({ timeout: LONG });
      await ticked('secondRun');
      await showRegistry();
      await treeItem(registry, page, 'v2').waitFor();
    },
  );

  await step(
    4,
    'Compare Versions… → check v1 and v2: the panel shows both, and the step ticks off',
    'compare',
    async () => {
      await clickButton('compare', 'Compare Versions…');
      await quick.locator('.quick-input-title', { hasText: 'Compare Versions' }).waitFor();
      for (const ref of ['colour-net@v2', 'colour-net@v1']) {
        const row = quick.locator('.monaco-list-row').filter({ hasText: ref });
        if ((await row.getAttribute('aria-checked')) !== 'true') await row.click();
        await waitForAttribute(row, 'aria-checked', 'true');
      }
      await quick.getByRole('button', { name: 'OK' }).click();
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
      await frame.getByText('eval_accuracy').first().waitFor({ timeout: LONG });
      await media('compare', group(/Compare colour-net/), 620);
      await ticked('compare');
    },
  );

  await step(5, 'Set Alias… → v2 → production: the @production badge, and the step ticks off', 'alias', async () => {
    await clickButton('alias', 'Set Alias…');
    await quick.getByText('Set Alias: which version?').waitFor();
    // Most recent first. Clicked: the keyboard focus stays on the walkthrough page that ran the command.
    const first = quick.locator('.monaco-list-row').first();
    await first.getByText('colour-net@v2', { exact: true }).waitFor();
    await first.click();
    await quick.getByText('Set an alias on colour-net@v2').waitFor();
    await quick
      .getByRole('option', { name: /production/ })
      .first()
      .click();
    await ticked('alias');
    await showRegistry();
    await treeItem(registry, page, 'v2')
      .locator('.label-description', { hasText: /@production/ })
      .waitFor();
    await media('alias', sidebar, 300);
  });

  await step(
    6,
    'Convert… → v2 → ONNX to float16 → Convert: v3 with v2 as its parent, and the step ticks off',
    'convert',
    async () => {
      await clickButton('convert', 'Convert…');
      await quick.getByText('Convert: which version?').waitFor();
      await quick.getByRole('option', { name: /colour-net@v2/ }).click();
      await quick.getByText('ONNX to float16').click();
      await quick.getByText('Convert', { exact: true }).click();
      await notification(/colour-net@v3/).waitFor({ timeout: LONG });
      await ticked('convert');
      await showRegistry();
      await expand(treeItem(registry, page, 'v3'));
      await expand(treeItem(registry, page, 'Lineage'));
      await treeItem(registry, page, 'v3').waitFor();
      await media('convert', sidebar, 360);
    },
  );

  await step(
    7,
    'Register Dataset… → datasets/colours: listed in Datasets, and the step ticks off',
    'dataset',
    async () => {
      await clickButton('dataset', 'Register Dataset…');
      await pickPath(
        'A folder of class folders with images, a CSV/JSONL with a label column, a .npz, a COCO .json, a YOLO data.yaml or a Pascal VOC folder',
        'Register Dataset',
        'datasets/colours',
      );
      await notification(/Registered dataset colours/).waitFor({ timeout: LONG });
      await ticked('dataset');
      await showRegistry();
      await expandPane(registry, 'Datasets');
      await registry.getByText('colours', { exact: true }).first().waitFor();
      const pane = registry.locator('.pane').filter({ has: page.locator('.pane-header', { hasText: 'Datasets' }) });
      await media('dataset', pane, 160);
    },
  );

  await step(
    8,
    'Evaluate… → v2 → colours → test: the evaluation panel, and the last step ticks off',
    'evaluate',
    async () => {
      await clickButton('evaluate', 'Evaluate…');
      await quick.getByText('Evaluate: which version?').waitFor();
      await quick.getByRole('option', { name: /colour-net@v2/ }).click();
      await quick.getByRole('option', { name: /^colours/ }).click();
      await quick.getByRole('option', { name: /^test/ }).click();
      const frame = page.frameLocator('iframe.webview.ready').last().frameLocator('iframe');
      await frame.getByRole('button', { name: /labelled red predicted red/ }).waitFor({ timeout: LONG });
      await media('evaluate', group(/Evaluation: colour-net/), 620);
      await ticked('evaluate');
    },
  );

  await step(9, 'the walkthrough page with every step checked', 'done', async () => {
    for (const id of ['import', 'secondRun', 'compare', 'alias', 'convert', 'dataset', 'evaluate'])
      await waitForAttribute(stepRow(id), 'aria-checked', 'true');
  });
  await step(10, 'the activity bar icon, light and dark', 'icon-dark', async () => {
    const bar = page.locator('.part.activitybar');
    await media('activitybar-light', bar, 360);
    await page.keyboard.press('F1');
    await quick.locator('input.input').fill('>Preferences: Color Theme');
    await quick
      .getByRole('option', { name: /Preferences: Color Theme/ })
      .first()
      .click();
    await quick.locator('input.input').fill('Dark Modern');
    await quick
      .getByRole('option', { name: /Dark Modern/ })
      .first()
      .click();
    await page.locator('.monaco-workbench.vs-dark').waitFor();
    await media('activitybar-dark', bar, 360);
  });
  await server.stop();
}

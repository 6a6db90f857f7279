// End to end, training from the editor as a person does it: classifier@v1 made with the CLI; in the
// Models view right-click v1 → "Train New Version…", set epochs and epoch_seconds in the parameter
// form (each through its input box), Run; the Runs view row goes live (running, the epoch climbs);
// its inline Compare Run opens the Compare panel with a live column (badge "running") whose curve
// grows while the run trains, and which the new version replaces when it ends. Then a longer run
// from the model row (the base pick lists v2, v1, From scratch), and Developer: Reload Window while
// it runs: after the reload the row is still running, climbs on, its task is back (status bar, its
// terminal), and it ends as classifier@v3 with the "finished" notification. The side bar is widened
// after the first screenshot: at its default width a run row's label leaves no room for its status.
import type { Frame, Locator, Page } from 'playwright-core';
import {
  contextMenu,
  E2eContext,
  eventually,
  expand,
  pane,
  STEP_TIMEOUT,
  stepper,
  treeItem,
  workspaceCli,
} from './workbench';

/** How long a run may take to start and end, with python's start and the import at the end. */
const RUN_TIMEOUT = 90_000;

/** The description a run row shows (`running · 0:04 · epoch 3 · eval_accuracy 0.8`). */
/** The Runs view's row of the run with these parameters set (its label is the recipe; they end its description). */
function runRow(runs: Locator, page: Page, params: string): Locator {
  return runs.getByRole('treeitem').filter({ has: page.locator('.label-description', { hasText: params }) });
}

async function description(row: Locator): Promise<string> {
  return ((await row.locator('.label-description').textContent({ timeout: 1_000 })) ?? '').trim();
}

/** Waits until the row reads `running … epoch N` and returns N. */
async function runningEpoch(row: Locator, above = 0): Promise<number> {
  return eventually(
    async () => {
      const d = await description(row);
      const m = /^running · \d+:\d\d · epoch (\d+)/.exec(d);
      if (!m) throw new Error(`the run row reads "${d}"`);
      const epoch = Number(m[1]);
      if (epoch <= above) throw new Error(`the run row is still at epoch ${epoch} ("${d}")`);
      return epoch;
    },
    { timeout: RUN_TIMEOUT, interval: 200, message: `run row past epoch ${above}` },
  );
}

/** Waits until the row's description matches `re` (read from the DOM: it may be clipped). */
async function waitDescription(row: Locator, re: RegExp, timeout = RUN_TIMEOUT): Promise<string> {
  return eventually(
    async () => {
      const d = await description(row);
      if (!re.test(d)) throw new Error(`the run row reads "${d}", not ${re}`);
      return d;
    },
    { timeout, interval: 200 },
  );
}

/** Drags the sash right of the side bar so that it is `width` px wide. */
async function sidebarWidth(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) throw new Error('no side bar');
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + (width - box.width), y, { steps: 5 });
  await page.mouse.up();
  const now = (await page.locator('.part.sidebar').boundingBox())?.width ?? 0;
  if (Math.abs(now - width) > 8) throw new Error(`the side bar is ${now} px wide after the drag, not ${width}`);
}

/** In the open parameter form: picks `key = …`, types `value` into its input box, back in the form. */
async function setParam(page: Page, quick: Locator, key: string, from: string, value: string): Promise<void> {
  await quick.getByText(`${key} = ${from}`, { exact: true }).click();
  const input = quick.locator('input.input');
  await quick.locator('.quick-input-title').getByText(key, { exact: true }).waitFor();
  await eventually(
    async () => {
      const v = await input.inputValue();
      if (v !== from) throw new Error(`the input box of ${key} holds "${v}", not its value ${from}`);
    },
    { timeout: STEP_TIMEOUT },
  );
  await input.fill(value);
  await page.keyboard.press('Enter');
  await quick.getByText(`${key} = ${value}`, { exact: true }).waitFor();
}

/** The labels of quick pick rows (each row's first label: its detail line has one too). */
async function rowLabels(rows: Locator): Promise<string[]> {
  return rows.evaluateAll((rs) => rs.map((r) => (r.querySelector('.label-name')?.textContent ?? '').trim()));
}

/** The parameter form of Train New Version…, with epochs and epoch_seconds changed; leaves it open. */
async function fillForm(page: Page, quick: Locator, epochs: string, epochSeconds: string, from: string) {
  await quick.locator('.quick-input-title').getByText('Train New Version: classifier').waitFor();
  const rows = quick.locator('.quick-input-list .monaco-list-row');
  await quick.getByText('epochs = 8', { exact: true }).waitFor();
  // Run first, then Queue, then the parameters with their defaults.
  const labels = await rowLabels(rows);
  const expected = ['Run', 'Queue', 'lr = 0.5', 'epochs = 8', 'epoch_seconds = 0.5'];
  if (JSON.stringify(labels.filter((l) => l !== 'Parameters')) !== JSON.stringify(expected))
    throw new Error(`the form lists ${JSON.stringify(labels)}`);
  const run = (await rows.first().locator('.label-description').innerText()).trim();
  if (!run.startsWith(`1 run of classifier ${from}`)) throw new Error(`Run says "${run}"`);
  await setParam(page, quick, 'epochs', '8', epochs);
  await setParam(page, quick, 'epoch_seconds', '0.5', epochSeconds);
  await quick.getByText(`1 run of classifier ${from}`).waitFor();
  const epochsRow = rows.filter({ has: page.getByText(`epochs = ${epochs}`, { exact: true }) });
  await epochsRow.getByText('set', { exact: true }).waitFor();
}

/** The Compare panel's frame whose summary has a column headed `label`. */
async function compareFrame(page: Page, label: string): Promise<Frame> {
  return eventually(
    async () => {
      for (const f of page.frames()) {
        const heads = await f
          .locator('table.summary thead th')
          .allInnerTexts()
          .catch(() => [] as string[]);
        if (heads.some((h) => h.includes(label))) return f;
      }
      throw new Error(`no compare panel with a column "${label}" appeared`);
    },
    { timeout: STEP_TIMEOUT, interval: 200 },
  );
}

/** How many points the live column's line has in the eval_accuracy chart (0 before it is drawn). */
async function livePoints(frame: Frame, label: string): Promise<number> {
  const canvas = frame
    .locator('.chart-card')
    .filter({ has: frame.locator('h3:text-is("eval_accuracy")') })
    .locator('canvas');
  if ((await canvas.count()) === 0) return 0;
  return canvas.evaluate((c, l) => {
    type Chart = { data: { datasets: { label: string; data: { y: number | null }[] }[] } };
    const chart = (c as unknown as { __chart?: Chart }).__chart;
    return chart?.data.datasets.find((d) => d.label === l)?.data.filter((p) => p.y !== null).length ?? 0;
  }, label);
}

/** Waits for a toast whose text matches `text` and lets it finish sliding in. */
async function toast(page: Page, text: RegExp, timeout = RUN_TIMEOUT): Promise<Locator> {
  const t = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: text }).first();
  await t.waitFor({ timeout });
  await page
    .locator('.notification-toast.notification-fade-in-done')
    .first()
    .waitFor({ timeout: 5_000 })
    .catch(() => {});
  return t;
}

async function clearNotifications(page: Page): Promise<void> {
  await command(page, 'Notifications: Clear All Notifications');
  await page
    .locator('.notifications-toasts .notification-toast')
    .first()
    .waitFor({ state: 'detached', timeout: 5_000 })
    .catch(() => {});
}

/** Runs a command from the Command Palette by its title. */
async function command(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  const made = JSON.parse(
    cli('train', '--recipe', 'classifier', '-p', 'epochs=2', '-p', 'epoch_seconds=0.1', '--json').toString(),
  ) as { runs: { status: string; versionRef: string | null }[] };
  if (made.runs[0]?.status !== 'succeeded' || made.runs[0].versionRef !== 'classifier@v1')
    throw new Error(`the CLI's training did not make classifier@v1: ${JSON.stringify(made.runs[0])}`);

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'train');
  const container = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const models = pane(container, page, 'Models');
  const runs = pane(container, page, 'Runs');
  const quick = page.locator('.quick-input-widget');
  // Shows the Model Registry side bar. Clicking its tab while it is shown hides it, and after a
  // reload the workbench restores it a moment after the tab appears: click only while neither.
  const openSidebar = () =>
    eventually(
      async () => {
        // The Runs pane starts collapsed (an empty one would take half the side bar); Train New Version… reveals it.
        const header = container.locator('.pane-header').filter({ hasText: 'Runs' });
        if (await header.isVisible()) {
          if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
          if (await runs.isVisible()) return;
          throw new Error('the Runs pane is not expanded yet');
        }
        const tab = page.getByRole('tab', { name: /Model Registry/ });
        if ((await tab.getAttribute('aria-selected', { timeout: 5_000 })) !== 'true') await tab.click();
        throw new Error('the Model Registry side bar does not show the Runs view');
      },
      { timeout: STEP_TIMEOUT, interval: 1_000 },
    ).catch(async (e) => {
      if (!(await runs.isVisible())) throw e;
    });

  const first = 'classifier epochs=12 epoch_seconds=0.8';
  const second = 'classifier epochs=30 epoch_seconds=0.8';

  await step(
    1,
    'the Models view has classifier with v1; the Runs view lists the CLI run that made it',
    'workbench',
    async () => {
      await openSidebar();
      await expand(treeItem(models, page, 'classifier'));
      await treeItem(models, page, 'v1').waitFor();
      await waitDescription(runRow(runs, page, 'epochs=2 epoch_seconds=0.1'), /^→ classifier@v1 · /);
      // At the default width the row shows the recipe and the start of its status; the parameters set come last.
      await page.screenshot({ path: `${ctx.screenshotDir}/e2e-train-1-default-width.png` });
      await sidebarWidth(page, 560);
    },
  );

  await step(
    2,
    'right-click v1 → Train New Version…: the form (Run, Queue, the parameters); set epochs 12 and epoch_seconds 0.8',
    'form',
    async () => {
      await contextMenu(page, treeItem(models, page, 'v1'), 'Train New Version…');
      await fillForm(page, quick, '12', '0.8', 'from classifier@v1');
    },
  );

  const row = runRow(runs, page, 'epochs=12 epoch_seconds=0.8');
  let epoch = 0;
  await step(3, 'Run: the Runs view row appears and goes live, the epoch climbing', 'running', async () => {
    await quick.getByText('Run', { exact: true }).click();
    await toast(page, /Started classifier from classifier@v1: classifier-/, STEP_TIMEOUT);
    await row.waitFor({ timeout: STEP_TIMEOUT });
    epoch = await runningEpoch(row);
    epoch = await runningEpoch(row, epoch);
    ctx.log(`first run: "${await description(row)}"`);
    if (!/ · eval_accuracy [\d.]+ · epochs=12 epoch_seconds=0\.8$/.test(await description(row)))
      throw new Error(`the row has no eval_accuracy: "${await description(row)}"`);
    await clearNotifications(page);
  });

  let frame: Frame | undefined;
  await step(
    4,
    "the row's inline Compare Run: the Compare panel with the base and a live column (running) whose curve grows while it trains",
    'compare-live',
    async () => {
      await row.hover();
      await row.getByRole('button', { name: 'Compare Run' }).click();
      frame = await compareFrame(page, first);
      const head = frame.locator('table.summary thead th').filter({ hasText: first });
      await head.locator('.badge.running').waitFor();
      // The header wraps rather than pushing the badge past the panel's right edge.
      const badgeBox = await head.locator('.badge.running').boundingBox();
      const panelBox = await (await frame.frameElement()).boundingBox();
      if (!badgeBox || !panelBox || badgeBox.x + badgeBox.width > panelBox.x + panelBox.width)
        throw new Error(`the running badge is outside the panel: ${JSON.stringify({ badgeBox, panelBox })}`);
      const heads = (await frame.locator('table.summary thead th').allInnerTexts()).map((h) => h.trim());
      if (!heads.some((h) => h.includes('classifier@v1')))
        throw new Error(`the panel should compare with the base v1: columns ${JSON.stringify(heads)}`);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: `${ctx.screenshotDir}/e2e-train-4-compare-live-summary.png` });
      const chart = frame.locator('.chart-card').filter({ has: frame.locator('h3:text-is("eval_accuracy")') });
      await chart.scrollIntoViewIfNeeded();
      const f = frame;
      const seen = await eventually(
        async () => {
          const n = await livePoints(f, first);
          if (n < 1) throw new Error('the live column has no eval_accuracy points drawn');
          return n;
        },
        { timeout: STEP_TIMEOUT, interval: 200, message: 'live curve' },
      );
      const grown = await eventually(
        async () => {
          const n = await livePoints(f, first);
          if (n <= seen) throw new Error(`the live curve stays at ${n} points`);
          return n;
        },
        { timeout: STEP_TIMEOUT, interval: 200, message: 'live curve grows' },
      );
      const d = await description(row);
      if (!d.startsWith('running')) throw new Error(`the run ended before the curve was seen growing: "${d}"`);
      ctx.log(`live curve: ${seen} → ${grown} points while "${d}"`);
    },
  );

  await step(
    5,
    'the run ends: the row reads → classifier@v2, the notification says finished, v2 replaces the live column',
    'first-done',
    async () => {
      ctx.log(
        `first run ended: "${await waitDescription(row, /^→ classifier@v2 · \d+:\d\d · epoch 12 · eval_accuracy [\d.]+ · epochs=12 epoch_seconds=0\.8$/)}"`,
      );
      const done = await toast(page, /Training classifier \(epochs=12 epoch_seconds=0.8\) finished: classifier@v2/);
      await done.getByRole('button', { name: 'Compare with Base' }).waitFor();
      const f = frame!;
      await eventually(
        async () => {
          const heads = (await f.locator('table.summary thead th').allInnerTexts()).map((h) => h.trim());
          if (heads.some((h) => h.includes(first)) || !heads.some((h) => h.includes('classifier@v2')))
            throw new Error(`the compare columns are ${JSON.stringify(heads)}`);
        },
        { timeout: STEP_TIMEOUT, interval: 200, message: 'v2 replaces the live column' },
      );
      await f.locator('table.summary').scrollIntoViewIfNeeded();
      await treeItem(models, page, 'v2').waitFor();
    },
  );

  const longRow = runRow(runs, page, 'epochs=30 epoch_seconds=0.8');
  await step(
    6,
    'right-click the model row → Train New Version…: the base pick lists v2, v1, then From scratch; pick v2, epochs 30',
    'base-pick',
    async () => {
      await clearNotifications(page);
      await contextMenu(page, treeItem(models, page, 'classifier'), 'Train New Version…');
      await quick.locator('.quick-input-title').getByText('Train New Version of classifier: start from').waitFor();
      const rows = quick.locator('.quick-input-list .monaco-list-row');
      await rows.first().waitFor();
      const labels = await rowLabels(rows);
      if (JSON.stringify(labels) !== JSON.stringify(['classifier@v2', 'classifier@v1', 'From scratch']))
        throw new Error(`the base pick lists ${JSON.stringify(labels)}`);
      await page.screenshot({ path: `${ctx.screenshotDir}/e2e-train-6-base-pick-list.png` });
      await quick.getByText('classifier@v2', { exact: true }).click();
      await fillForm(page, quick, '30', '0.8', 'from classifier@v2');
    },
  );

  let before = 0;
  await step(7, 'Run the longer run; it trains (epoch climbing)', 'long-running', async () => {
    await quick.getByText('Run', { exact: true }).click();
    await longRow.waitFor({ timeout: STEP_TIMEOUT });
    before = await runningEpoch(longRow, 1);
    ctx.log(`second run before the reload: "${await description(longRow)}"`);
  });

  await step(
    8,
    'Developer: Reload Window while it runs: after the reload the row is still running and climbs on, its task terminal streams the log',
    'reloaded',
    async () => {
      const loaded = page.waitForEvent('load', { timeout: 60_000 });
      await command(page, 'Developer: Reload Window');
      await loaded;
      await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
      await openSidebar();
      await longRow.waitFor({ timeout: STEP_TIMEOUT });
      await page.mouse.move(700, 400); // off the activity bar, whose tab shows a hover
      const after = await runningEpoch(longRow, before);
      const later = await runningEpoch(longRow, after);
      ctx.log(`second run after the reload: epoch ${before} before, ${after} then ${later}`);
      // Its task again: the status bar counts one running task, and the panel has its terminal (drawn
      // on a canvas: the screenshot shows the log it streams).
      await page.locator('[id="status.runningTasks"]').getByText('1', { exact: true }).waitFor();
      await page.keyboard.press('Control+`');
      const panel = page.locator('.part.panel');
      await panel
        .locator('.single-terminal-tab, .terminal-tabs-entry')
        .filter({ hasText: new RegExp(`${second} \\(classifier-[\\d-]+[0-9a-f]+\\)`) })
        .first()
        .waitFor();
    },
  );

  await step(9, 'the reattached run ends as classifier@v3 and the notification says finished', 'finished', async () => {
    await page.keyboard.press('Control+`'); // the panel closed again: the notification unobstructed
    const d = await waitDescription(
      longRow,
      /^→ classifier@v3 · \d+:\d\d · epoch 30 · eval_accuracy [\d.]+ · epochs=30 epoch_seconds=0\.8$/,
    );
    ctx.log(`second run ended: "${d}"`);
    const done = await toast(
      page,
      /Training classifier \(epochs=30 epoch_seconds=0.8\) finished: classifier@v3 from classifier@v2/,
    );
    for (const b of ['Compare with Base', 'Evaluate…', 'Reveal']) await done.getByRole('button', { name: b }).waitFor();
    // The reload collapsed the model row.
    await expand(treeItem(models, page, 'classifier'));
    await treeItem(models, page, 'v3').waitFor();
  });
  await server.stop();
}

// End to end, as a user reviews a detector: the COCO shapes dataset (test/fixtures/coco-shapes,
// three JPEGs) registered from the CLI and a YOLO run imported; in the Models view right-click v1 →
// Import Predictions…, pick the dataset, give the COCO results file in the file dialog (code-server's
// simple dialog: a path typed into the quick input); the detection panel opens. In its page: the
// COCO cards, the per-class table, the confusion matrix with its background row and column; a cell
// opens its boxes as crops; the confidence slider changes the counts; Enter on the image grid opens
// the large view and Escape closes it.
import { cpSync } from 'fs';
import * as path from 'path';
import type { FrameLocator, Locator } from 'playwright-core';
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

const CLASSES = ['cloud', 'heart', 'arrow', 'star'];

/** The number of boxes on a confusion cell's button ("3 boxes: missed star"). */
async function cellCounts(cells: Locator): Promise<number> {
  const labels = await cells.evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label') ?? ''));
  return labels.reduce((sum, l) => sum + Number(/^(\d+)/.exec(l)?.[1] ?? NaN), 0);
}

/** Waits until `img` (an <img> or an SVG <image>) has loaded a picture with pixels. */
async function loadedImage(img: Locator, what: string): Promise<void> {
  await img.waitFor();
  await eventually(
    async () => {
      // Runs in the page; the tests compile without the DOM library, hence the structural types.
      const ok = await img.evaluate((node) => {
        type Picture = { complete: boolean; naturalWidth: number; src: string; decode(): Promise<void> };
        const el = node as unknown as Partial<Picture> & { getAttribute(name: string): string | null };
        if (el.naturalWidth !== undefined) return !!el.complete && el.naturalWidth > 0;
        // An SVG <image> has no naturalWidth: decode its href as an <img> would.
        const href = el.getAttribute('href');
        if (!href) return false;
        const Img = (globalThis as unknown as { Image: new () => Picture }).Image;
        const probe = new Img();
        probe.src = href;
        return probe.decode().then(
          () => probe.naturalWidth > 0,
          () => false,
        );
      });
      if (!ok) throw new Error(`${what} did not load`);
    },
    { timeout: STEP_TIMEOUT },
  );
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const shapes = path.join(workspace, 'datasets', 'coco-shapes');
  cpSync(path.join(ctx.repoRoot, 'test', 'fixtures', 'coco-shapes'), shapes, { recursive: true });
  const cli = workspaceCli(ctx, workspace);
  cli('dataset', 'add', 'datasets/coco-shapes/gt_dataset.json', '--images', 'datasets/coco-shapes', '--name', 'shapes');
  cli('import', 'outputs/yolo-detect', '--model', 'shapes-detector');

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'detection');
  const container = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const models = pane(container, page, 'Models');
  const quick = page.locator('.quick-input-widget');

  await step(
    1,
    'right-click v1 → Import Predictions…: the detection datasets to pick from',
    'pick-dataset',
    async () => {
      await page.getByRole('tab', { name: /Model Registry/ }).click();
      await expand(treeItem(models, page, 'shapes-detector'));
      await contextMenu(page, treeItem(models, page, 'v1'), 'Import Predictions…');
      await quick.getByText('Import predictions of shapes-detector@v1 on').waitFor();
      await quick
        .locator('.monaco-list-row')
        .filter({ hasText: 'shapes' })
        .filter({ hasText: 'detection · 3 samples · 4 classes' })
        .waitFor();
    },
  );

  const results = path.join(shapes, 'dt_dataset.json');
  await step(2, 'pick shapes: the file dialog asks for the COCO results file', 'file-dialog', async () => {
    await quick.locator('.monaco-list-row').filter({ hasText: 'shapes' }).first().click();
    await quick.getByText(/Predictions of shapes-detector@v1 on shapes/).waitFor();
    // code-server has no native dialog: its simple file dialog is a quick input holding a path.
    // It fills in the workspace folder (defaultUri) once it has listed it: type only after that,
    // or its value lands in front of what was typed.
    const input = quick.locator('input.input');
    await quick.locator('.monaco-list-row').filter({ hasText: 'datasets' }).first().waitFor();
    await eventually(
      async () => {
        const value = await input.inputValue();
        if (!value.startsWith(workspace)) throw new Error(`the dialog's path is "${value}"`);
      },
      { timeout: STEP_TIMEOUT },
    );
    await input.fill(results);
    await quick.locator('.monaco-list-row').filter({ hasText: 'dt_dataset.json' }).first().waitFor();
  });

  const frame: FrameLocator = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
  const cards = frame.getByLabel('COCO metrics');
  await step(3, 'Enter imports them: the detection panel opens with the COCO cards', 'panel', async () => {
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: /Detection: shapes-detector@v1 on shapes/ }).waitFor();
    const ap = cards.locator('.card').filter({ has: frame.locator('.card-label', { hasText: /^AP$/ }) });
    await ap.waitFor();
    const value = (await ap.locator('.card-value').textContent())?.trim() ?? '';
    if (!/^0\.\d+$|^1(\.0+)?$/.test(value)) throw new Error(`the AP card says "${value}"`);
    ctx.log(`AP card: ${value}`);
    await page
      .locator('.notifications-toasts')
      .getByText(/shapes-detector@v1 on shapes: AP \d/)
      .first()
      .waitFor();
  });

  const matrix = frame.locator('table.matrix');
  await step(
    4,
    'the per-class table lists the four shapes; the matrix has the background row and column',
    'tables',
    async () => {
      const rows = frame.locator('table.classes tbody th[scope="row"]');
      await eventually(
        async () => {
          const names = (await rows.allTextContents()).map((t) => t.trim());
          if (names.join() !== CLASSES.join()) throw new Error(`the per-class table lists ${names.join(', ')}`);
        },
        { timeout: STEP_TIMEOUT },
      );
      await matrix.locator('th.row-head.bg', { hasText: 'background' }).waitFor();
      await matrix.locator('th.col-head.bg', { hasText: 'background' }).waitFor();
      const heads = (await matrix.locator('th.col-head').allTextContents()).map((t) => t.trim());
      if (heads.join() !== [...CLASSES, 'background'].join()) throw new Error(`matrix columns: ${heads.join(', ')}`);
      await matrix.scrollIntoViewIfNeeded();
    },
  );

  await step(5, 'click the cell ground truth star, predicted star: its crops show', 'crops', async () => {
    const cell = matrix.getByRole('button', { name: /^\d+ box(es)?: ground truth star predicted star$/ });
    const n = await cellCounts(cell);
    if (!(n > 0)) throw new Error(`the star/star cell holds ${n} boxes`);
    await cell.click();
    await frame.getByRole('heading', { name: 'Ground truth star, predicted star' }).waitFor();
    const crops = frame.locator('#crops li.crop');
    await eventually(
      async () => {
        const shown = await crops.count();
        if (shown !== n) throw new Error(`${shown} crops for a cell of ${n}`);
      },
      { timeout: STEP_TIMEOUT },
    );
    await loadedImage(crops.first().locator('svg image'), 'the first crop’s image');
    await crops.first().scrollIntoViewIfNeeded();
  });

  await step(6, 'move the confidence slider to 0.8: fewer matches, more misses', 'slider', async () => {
    const missed = matrix.getByRole('button', { name: /: missed / });
    const matched = matrix.getByRole('button', { name: /: ground truth (\w+) predicted \1$/ });
    const before = { missed: await cellCounts(missed), matched: await cellCounts(matched) };
    const found = frame.locator('.toolbar [role="status"]');
    const slider = frame.getByRole('slider', { name: 'Confidence' });
    await slider.scrollIntoViewIfNeeded();
    await slider.fill('0.8');
    await frame.locator('#confidence-value', { hasText: '0.8' }).waitFor();
    await found.getByText('at confidence 0.8').waitFor();
    await eventually(
      async () => {
        const after = { missed: await cellCounts(missed), matched: await cellCounts(matched) };
        if (!(after.missed > before.missed && after.matched < before.matched))
          throw new Error(`counts ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        ctx.log(`matrix at 0.8: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      },
      { timeout: STEP_TIMEOUT },
    );
  });

  await step(7, 'the matrix at 0.8, the star/star cell outlined as the one shown', 'matrix-at-0.8', async () => {
    await page.mouse.move(0, 0); // no hover outline on another cell
    await matrix.scrollIntoViewIfNeeded();
    const cell = matrix.getByRole('button', { name: /: ground truth star predicted star$/ });
    if ((await cell.getAttribute('aria-pressed')) !== 'true') throw new Error('the star/star cell is not pressed');
    const outline = await cell.evaluate((b) => {
      const style = (
        globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }
      ).getComputedStyle(b);
      return style.outlineStyle;
    });
    if (outline === 'none') throw new Error('the selected cell looks like the others (no outline)');
  });

  const viewer = frame.getByRole('dialog');
  await step(8, 'Enter on the image grid opens the selected image large', 'viewer', async () => {
    const grid = frame.getByRole('listbox', { name: 'Images' });
    await grid.scrollIntoViewIfNeeded();
    await grid.getByRole('option').first().waitFor();
    await loadedImage(grid.getByRole('option').first().locator('img'), 'the first tile’s thumbnail');
    await grid.press('Enter');
    await viewer.waitFor();
    await viewer.getByText(/^Image 1 of 3 · 256×256 · /).waitFor();
    await loadedImage(viewer.locator('img'), 'the large image');
  });

  await step(9, 'Escape closes it and the focus is back on the grid', 'viewer-closed', async () => {
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    const focused = await frame
      .getByRole('listbox', { name: 'Images' })
      .evaluate((el) => el === el.ownerDocument.activeElement);
    if (!focused) throw new Error('the focus did not go back to the image grid');
  });
  await server.stop();
}

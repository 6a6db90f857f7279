// End to end: the sample's colour classifier evaluated on datasets/colours from the CLI; in the
// Model Registry view open v1 → Evaluations → colours/test; in the panel, click the confusion-matrix
// cell "labelled red, predicted blue" and see that sample's thumbnail in the sample browser.
import { E2eContext, expand, STEP_TIMEOUT, stepper, treeItem, workspaceCli } from './workbench';

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  cli('import', 'outputs/colour-net', '--model', 'colour-net');
  cli('dataset', 'add', 'datasets/colours');
  cli('evaluate', 'colour-net@v1', '--dataset', 'colours', '--split', 'test');

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'evaluate');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');

  await step(
    1,
    'v1 → Evaluations → colours/test, with its accuracy; the Datasets view lists colours',
    'tree',
    async () => {
      await page.getByRole('tab', { name: /Model Registry/ }).click();
      await expand(treeItem(registry, page, 'colour-net'));
      await expand(treeItem(registry, page, 'v1'));
      await expand(treeItem(registry, page, 'Evaluations'));
      await treeItem(registry, page, 'colours/test')
        .locator('.label-description', { hasText: /accuracy 0\.\d+ · 18 samples/ })
        .waitFor();
    },
  );

  const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
  await step(2, 'open it: metric cards, per-class table and the confusion matrix', 'panel', async () => {
    await treeItem(registry, page, 'colours/test').click();
    await page.getByRole('tab', { name: /Evaluation: colour-net@v1 on colours/ }).waitFor();
    await frame.getByRole('button', { name: '1 sample labelled red predicted blue' }).waitFor();
  });

  await step(
    3,
    'click the cell labelled red, predicted blue: the purple sample shows, with its thumbnail',
    'cell',
    async () => {
      await frame.getByRole('button', { name: '1 sample labelled red predicted blue' }).click();
      const img = frame.getByRole('img', { name: /test\/red\/red-4\.png: labelled red, predicted blue/ });
      await img.waitFor();
      // The element appears before its image has loaded: wait for load or error (or the step's time), then judge.
      const loaded = await img.evaluate((i, ms) => {
        const el = i as unknown as {
          complete: boolean;
          naturalWidth: number;
          addEventListener(e: string, f: () => void): void;
        };
        if (el.complete) return el.naturalWidth > 0;
        return new Promise<boolean>((done) => {
          el.addEventListener('load', () => done(el.naturalWidth > 0));
          el.addEventListener('error', () => done(false));
          setTimeout(() => done(el.complete && el.naturalWidth > 0), ms);
        });
      }, STEP_TIMEOUT / 2);
      await page.waitForFunction(() => true); // let the image paint before the screenshot
      if (!loaded) throw new Error('the thumbnail did not load (asWebviewUri / localResourceRoots)');
    },
  );
  await server.stop();
}

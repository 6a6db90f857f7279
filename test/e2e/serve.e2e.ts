// End to end: the sample's colour classifier with a `production` alias; right-click v1 → Deploy
// Locally… → follow production, any free port, no batching; the Deployments view shows the server
// ready; Enter on its served version opens the request panel; Random, Send: 200 with the latency and
// the top classes; the row then counts the request.
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

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  cli('import', 'outputs/colour-net', '--model', 'colour-net');
  cli('alias', 'set', 'colour-net@v1', 'production');

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'serve');
  const container = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const models = pane(container, page, 'Models');
  const deployments = pane(container, page, 'Deployments');
  const quick = page.locator('.quick-input-widget');

  await step(1, 'right-click v1 → Deploy Locally…: serve v1 or follow production', 'ask', async () => {
    await page.getByRole('tab', { name: /Model Registry/ }).click();
    await expand(treeItem(models, page, 'colour-net'));
    await contextMenu(page, treeItem(models, page, 'v1'), 'Deploy Locally…');
    await quick.getByText('colour-net@production', { exact: true }).waitFor();
  });

  const row = treeItem(deployments, page, 'colour-net@production');
  await step(
    2,
    'follow production, port 0 (any free one), no batching: the Deployments view shows it ready',
    'ready',
    async () => {
      await quick.getByText('colour-net@production', { exact: true }).click();
      const input = quick.locator('input.input');
      await quick.getByText(/Port on 127\.0\.0\.1/).waitFor();
      await input.fill('0');
      await page.keyboard.press('Enter');
      await quick.getByText('No batching', { exact: true }).click();
      await row.locator('.label-description', { hasText: /^ready · 127\.0\.0\.1:\d+ · \d+:\d\d · 0 req/ }).waitFor();
      await treeItem(deployments, page, 'colour-net v1')
        .locator('.label-description', { hasText: 'follows colour-net@production' })
        .waitFor();
    },
  );

  const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
  await step(
    3,
    'open the served version: the request panel, Random, Send → 200, latency, top classes by label',
    'answer',
    async () => {
      await treeItem(deployments, page, 'colour-net v1').click();
      await page.getByRole('tab', { name: /Request: colour-net v1/ }).waitFor();
      await frame.getByRole('heading', { name: 'colour-net v1' }).waitFor();
      await frame.getByRole('button', { name: 'Random' }).click();
      await frame.getByRole('button', { name: 'Send' }).click();
      await frame
        .getByRole('status')
        .getByText(/^200 OK · [\d.]+ ms · answered by version 1$/)
        .waitFor();
      await frame.getByRole('table').getByText('red', { exact: true }).waitFor();
      await frame.getByText(/^curl -sS -X POST /).waitFor();
    },
  );

  await step(4, 'the Deployments row counts the request, with its p50 and p95', 'counted', async () => {
    await eventually(
      async () => {
        const text = (await row.locator('.label-description').textContent()) ?? '';
        if (!/ · 1 req · p50 [\d.]+ ms · p95 [\d.]+ ms/.test(text)) throw new Error(`the row says "${text}"`);
      },
      { timeout: STEP_TIMEOUT },
    );
  });
  await server.stop();
}

// End to end: a version imported from the CLI; in the Model Registry view, right-click v1 →
// "Convert…", pick "ONNX to float16" (tool chains listed with whether they are installed), change
// keep_io_types in the parameter form, convert, and see the notification and v2 made from v1: its row
// says onnx · fp16, its Conversion node the check's numbers, its Parameters node the hyperparameters.
import { contextMenu, E2eContext, expand, STEP_TIMEOUT, stepper, treeItem, workspaceCli } from './workbench';

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const cli = workspaceCli(ctx, workspace);
  cli('import', 'outputs/resnet-cifar', '--model', 'resnet');

  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const step = stepper(ctx, page, 'convert');
  const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
  const quick = page.locator('.quick-input-widget');

  await step(
    1,
    'right-click v1 → Convert…: built-in ONNX converters, and tool chains marked as not installed',
    'picker',
    async () => {
      await page.getByRole('tab', { name: /Model Registry/ }).click();
      await expand(treeItem(registry, page, 'resnet'));
      await contextMenu(page, treeItem(registry, page, 'v1'), 'Convert…');
      await quick.getByText('ONNX to float16').waitFor();
      await quick.getByText(/atc not found on PATH/).waitFor();
    },
  );

  await step(2, 'pick ONNX to float16; the form shows keep_io_types = true; set it to false', 'form', async () => {
    await quick.getByText('ONNX to float16').click();
    await quick.getByText('keep_io_types = true').click();
    await quick.getByText('false', { exact: true }).click();
    await quick.getByText('keep_io_types = false').waitFor();
  });

  await step(
    3,
    'Convert: the notification names resnet@v2 and offers Compare with Parent; v2 shows under resnet',
    'done',
    async () => {
      await quick.getByText('Convert', { exact: true }).click();
      await page
        .locator('.notification-toast')
        .filter({ hasText: /Converted resnet@v1 to resnet@v2 \(onnx/ })
        .getByRole('button', { name: 'Compare with Parent' })
        .waitFor();
      await treeItem(registry, page, 'v2').waitFor();
    },
  );

  await step(
    4,
    'v2 reads onnx · fp16; its Conversion node has the converter, parent and check, its Parameters the hyperparameters',
    'conversion',
    async () => {
      const v2 = treeItem(registry, page, 'v2');
      await v2.filter({ hasText: 'onnx · fp16 · ' }).waitFor();
      await treeItem(registry, page, 'v1').filter({ hasText: 'onnx · fp32 · ' }).waitFor();
      await expand(v2);
      await expand(treeItem(registry, page, 'Conversion').filter({ hasText: 'onnx-fp16 · max abs error' }));
      await treeItem(registry, page, 'converter').filter({ hasText: 'onnx-fp16 (ONNX to float16)' }).waitFor();
      await treeItem(registry, page, 'from').filter({ hasText: 'resnet@v1' }).waitFor();
      await treeItem(registry, page, 'parameters').filter({ hasText: 'keep_io_types=false' }).waitFor();
      await expand(treeItem(registry, page, 'Parameters').filter({ hasText: 'hparams.yaml' }));
      await treeItem(registry, page, 'lr').waitFor();
      await treeItem(registry, page, 'Lineage').filter({ hasText: 'from resnet@v1 (conversion: onnx-fp16)' }).waitFor();
    },
  );

  await step(5, "hovering v2 shows the conversion's numbers", 'tooltip', async () => {
    await treeItem(registry, page, 'v2').locator('.label-name').hover();
    await page.locator('.monaco-hover').filter({ hasText: 'converted from resnet@v1 by onnx-fp16' }).waitFor();
    await page
      .locator('.monaco-hover')
      .filter({ hasText: /max abs error/ })
      .waitFor();
  });
  await server.stop();
}

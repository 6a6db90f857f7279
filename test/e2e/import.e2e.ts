// End to end, as a user does it: in the Explorer, right-click outputs/run1 → "Import as Model",
// see the "Imported" notification, open the Model Registry view and find run1 → v1 → Files,
// Metrics, Source. Run by scripts/test-vscode.mjs (code-server + headless Chromium).
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';

/** What scripts/test-vscode.mjs hands to every out/test/e2e/*.e2e.js `run(ctx)`. */
export interface E2eContext {
  browser: Browser;
  repoRoot: string;
  screenshotDir: string;
  /** 'vsix': installed from model-registry.vsix; 'dev': loaded from the development path. */
  mode: 'vsix' | 'dev';
  /** Fills `dir` (default: a new temp folder, removed afterwards) via test/integration/workspace.ts. */
  prepareWorkspace(dir?: string): Promise<string>;
  /** Starts code-server (stopped after the test) with the extension available. */
  startCodeServer(opts: { workspace?: string; env?: Record<string, string>; settings?: Record<string, unknown> }): Promise<CodeServer>;
  workbenchUrl(server: CodeServer, folder: string): string;
  /** Opens the workbench on `folder` in a fresh page (closed after the test). */
  openWorkbench(server: CodeServer, folder: string): Promise<Page>;
  log(...args: unknown[]): void;
}
export interface CodeServer {
  url: string;
  port: number;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const STEP_TIMEOUT = 30_000;
const IMPORT_TIMEOUT = 120_000;

/**
 * A tree row by its visible label. Custom tree views use the tooltip as the accessible name
 * when there is one, so match the label text rather than getByRole's name.
 */
function treeItem(scope: Locator, page: Page, label: string): Locator {
  return scope.getByRole('treeitem').filter({ has: page.locator('.label-name').getByText(label, { exact: true }) });
}

async function expand(row: Locator): Promise<void> {
  await row.waitFor({ timeout: STEP_TIMEOUT });
  if ((await row.getAttribute('aria-expanded')) === 'false') {
    // The twistie, not the row: a row whose item has a command only runs it on click.
    await row.locator('.monaco-tl-twistie').click();
  }
  await waitForAttribute(row, 'aria-expanded', 'true');
}

async function waitForAttribute(el: Locator, name: string, value: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  while ((await el.getAttribute(name)) !== value) {
    if (Date.now() > deadline) throw new Error(`${name} did not become ${value}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const server = await ctx.startCodeServer({ workspace });
  const page = await ctx.openWorkbench(server, workspace);
  page.setDefaultTimeout(STEP_TIMEOUT);
  const shot = (step: string) => page.screenshot({ path: path.join(ctx.screenshotDir, `e2e-import-${step}.png`) });

  // 1. The Explorer lists outputs/run1 (compact folders are off in the test settings).
  const explorer = page.locator('.explorer-folders-view');
  await expand(treeItem(explorer, page, 'outputs'));
  const run1Folder = treeItem(explorer, page, 'run1');
  await run1Folder.waitFor();
  await shot('1-explorer');

  // 2. Right-click the folder → "Import as Model".
  await run1Folder.click({ button: 'right' });
  const importItem = page.getByRole('menuitem', { name: 'Import as Model' });
  await importItem.waitFor();
  await shot('2-context-menu');
  await importItem.click();

  // 3. A notification says the import finished.
  const done = page.locator('.notifications-toasts, .notifications-center').getByText(/Imported/).first();
  await done.waitFor({ timeout: IMPORT_TIMEOUT });
  ctx.log(`notification: ${(await done.textContent())?.trim()}`);
  // Let the toast finish sliding in before the screenshot.
  await page.locator('.notification-toast.notification-fade-in-done').first().waitFor({ timeout: 5_000 }).catch(() => {});
  await shot('3-imported');

  // 4. The Model Registry view shows model run1 with version v1. Clicking the tab of a container
  //    that is already showing would hide it, so only click when it is not selected.
  const tab = page.getByRole('tab', { name: /Model Registry/ });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await waitForAttribute(tab, 'aria-selected', 'true');
  const sidebar = page.locator('.part.sidebar');
  const model = treeItem(sidebar, page, 'run1');
  await expand(model);
  const version = treeItem(sidebar, page, 'v1');
  await version.waitFor();
  await shot('4-registry');

  // 5. Expanding v1 shows its sections, one level below it.
  await expand(version);
  const level = Number(await version.getAttribute('aria-level'));
  for (const section of ['Files', 'Metrics', 'Source']) {
    const row = treeItem(sidebar, page, section);
    await row.waitFor();
    const l = Number(await row.getAttribute('aria-level'));
    if (l !== level + 1) throw new Error(`"${section}" is at tree level ${l}, expected ${level + 1} (under v1)`);
  }
  await shot('5-version');
}

// Shared by the end-to-end tests: the context the driver passes, and workbench helpers.
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

export const STEP_TIMEOUT = 30_000;

/**
 * A tree row by its visible label. Custom tree views use the tooltip as the accessible name
 * when there is one, so match the label text rather than getByRole's name.
 */
export function treeItem(scope: Locator, page: Page, label: string): Locator {
  return scope.getByRole('treeitem').filter({ has: page.locator('.label-name').getByText(label, { exact: true }) });
}

export async function expand(row: Locator): Promise<void> {
  await row.waitFor({ timeout: STEP_TIMEOUT });
  if ((await row.getAttribute('aria-expanded')) === 'false') {
    // The twistie, not the row: a row whose item has a command only runs it on click.
    await row.locator('.monaco-tl-twistie').click();
  }
  await waitForAttribute(row, 'aria-expanded', 'true');
}

export async function waitForAttribute(el: Locator, name: string, value: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  while ((await el.getAttribute(name)) !== value) {
    if (Date.now() > deadline) throw new Error(`${name} did not become ${value}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


// Shared by the end-to-end tests: the context the driver passes, and workbench helpers.
import { execFileSync } from 'child_process';
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';
import { eventually } from '../helpers/eventually';

export { eventually } from '../helpers/eventually';

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
  startCodeServer(opts: {
    workspace?: string;
    env?: Record<string, string>;
    settings?: Record<string, unknown>;
    /** Workspace Trust on and the folder untrusted (Restricted Mode). */
    restricted?: boolean;
  }): Promise<CodeServer>;
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

/** Runs the built CLI (dist/cli.js) on the workspace's own registry, from the workspace folder. */
export function workspaceCli(ctx: E2eContext, workspace: string) {
  return (...args: string[]): Buffer =>
    execFileSync(
      process.execPath,
      [path.join(ctx.repoRoot, 'dist', 'cli.js'), '--registry', path.join(workspace, '.modelreg'), ...args],
      { cwd: workspace },
    );
}

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

/** The pane titled `title` in a view container (Models, Runs, Deployments…). */
export function pane(container: Locator, page: Page, title: string): Locator {
  return container
    .locator('.pane')
    .filter({ has: page.locator('.pane-header .title').getByText(title, { exact: true }) });
}

/** Opens the pane titled `title` in a view container (Datasets and Team Registry start collapsed). */
export async function expandPane(container: Locator, title: string): Promise<void> {
  const header = container.locator('.pane-header').filter({ hasText: title });
  await header.waitFor({ timeout: STEP_TIMEOUT });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await waitForAttribute(header, 'aria-expanded', 'true');
}

export async function waitForAttribute(el: Locator, name: string, value: string): Promise<void> {
  await eventually(
    async () => {
      if ((await el.getAttribute(name)) !== value) throw new Error(`${name} did not become ${value}`);
    },
    { timeout: STEP_TIMEOUT },
  );
}

/**
 * Numbered steps that end with a screenshot (`e2e-<name>-<n>-<shot>.png`); a failing step names
 * itself in the error.
 */
export function stepper(ctx: E2eContext, page: Page, name: string) {
  return async (n: number, what: string, shot: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      if (e instanceof Error) {
        const message = `step ${n} (${what}): ${e.message}`;
        e.stack = e.stack?.replace(e.message, message);
        e.message = message;
      }
      throw e;
    }
    await page.screenshot({ path: `${ctx.screenshotDir}/e2e-${name}-${n}-${shot}.png` });
  };
}

/**
 * Right-clicks `row` until its context menu shows `item`. Menus are built when they open, so a
 * missing item (contributions not loaded yet) reopens the menu a few times.
 */
export async function openContextMenu(page: Page, row: Locator, item: string): Promise<Locator> {
  const entry = page.getByRole('menuitem', { name: item });
  for (let attempt = 1; ; attempt++) {
    await row.click({ button: 'right' });
    try {
      await entry.waitFor({ timeout: 5_000 });
      return entry;
    } catch (e) {
      if (attempt === 4) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

/** Right-clicks `row` and clicks `item` in its context menu. */
export async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  const entry = await openContextMenu(page, row, item);
  // The menu ignores a click that lands while it is still animating in.
  await entry.hover();
  await page.waitForTimeout(200);
  await entry.click();
}

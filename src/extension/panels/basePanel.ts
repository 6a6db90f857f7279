import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { PageContract } from '../../shared/messages';
import { log, showError } from '../errors';
import { pageHtml } from './pageHtml';

/** Where the page bundles are built; a panel may load nothing else unless it names more roots. */
const distOf = (extensionUri: vscode.Uri) => vscode.Uri.joinPath(extensionUri, 'dist', 'webview');

export interface PanelOptions {
  extensionUri: vscode.Uri;
  /** Folders the page may load from besides dist/webview (say a dataset's images). */
  roots?: vscode.Uri[];
}

/**
 * What every panel shares, host side: the HTML shell with its nonce'd CSP, the ready handshake
 * (nothing is posted before the page listens), the check of every page message against the page's
 * contract, posting, and one disposables list. A panel subclasses it, handles its own messages in
 * `handle`, and posts its data with `post`.
 */
export abstract class BasePanel<FromPage extends { type: string }, ToPage extends { type: string }, State = never>
  implements vscode.Disposable
{
  private readonly disposables: vscode.Disposable[] = [];
  /** Resolves when the page has said it is ready (or the panel is gone); posts wait for it. */
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private pageReady = false;
  protected disposed = false;

  /** A new webview panel for this page, showing nothing yet (the constructor sets its page). */
  protected static createPanel(
    page: PageContract<{ type: string }, unknown>,
    title: string,
    column: vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus?: boolean },
    { extensionUri, roots = [] }: PanelOptions,
    retainContextWhenHidden = false,
  ): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(page.viewType, title, column, {
      enableScripts: true,
      retainContextWhenHidden,
      localResourceRoots: [distOf(extensionUri), ...roots],
    });
  }

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly page: PageContract<FromPage, State>,
    { extensionUri, roots = [] }: PanelOptions,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    // Set here as well as at creation: a panel restored after a reload comes with default options.
    panel.webview.options = { enableScripts: true, localResourceRoots: [distOf(extensionUri), ...roots] };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'registry.svg');
    panel.webview.html = pageHtml(page, {
      cspSource: panel.webview.cspSource,
      dist: panel.webview.asWebviewUri(distOf(extensionUri)).toString(),
      nonce: randomBytes(16).toString('base64'),
    });
    this.track(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => void this.receive(m)),
    );
  }

  /** Disposed with the panel (listeners, timers as `new vscode.Disposable(...)`). */
  protected track(...disposables: vscode.Disposable[]): void {
    if (this.disposed) for (const d of disposables) d.dispose();
    else this.disposables.push(...disposables);
  }

  /** Posts once the page listens; after the panel is gone it posts nothing and resolves false. */
  protected async post(message: ToPage): Promise<boolean> {
    await this.ready;
    if (this.disposed) return false;
    return this.panel.webview.postMessage(message);
  }

  /** The page's contract check; a panel whose checks depend on its data (class counts) overrides it. */
  protected parse(raw: unknown): FromPage | undefined {
    return this.page.parse(raw);
  }

  /** A checked message other than 'ready'. */
  protected abstract handle(message: FromPage): Promise<void>;

  /** The page loaded again (a reload of the webview) and needs the current data once more. */
  protected abstract onPageReloaded(): Promise<void>;

  /** A handler failed; by default the user sees it (and bugs go to the log). */
  protected onHandleError(_message: FromPage, e: unknown): Promise<void> | void {
    showError(`${this.page.title} panel`, e);
  }

  private async receive(raw: unknown): Promise<void> {
    const message = this.parse(raw);
    if (!message) {
      // Never act on it, but say so: a page and its contract out of step is a bug worth seeing.
      log().appendLine(`${new Date().toISOString()} ${this.page.title} panel: ignored a message: ${preview(raw)}`);
      return;
    }
    try {
      if (message.type !== 'ready') return await this.handle(message);
      const again = this.pageReady;
      this.pageReady = true;
      this.markReady();
      if (again) await this.onPageReloaded();
    } catch (e) {
      await this.onHandleError(message, e);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.markReady(); // release posts waiting for a page that is gone
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** Brings a page's panels back after a window reload, from the state the page kept; bad state closes the panel. */
export function registerPanelSerializer<State>(
  page: PageContract<{ type: string }, State>,
  revive: (panel: vscode.WebviewPanel, state: State) => void,
): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(page.viewType, {
    async deserializeWebviewPanel(panel, raw) {
      const state = page.parseState?.(raw);
      if (state === undefined) {
        panel.dispose();
        return;
      }
      revive(panel, state);
    },
  });
}

/** A short, printable picture of a rejected message for the log. */
function preview(raw: unknown): string {
  try {
    return (JSON.stringify(raw) ?? String(raw)).slice(0, 200);
  } catch {
    return typeof raw;
  }
}

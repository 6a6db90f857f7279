import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { showError } from '../errors';
import { RegistryService } from '../registry/registryService';
import { lineageSvg } from './lineageSvg';

/**
 * A version's lineage as a graph: ancestors back to the roots, descendants forward, each with its
 * commit. Click (or Enter) reveals a version in the tree; C opens its commit. Follows registry changes.
 */
export class LineagePanel {
  private static current: LineagePanel | undefined;
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];

  static show(service: RegistryService, ref: string): LineagePanel {
    if (LineagePanel.current) {
      LineagePanel.current.ref = ref;
      LineagePanel.current.panel.reveal();
      void LineagePanel.current.render();
      return LineagePanel.current;
    }
    return (LineagePanel.current = new LineagePanel(service, ref));
  }

  private constructor(
    private readonly service: RegistryService,
    private ref: string,
  ) {
    this.panel = vscode.window.createWebviewPanel('modelRegistry.lineage', 'Lineage', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [],
    });
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      service.onDidChange(() => void this.render()),
      this.panel.webview.onDidReceiveMessage((m: { type: 'reveal' | 'commit'; ref: string }) => this.onMessage(m)),
    );
    void this.render();
  }

  /** The rendered page, for tests. */
  get html(): string {
    return this.panel.webview.html;
  }

  private async onMessage(m: { type: 'reveal' | 'commit'; ref: string }) {
    try {
      const v = await (await this.service.get()).resolve(m.ref);
      if (m.type === 'reveal') await vscode.commands.executeCommand('modelRegistry.revealVersion', v.ref);
      else await vscode.commands.executeCommand('modelRegistry.openCommit', { kind: 'version', version: v });
    } catch (e) {
      showError(`Could not open ${m.ref}`, e);
    }
  }

  private async render(): Promise<void> {
    const nonce = randomBytes(16).toString('base64');
    let body: string;
    try {
      const lineage = await (await this.service.get()).lineage(this.ref);
      this.panel.title = `Lineage: ${this.ref}`;
      body = `${lineage.nodes.length === 1 ? '<p>No clones, conversions or fine-tunes of this version yet, and it was not made from another.</p>' : ''}${lineageSvg(lineage)}${lineage.truncated ? '<p>Only the nearest 200 versions each way are shown.</p>' : ''}`;
    } catch (e) {
      body = `<p>${(e as Error).message.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`;
    }
    this.panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 16px; }
.hint { color: var(--vscode-descriptionForeground); }
.node rect { fill: var(--vscode-editorWidget-background); stroke: var(--vscode-editorWidget-border, var(--vscode-contrastBorder, #888)); }
.node.focus rect { stroke: var(--vscode-focusBorder); stroke-width: 2; }
.node.deleted { opacity: 0.55; }
.node { cursor: pointer; outline: none; }
.node:focus rect, .node:hover rect { fill: var(--vscode-list-hoverBackground); }
.node:focus-visible rect { stroke: var(--vscode-focusBorder); stroke-width: 2; stroke-dasharray: 4 2; }
.ref { font-weight: 600; fill: var(--vscode-foreground); }
.facts, .subject { fill: var(--vscode-descriptionForeground); font-size: 11px; }
.edge { fill: none; stroke: var(--vscode-descriptionForeground); stroke-width: 1.2; }
.edge-label { fill: var(--vscode-descriptionForeground); font-size: 10px; }
</style></head><body>
<p class="hint">Click or press Enter on a version to reveal it in the registry; press C to open its commit.</p>
${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
for (const node of document.querySelectorAll('.node')) {
  const ref = node.getAttribute('data-ref');
  node.addEventListener('click', () => vscode.postMessage({ type: 'reveal', ref }));
  node.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') vscode.postMessage({ type: 'reveal', ref });
    else if (e.key.toLowerCase() === 'c' && node.getAttribute('data-commit')) vscode.postMessage({ type: 'commit', ref });
  });
}
document.querySelector('.node.focus')?.focus();
</script></body></html>`;
  }

  dispose(): void {
    LineagePanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

export function registerLineageCommands(service: RegistryService): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('modelRegistry.showLineage', (n?: { version?: { ref: string } } | string) => {
      const ref = typeof n === 'string' ? n : n?.version?.ref;
      if (ref) return LineagePanel.show(service, ref);
      return undefined;
    }),
  ];
}

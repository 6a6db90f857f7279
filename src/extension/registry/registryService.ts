import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { Registry } from '../../core';

/**
 * Owns the workspace's registry: opens it lazily (a workspace gets a .modelreg folder only when the
 * user imports something), and tells listeners when it changed, here or in another process (CLI).
 */
export class RegistryService implements vscode.Disposable {
  private registry: Promise<Registry> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private debounce: NodeJS.Timeout | undefined;

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/last-change');
    const onStamp = async (uri: vscode.Uri) => {
      if (!this.dir || path.resolve(uri.fsPath) !== path.join(this.dir, 'last-change')) return;
      // This window's own changes already fired (their commands call fireSoon); a second refresh
      // arriving later would only reset the tree under the user (selection, a reveal in progress).
      const stamp = await fs.promises.readFile(uri.fsPath, 'utf8').catch(() => '');
      const own = await this.registry?.then(
        (r) => r.lastStamp === stamp,
        () => false,
      );
      if (!own) this.fireSoon();
    };
    this.disposables.push(
      watcher,
      watcher.onDidChange((uri) => void onStamp(uri)),
      watcher.onDidCreate((uri) => void onStamp(uri)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('modelRegistry.registryPath')) void this.reopen();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reopen()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.reopen()), // the workspace's registryPath applies now
    );
  }

  /** The registry folder for this workspace, or undefined without a folder open. */
  get dir(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    // A restricted setting (package.json): an untrusted workspace cannot move the registry (and what
    // gc sweeps) to `..` or a home folder; only the user's own setting counts until it is trusted.
    const config = vscode.workspace.getConfiguration('modelRegistry', folder.uri);
    const setting =
      (vscode.workspace.isTrusted
        ? config.get<string>('registryPath')
        : config.inspect<string>('registryPath')?.globalValue) || '.modelreg';
    return path.resolve(folder.uri.fsPath, setting);
  }

  /** True when a registry exists on disk (so the tree has something to show). */
  exists(): boolean {
    const dir = this.dir;
    return !!dir && fs.existsSync(path.join(dir, 'registry.db'));
  }

  /** Opens (creating if needed) the registry. Throws with a clear message without a workspace folder. */
  async get(): Promise<Registry> {
    const dir = this.dir;
    if (!dir) throw new Error('Open a folder first: the registry lives in the workspace (.modelreg).');
    if (!this.registry) {
      this.registry = Registry.open(dir);
      this.registry.catch(() => (this.registry = undefined));
    }
    return this.registry;
  }

  /** Called after this process changed the registry; the file watcher covers other processes. */
  fireSoon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.changed.fire();
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    }, 150);
  }

  /** Resolves once a pending refresh has fired (at once when none is pending). */
  settled(): Promise<void> {
    return this.debounce === undefined
      ? Promise.resolve()
      : new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private readonly settledWaiters: (() => void)[] = [];

  private async reopen(): Promise<void> {
    const old = this.registry;
    this.registry = undefined;
    await old?.then((r) => r.close()).catch(() => undefined);
    this.changed.fire();
  }

  dispose(): void {
    clearTimeout(this.debounce);
    void this.registry?.then((r) => r.close()).catch(() => undefined);
    for (const d of this.disposables) d.dispose();
  }
}

import * as vscode from 'vscode';
import {
  FromLineagePage,
  LINEAGE_PAGE,
  LineageGraph,
  LineageState,
  ToLineagePage,
} from '../../shared/lineage/contract';
import { lineageMarkup } from '../../shared/lineage/lineageSvg';
import { showError } from '../errors';
import { BasePanel, registerPanelSerializer } from '../panels/basePanel';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, runCommand } from '../commands/register';
import { CommandTargets } from '../registry/registries';
import { RegistryService } from '../registry/registryService';

/**
 * A version's lineage as a graph: ancestors back to the roots, descendants forward, each with its
 * commit. Click (or Enter) reveals a version in the tree; C opens its commit. Follows registry changes.
 */
export class LineagePanel extends BasePanel<FromLineagePage, ToLineagePage, LineageState> {
  private static current: LineagePanel | undefined;
  /** The last graph posted to the page. */
  private lineage: LineageGraph | undefined;
  private lastMessage: ToLineagePage | undefined;

  static show(service: RegistryService, extensionUri: vscode.Uri, ref: string): LineagePanel {
    if (LineagePanel.current) {
      LineagePanel.current.ref = ref;
      LineagePanel.current.panel.reveal();
      void LineagePanel.current.render();
      return LineagePanel.current;
    }
    const panel = BasePanel.createPanel(LINEAGE_PAGE, 'Lineage', vscode.ViewColumn.Active, { extensionUri });
    return (LineagePanel.current = new LineagePanel(panel, service, extensionUri, ref));
  }

  /** After a window reload, from the ref the page kept. */
  static revive(panel: vscode.WebviewPanel, service: RegistryService, extensionUri: vscode.Uri, ref: string): void {
    LineagePanel.current?.dispose();
    LineagePanel.current = new LineagePanel(panel, service, extensionUri, ref);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    private ref: string,
  ) {
    super(panel, LINEAGE_PAGE, { extensionUri });
    this.track(
      new vscode.Disposable(() => {
        if (LineagePanel.current === this) LineagePanel.current = undefined;
      }),
      service.onDidChange(() => void this.render()),
    );
    void this.render();
  }

  /** For tests: the graph's markup as the page renders it (empty until the graph is posted). */
  get html(): string {
    return this.lineage ? lineageMarkup(this.lineage) : '';
  }

  private async render(): Promise<void> {
    const ref = this.ref;
    let message: ToLineagePage;
    try {
      const lineage = await (await this.service.get()).lineage(ref);
      this.panel.title = `Lineage: ${ref}`;
      message = { type: 'lineage', payload: { ref, lineage } };
    } catch (e) {
      message = { type: 'error', payload: { message: (e as Error).message } };
    }
    if (ref !== this.ref) return; // another version was asked for meanwhile; its render posts
    this.lastMessage = message;
    if (await this.post(message)) this.lineage = message.type === 'lineage' ? message.payload.lineage : undefined;
  }

  protected async onPageReloaded(): Promise<void> {
    if (this.lastMessage) await this.post(this.lastMessage);
  }

  protected async handle(m: FromLineagePage): Promise<void> {
    if (m.type === 'ready') return;
    const v = await (await this.service.get()).resolve(m.payload.ref);
    if (m.type === 'reveal') await runCommand(COMMANDS.revealVersion, v.ref);
    else await runCommand(COMMANDS.openCommit, { ref: v.ref });
  }

  protected override onHandleError(m: FromLineagePage, e: unknown): void {
    showError(`Could not open ${'payload' in m ? m.payload.ref : 'the version'}`, e);
  }
}

export function registerLineageCommands(
  context: vscode.ExtensionContext,
  targets: CommandTargets,
): vscode.Disposable[] {
  const { extensionUri } = context;
  const { service } = targets.registries.local;
  return [
    registerPanelSerializer(LINEAGE_PAGE, (panel, state) =>
      LineagePanel.revive(panel, service, extensionUri, state.ref),
    ),
    registerCommand(COMMANDS.showLineage, async (...args: unknown[]) => {
      // Any row under a version (its Lineage group) shows that version's graph.
      const target = await targets.version(args, { under: true, ask: 'Show Lineage Graph' });
      return target && LineagePanel.show(service, extensionUri, target.version.ref);
    }),
  ];
}

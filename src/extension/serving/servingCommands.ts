import * as vscode from 'vscode';
import { ServerProcess, VersionRecord } from '../../core';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand } from '../commands/register';
import { showError } from '../errors';
import { outputChannel } from '../outputChannels';
import { CommandTargets } from '../registry/registries';
import { DeploymentNode, DeploymentsTreeProvider, isDeployment } from './deploymentsTree';
import { RequestPanel } from './requestPanel';

/** What Deploy Locally… was given instead of asking (tests, keybindings). */
export interface DeployArgs {
  /** The ref to serve as: NAME@vN (pinned) or NAME@ALIAS (follows). Default: ask when the version has aliases. */
  ref?: string;
  port?: number;
  maxBatch?: number;
  batchDelayMs?: number;
}

export interface Serving {
  tree: DeploymentsTreeProvider;
  view: vscode.TreeView<DeploymentNode>;
  /** Deploys without asking (what Deploy Locally… runs once it knows everything). */
  deploy(refs: string[], opts: Omit<DeployArgs, 'ref'>): Promise<ServerProcess>;
}

function settings() {
  const c = vscode.workspace.getConfiguration('modelRegistry');
  return { port: c.get<number>('serve.port') ?? 8000, maxBatch: c.get<number>('serve.maxBatch') ?? 8 };
}

const isDeployArgs = (x: unknown): x is DeployArgs =>
  typeof x === 'object' &&
  x !== null &&
  !('kind' in x) &&
  ['ref', 'port', 'maxBatch', 'batchDelayMs'].some((k) => k in x);

/**
 * Serving from the editor: Deploy Locally… on a version (pinned, or following one of its aliases),
 * the Deployments view with Stop, Restart, Open Logs, Copy URL and the request panel on its rows.
 */
export function registerServing(
  context: vscode.ExtensionContext,
  targets: CommandTargets,
): { serving: Serving; disposables: vscode.Disposable[] } {
  const { service } = targets.registries.local;
  const tree = new DeploymentsTreeProvider();
  const view = vscode.window.createTreeView<DeploymentNode>('modelRegistry.deployments', { treeDataProvider: tree });

  const channelOf = (d: ServerProcess) => outputChannel(`Model Registry: serve ${d.spec.refs.join(' ')} (${d.id})`);

  const start = async (d: ServerProcess) => {
    try {
      await vscode.window.withProgress(
        { location: { viewId: 'modelRegistry.deployments' }, title: `Starting ${d.spec.refs.join(' ')}` },
        () => d.start(),
      );
      void vscode.window.setStatusBarMessage(`$(radio-tower) Serving ${d.spec.refs.join(' ')} on ${d.url}`, 5000);
    } catch (e) {
      const logs = 'Open Logs';
      void vscode.window
        .showErrorMessage(`Could not serve ${d.spec.refs.join(' ')}: ${(e as Error).message}`, logs)
        .then((c) => c === logs && channelOf(d).show());
    }
  };

  const deploy = async (refs: string[], opts: Omit<DeployArgs, 'ref'>): Promise<ServerProcess> => {
    const registryDir = service.dir;
    if (!registryDir) throw new Error('Open a folder first: the registry lives in the workspace (.modelreg).');
    const d = new ServerProcess({ refs, registryDir, port: opts.port ?? settings().port, ...opts });
    const channel = channelOf(d);
    d.on('log', (l: string) => channel.appendLine(l));
    d.on('change', () => {
      if (d.status === 'crashed') {
        const restart = 'Restart';
        void vscode.window
          .showErrorMessage(`The server for ${refs.join(' ')} stopped: ${d.error}`, restart, 'Open Logs')
          .then((c) => (c === restart ? start(d) : c && channel.show()));
      }
    });
    tree.add(d);
    void view.reveal(d, { focus: false, select: true }).then(undefined, () => undefined);
    await start(d);
    return d;
  };

  /** The deployment a command is on: the row (or a model row under it), the selection, or the only one. */
  const deploymentOf = async (args: unknown[], pick: (d: ServerProcess) => boolean, action: string) => {
    const [first] = args;
    if (isDeployment(first)) return first;
    if (typeof first === 'object' && first !== null && 'deployment' in first)
      return (first as { deployment: ServerProcess }).deployment;
    const selected = view.selection.map((n) => (isDeployment(n) ? n : n.deployment)).find(pick);
    if (selected) return selected;
    const choices = tree.deployments.filter(pick);
    if (choices.length <= 1) {
      if (!choices.length) void vscode.window.showInformationMessage(`No deployment to ${action.toLowerCase()}.`);
      return choices[0];
    }
    const picked = await vscode.window.showQuickPick(
      choices.map((d) => ({ label: d.spec.refs.join(' '), description: `${d.status} ${d.url ?? ''}`, d })),
      { title: action, placeHolder: 'Which server?' },
    );
    return picked?.d;
  };

  /** Pinned, or following one of the version's aliases. */
  const askRef = async (v: VersionRecord): Promise<string | undefined> => {
    if (!v.aliases.length) return v.ref;
    const picked = await vscode.window.showQuickPick(
      [
        { label: v.ref, description: 'pinned: always this version', ref: v.ref },
        ...v.aliases.map((a) => ({
          label: `${v.model}@${a}`,
          description: `follows the alias: serves the version it points at, and moves with it`,
          ref: `${v.model}@${a}`,
        })),
      ],
      { title: `Deploy ${v.ref} Locally (1/3)`, placeHolder: 'Serve this version, or follow an alias?' },
    );
    return picked?.ref;
  };

  const askPort = async (v: VersionRecord) => {
    const taken = new Set(
      tree.deployments.filter((d) => d.status === 'ready').map((d) => Number(d.url?.split(':').at(-1))),
    );
    let port = settings().port;
    while (taken.has(port)) port++;
    const text = await vscode.window.showInputBox({
      title: `Deploy ${v.ref} Locally (2/3)`,
      prompt: 'Port on 127.0.0.1 (0: any free port)',
      value: String(port),
      validateInput: (s) => (/^\d+$/.test(s) && Number(s) <= 65535 ? undefined : 'A port number, 0 to 65535'),
    });
    return text === undefined ? undefined : Number(text);
  };

  const askBatching = async (v: VersionRecord) => {
    const max = settings().maxBatch;
    const picked = await vscode.window.showQuickPick(
      [
        {
          label: 'No batching',
          description: 'each request runs on its own (lowest latency for one client)',
          maxBatch: 1,
        },
        {
          label: `Dynamic batching, up to ${max} rows`,
          description: 'requests arriving within 2 ms run as one batch (models with a dynamic batch axis)',
          maxBatch: max,
          batchDelayMs: 2,
        },
      ],
      { title: `Deploy ${v.ref} Locally (3/3)`, placeHolder: 'Batching' },
    );
    return picked;
  };

  const disposables: vscode.Disposable[] = [
    tree,
    view,
    registerCommand(COMMANDS.deployLocally, async (...args: unknown[]) => {
      const given = args.find(isDeployArgs);
      const v = (await targets.version(args, { ask: 'Deploy Locally', offers: /^version\.ready.*\.onnx/ }))?.version;
      if (!v) return undefined;
      try {
        const ref = given?.ref ?? (await askRef(v));
        if (!ref) return undefined;
        const port = given?.port ?? (await askPort(v));
        if (port === undefined) return undefined;
        const batching = given ? { maxBatch: given.maxBatch, batchDelayMs: given.batchDelayMs } : await askBatching(v);
        if (!batching) return undefined;
        return await deploy([ref], { port, maxBatch: batching.maxBatch, batchDelayMs: batching.batchDelayMs });
      } catch (e) {
        showError(`Deploy ${v.ref} Locally`, e);
        return undefined;
      }
    }),
    registerCommand(COMMANDS.stopDeployment, async (...args: unknown[]) => {
      const d = await deploymentOf(args, (x) => x.status === 'ready' || x.status === 'starting', 'Stop');
      if (!d) return;
      await d.stop();
      void vscode.window.setStatusBarMessage(`$(debug-stop) Stopped serving ${d.spec.refs.join(' ')}`, 5000);
    }),
    registerCommand(COMMANDS.restartDeployment, async (...args: unknown[]) => {
      const d = await deploymentOf(args, () => true, 'Restart');
      if (!d) return;
      await d.stop();
      await start(d);
    }),
    registerCommand(COMMANDS.removeDeployment, async (...args: unknown[]) => {
      const d = await deploymentOf(args, (x) => !['ready', 'starting', 'stopping'].includes(x.status), 'Remove');
      if (d) tree.remove(d);
    }),
    registerCommand(COMMANDS.openDeploymentLogs, async (...args: unknown[]) => {
      const d = await deploymentOf(args, () => true, 'Open Logs');
      if (d) channelOf(d).show();
    }),
    registerCommand(COMMANDS.copyDeploymentUrl, async (...args: unknown[]) => {
      const d = await deploymentOf(args, (x) => !!x.url, 'Copy URL');
      if (!d?.url) return;
      await vscode.env.clipboard.writeText(d.url);
      void vscode.window.setStatusBarMessage(`$(check) Copied ${d.url}`, 3000);
    }),
    registerCommand(COMMANDS.openRequestPanel, async (...args: unknown[]) => {
      const [first] = args;
      const d = await deploymentOf(args, (x) => x.status === 'ready', 'Open Request Panel');
      if (!d) return undefined;
      let model =
        typeof first === 'object' && first !== null && 'model' in first
          ? (first as { model: (typeof d.models)[0] }).model
          : undefined;
      if (!model && d.models.length > 1) {
        model = (
          await vscode.window.showQuickPick(
            d.models.map((m) => ({ label: `${m.name} v${m.version}`, description: m.ref, m })),
            { title: 'Open Request Panel', placeHolder: 'Which version?' },
          )
        )?.m;
      }
      model ??= d.models[0];
      return model && RequestPanel.show(service, context.extensionUri, d, model);
    }),
  ];
  return { serving: { tree, view, deploy }, disposables };
}

import * as vscode from 'vscode';
import {
  allProfiles,
  BUILTIN_CONVERTERS,
  convertersFor,
  convertVersion,
  convertWithProfile,
  detectTool,
  FileConverter,
  ParamSpec,
  profileAccepts,
  Registry,
  ToolProfile,
  VersionRecord,
} from '../../core';
import { formatBytes } from '../../shared/format';
import { toolPickItem } from '../../core/convert/profiles';
import { showError } from '../errors';
import { outputChannel } from '../outputChannels';
import { withCancellableProgress } from '../progress';
import { revealVersion } from '../importing/importCommands';
import { CommandTargets } from '../registry/registries';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, runCommand } from '../commands/register';

type Choice = { kind: 'builtin'; converter: FileConverter } | { kind: 'tool'; profile: ToolProfile };

const conversionLog = () => outputChannel('Model Registry: Conversions');

function userProfiles(): ToolProfile[] {
  return allProfiles(
    vscode.workspace.getConfiguration('modelRegistry').get<unknown[]>('convert.profiles') ?? [],
    'setting modelRegistry.convert.profiles',
  );
}

/**
 * "Convert…" on a version: a QuickPick of the built-in converters and tool profiles that apply to its
 * files (tools with whether they are installed), a parameter form, then a cancellable run whose log
 * goes to an output channel. Arguments (to, params) skip the pickers, for tests and keybindings.
 */
export function registerConvertCommands(targets: CommandTargets): vscode.Disposable[] {
  const { service, tree, view } = targets.registries.local;
  return [
    registerCommand(COMMANDS.convertVersion, async (...args: unknown[]) => {
      const v = (await targets.version(args, { ask: 'Convert', offers: /^version\.ready.*\.convertible/ }))?.version;
      if (!v) return undefined;
      const arg = args[1];
      const given =
        typeof arg === 'object' && arg !== null && 'to' in arg
          ? (arg as { to: string; params?: Record<string, string> })
          : undefined;
      try {
        const registry = await service.get();
        const files = await registry.files(v.id);
        const profiles = userProfiles().filter((p) => files.some((f) => profileAccepts(p, f.path)));
        const choice = given
          ? findChoice(given.to, profiles)
          : await pickConverter(v, convertersFor(files, undefined, v.details), profiles);
        if (!choice) return undefined;
        if (choice.kind === 'tool' && !vscode.workspace.isTrusted) {
          const manage = 'Manage Workspace Trust';
          const c = await vscode.window.showErrorMessage(
            `${choice.profile.title} runs an external program; that is only allowed in a trusted workspace.`,
            manage,
          );
          if (c === manage) void vscode.commands.executeCommand('workbench.trust.manage');
          return undefined;
        }
        const specs = choice.kind === 'builtin' ? choice.converter.params : choice.profile.params;
        const title = choice.kind === 'builtin' ? choice.converter.title : choice.profile.title;
        const params = given ? (given.params ?? {}) : await editParams(title, v, specs);
        if (!params) return undefined;
        const derived = await run(registry, v, choice, params);
        if (!derived) return undefined;
        service.fireSoon();
        const c = derived.details.conversion as { sizeBefore: number; sizeAfter: number };
        void vscode.window
          .showInformationMessage(
            `Converted ${v.ref} to ${derived.ref} (${derived.format}, ${formatBytes(c.sizeBefore)} → ${formatBytes(c.sizeAfter)}).`,
            'Compare with Parent',
            'Reveal',
          )
          .then((pick) => {
            if (pick === 'Reveal') void revealVersion(tree, view, derived);
            if (pick === 'Compare with Parent')
              void runCommand(
                COMMANDS.compareVersions,
                undefined,
                [v, derived].map((version) => ({ kind: 'version', version, registry: 'local' })),
              );
          });
        return derived;
      } catch (e) {
        showError(`Could not convert ${v.ref}`, e);
        return undefined;
      }
    }),
  ];
}

function findChoice(id: string, profiles: ToolProfile[]): Choice | undefined {
  const converter = BUILTIN_CONVERTERS.find((c) => c.id === id);
  if (converter) return { kind: 'builtin', converter };
  const profile = profiles.find((p) => p.id === id);
  if (profile) return { kind: 'tool', profile };
  void vscode.window.showErrorMessage(`No converter or tool profile '${id}' applies here.`);
  return undefined;
}

async function pickConverter(
  v: VersionRecord,
  builtins: FileConverter[],
  profiles: ToolProfile[],
): Promise<Choice | undefined> {
  type Item = vscode.QuickPickItem & { choice?: Choice; problem?: string };
  const quick = vscode.window.createQuickPick<Item>();
  quick.title = `Convert ${v.ref} (${v.format ?? 'unknown format'})`;
  quick.placeholder = builtins.length || profiles.length ? 'Pick a converter' : 'Nothing converts this version’s files';
  quick.ignoreFocusOut = true; // kept open when the focus moves: a walkthrough page that started this takes the focus back
  const base: Item[] = [
    { label: 'Built-in', kind: vscode.QuickPickItemKind.Separator },
    ...builtins.map((c) => ({
      label: c.title,
      description: c.id,
      detail: c.description,
      choice: { kind: 'builtin' as const, converter: c },
    })),
    { label: 'Tool chains', kind: vscode.QuickPickItemKind.Separator },
  ];
  // Tool detection runs a program per profile (python3 -c "import torch"…): only in a trusted workspace.
  const trusted = vscode.workspace.isTrusted;
  const toolItems: Item[] = profiles.map((p) => ({
    ...toolPickItem(p, trusted ? 'checking' : 'untrusted'),
    choice: { kind: 'tool' as const, profile: p },
  }));
  quick.items = [...base, ...toolItems];
  quick.busy = trusted && profiles.length > 0;
  // Fill availability in as each answers.
  if (trusted)
    void Promise.all(
      profiles.map(async (p, i) => {
        toolItems[i] = { ...toolPickItem(p, await detectTool(p)), choice: toolItems[i].choice };
        quick.items = [...base, ...toolItems];
      }),
    ).then(() => (quick.busy = false));
  const picked = await new Promise<Item | undefined>((resolve) => {
    quick.onDidAccept(() => resolve(quick.selectedItems[0]));
    quick.onDidHide(() => resolve(undefined));
    quick.show();
  });
  quick.dispose();
  if (picked?.problem) {
    void vscode.window.showErrorMessage(picked.problem);
    return undefined;
  }
  return picked?.choice;
}

/** A small form: each parameter with its value; pick one to change it, or run. */
async function editParams(
  title: string,
  v: VersionRecord,
  specs: ParamSpec[],
): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = Object.fromEntries(specs.map((p) => [p.name, p.default]));
  if (specs.length === 0) return values;
  for (;;) {
    const run = { label: '$(play) Convert', description: `${v.ref} with these parameters` };
    const items = [
      run,
      ...specs.map((p) => ({
        label: `${p.name} = ${values[p.name] === '' ? '(empty)' : values[p.name]}`,
        detail: p.description,
        spec: p,
      })),
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: `${title}: parameters`,
      placeHolder: 'Enter runs; pick a parameter to change it',
      ignoreFocusOut: true, // as the converter pick
    });
    if (!pick) return undefined;
    if (pick === run) return values;
    const spec = (pick as { spec: ParamSpec }).spec;
    const value = spec.choices
      ? (
          await vscode.window.showQuickPick(
            spec.choices.map((c) => ({ label: c === '' ? '(empty)' : c, value: c, picked: c === values[spec.name] })),
            { title: spec.name, placeHolder: spec.description },
          )
        )?.value
      : await vscode.window.showInputBox({ title: spec.name, prompt: spec.description, value: values[spec.name] });
    if (value !== undefined) values[spec.name] = value;
  }
}

async function run(
  registry: Registry,
  v: VersionRecord,
  choice: Choice,
  params: Record<string, string>,
): Promise<VersionRecord | undefined> {
  const out = conversionLog();
  const id = choice.kind === 'builtin' ? choice.converter.id : choice.profile.id;
  out.appendLine(`${new Date().toISOString()} ${v.ref} → ${id} ${JSON.stringify(params)}`);
  if (choice.kind === 'tool') out.show(true);
  return withCancellableProgress(
    `Converting ${v.ref} → ${id}`,
    `Conversion of ${v.ref} cancelled; no version was made.`,
    ({ signal, advance }) => {
      const opts = {
        params,
        signal,
        log: (line: string) => out.appendLine(line),
        onProgress: (done: number, total: number) =>
          advance(done, total, `${formatBytes(done)} of ${formatBytes(total)}`),
      };
      return choice.kind === 'builtin'
        ? convertVersion(registry, v.ref, choice.converter, opts)
        : convertWithProfile(registry, v.ref, choice.profile, opts);
    },
  );
}

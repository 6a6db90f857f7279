import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  checkConfig,
  configFromTemplate,
  configPathIn,
  errorsOf,
  readFolderFiles,
  rankTemplates,
  Template,
} from '../../core';
import { configImporter, currentLanguage } from '../importing/catalog';
import { showError } from '../errors';
import { importAndAnnounce } from '../importing/importCommands';
import { RegistryService } from '../registry/registryService';
import { RegistryTreeProvider } from '../registry/registryTree';
import { TreeNode } from '../registry/treeNodes';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand, setContext } from '../commands/register';

export function isModelConfigText(text: string): boolean {
  return /"\$template"\s*:/.test(text);
}

/**
 * "Import from Template…": template → model folder or files → a generated config.json, opened with
 * the language server's diagnostics → "Import as Model" (CodeLens or editor title) once it is clean.
 */
export function registerTemplateCommands(
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
): vscode.Disposable[] {
  const updateContext = () => {
    const doc = vscode.window.activeTextEditor?.document;
    void setContext('isModelConfig', !!doc && doc.uri.scheme === 'file' && isModelConfigText(doc.getText()));
  };
  updateContext();
  const lenses = new ImportLensProvider();
  return [
    lenses,
    vscode.languages.registerCodeLensProvider(
      [
        { scheme: 'file', language: 'json' },
        { scheme: 'file', language: 'jsonc' },
      ],
      lenses,
    ),
    vscode.window.onDidChangeActiveTextEditor(updateContext),
    vscode.workspace.onDidChangeTextDocument(
      (e) => e.document === vscode.window.activeTextEditor?.document && updateContext(),
    ),

    // Arguments (folder, template id) let tests and other extensions skip the pickers.
    registerCommand(COMMANDS.importFromTemplate, async (target?: vscode.Uri, templateId?: string) => {
      try {
        const language = await currentLanguage();
        // The folder first, so the template that fits it can be offered first.
        const picked = target ? { dir: target.fsPath, files: undefined } : await pickModel(!!templateId);
        if (!picked) return undefined;
        const template =
          typeof templateId === 'string'
            ? language.template(templateId)
            : await pickTemplate(language.catalog.templates, picked.dir, !target);
        if (!template) return undefined;
        const file = configPathIn(picked.dir);
        if (existsSync(file)) {
          const choice = await vscode.window.showWarningMessage(
            `${vscode.workspace.asRelativePath(file)} already exists.`,
            { modal: true },
            'Open It',
            'Replace with Template',
          );
          if (!choice) return undefined;
          if (choice === 'Replace with Template') await fsp.writeFile(file, await configFromTemplate(template, picked));
        } else {
          await fsp.writeFile(file, await configFromTemplate(template, picked));
        }
        const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
        return editor.document.uri;
      } catch (e) {
        showError('Could not create config.json from the template', e);
        return undefined;
      }
    }),

    registerCommand(COMMANDS.importConfig, async (uri?: vscode.Uri) => {
      const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (!doc || doc.uri.scheme !== 'file')
        return void vscode.window.showErrorMessage('Open a model config.json (one with a "$template") to import it.');
      if (doc.isDirty) await doc.save();
      const language = await currentLanguage();
      // The same checks the language server runs, done here so a stale diagnostic cannot let an error through.
      const { diagnostics } = await checkConfig(language, doc.uri.fsPath, doc.getText());
      const errors = errorsOf(diagnostics);
      if (errors.length) {
        const first = errors[0];
        void vscode.window
          .showErrorMessage(
            `${vscode.workspace.asRelativePath(doc.uri)} has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix ${errors.length > 1 ? 'them' : 'it'} to import. Line ${first.range.start.line + 1}: ${first.message}`,
            'Show Problems',
          )
          .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
        return undefined;
      }
      return importAndAnnounce(
        service,
        tree,
        view,
        vscode.Uri.file(path.dirname(doc.uri.fsPath)),
        configImporter(language),
      );
    }),
  ];
}

async function pickTemplate(templates: Template[], dir: string, second: boolean): Promise<Template | undefined> {
  const fits = rankTemplates(templates, await readFolderFiles(dir));
  const folder = path.basename(dir);
  type Item = vscode.QuickPickItem & { template?: Template };
  const items: Item[] = [];
  // The best fit first, under its own heading, when the folder speaks for any template at all.
  const fitting = (fits[0]?.score ?? 0) > 0;
  fits.forEach(({ template: t, because }, i) => {
    const suggested = fitting && i === 0;
    if (suggested) items.push({ label: `suggested for ${folder}`, kind: vscode.QuickPickItemKind.Separator });
    if (fitting && i === 1) items.push({ label: 'other templates', kind: vscode.QuickPickItemKind.Separator });
    items.push({
      label: t.title,
      description: t.builtin ? t.id : `${t.id} · workspace`,
      // What speaks for the suggestion leads its detail line, where it is not cut off.
      detail: [
        suggested ? `Fits ${because.join(', ')}.` : '',
        t.description,
        t.files.length ? `expects ${t.files.map((f) => f.pattern).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' — '),
      template: t,
    });
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: `Import from Template${second ? ' (2/2)' : ''}: pick a template for ${folder}`,
    placeHolder: 'Kind of model',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.template;
}

async function pickModel(last: boolean): Promise<{ dir: string; files?: string[] } | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: true,
    canSelectMany: true,
    openLabel: 'Use as Model',
    title: `Import from Template${last ? '' : ' (1/2)'}: the model folder, or its files`,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  if (!picked?.length) return undefined;
  const stat = await vscode.workspace.fs.stat(picked[0]);
  if (picked.length === 1 && stat.type & vscode.FileType.Directory) return { dir: picked[0].fsPath };
  const dir = path.dirname(picked[0].fsPath);
  if (picked.some((u) => path.dirname(u.fsPath) !== dir))
    throw new Error('pick files from one folder: config.json goes beside them');
  return { dir, files: picked.map((u) => path.basename(u.fsPath)) };
}

/** "Import as Model" above a model config, or the count of errors that stand in the way. */
class ImportLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub = vscode.languages.onDidChangeDiagnostics(() => this.changed.fire());

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isModelConfigText(doc.getText())) return [];
    const range = new vscode.Range(0, 0, 0, 0);
    const errors = vscode.languages
      .getDiagnostics(doc.uri)
      .filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
    if (errors)
      return [
        new vscode.CodeLens(range, {
          title: `$(error) ${errors} error${errors > 1 ? 's' : ''} to fix before import`,
          command: 'workbench.actions.view.problems',
        }),
      ];
    return [
      new vscode.CodeLens(range, {
        title: '$(package) Import as Model',
        command: COMMANDS.importConfig,
        arguments: [doc.uri],
      }),
    ];
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

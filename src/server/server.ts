/**
 * The config.json and modelreg.json language server: schema and semantic diagnostics, completion,
 * hover, symbols, formatting and quick fixes. This file is protocol glue: what to check and how lives in
 * src/core/config and src/core/train/recipeLanguage.ts (the CLI checks through the same code). It runs in its own process; the
 * client restarts it if it dies.
 *
 * What the client can do decides what is registered: settings are pulled per document with
 * `workspace/configuration` when the client offers it (else taken from `didChangeConfiguration`),
 * workspace folders are followed when it sends their changes, and quick fixes are offered when it
 * takes code action literals. Every change of settings, folders or template files goes through
 * `environmentChanged()`, which reloads what depends on it and checks the open documents again.
 */
import * as path from 'path';
import { fileURLToPath } from 'url';
import {
  ClientCapabilities,
  CodeActionKind,
  createConnection,
  Diagnostic,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  InitializeResult,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  WorkspaceFolder,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  ConfigLanguage,
  isModelConfigDocument,
  languageSettings,
  LanguageSettings,
  loadTemplateCatalog,
  quickFixActions,
  storedTemplateId,
  templateDirs,
  templateProblemDiagnostics,
} from '../core/config';
import { isRecipeDocument, RecipeLanguage } from '../core/train/recipeLanguage';
import { CONFIG_SECTION, ConfigInitializationOptions, serverInfoRequest } from '../shared/configProtocol';

/** Template files in any workspace folder (core's USER_TEMPLATES_DIR). */
const TEMPLATE_FILES_GLOB = '**/.modelreg/templates/**';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

/** What the client said it supports, read once in `initialize`. */
let client = {
  /** `workspace/configuration`: settings are pulled per document scope. */
  configuration: false,
  /** `didChangeConfiguration` may be registered dynamically (the pull model's change signal). */
  configurationRegistration: false,
  /** `workspace/didChangeWatchedFiles` may be registered dynamically, with our own globs. */
  watchedFilesRegistration: false,
  /** `workspace/didChangeWorkspaceFolders`. */
  workspaceFolders: false,
  /** Code actions may be returned as `CodeAction` literals (our quick fixes are). */
  codeActionLiterals: false,
};
let syntaxErrors = false;
let folders: string[] = [];
let language: ConfigLanguage | undefined;
/** modelreg.json's language: its schema is built in, so it is loaded once. */
const recipes = RecipeLanguage.load();
/** Template files whose load problems we reported, to clear them once fixed. */
let templateProblemUris: string[] = [];

/** The client's settings without the pull model (sent with `didChangeConfiguration`). */
let pushedSettings = languageSettings(undefined);
/** Settings pulled per document, until the next change: one `workspace/configuration` round trip per document. */
const settingsCache = new Map<string, Promise<LanguageSettings>>();

const pending = new Map<string, NodeJS.Timeout>();
/** The diagnostics last published per document, with their fixes: clients do not always return `data` with a code action request. */
const published = new Map<string, Diagnostic[]>();

function readCapabilities(c: ClientCapabilities): typeof client {
  return {
    configuration: !!c.workspace?.configuration,
    configurationRegistration: !!c.workspace?.didChangeConfiguration?.dynamicRegistration,
    watchedFilesRegistration: !!c.workspace?.didChangeWatchedFiles?.dynamicRegistration,
    workspaceFolders: !!c.workspace?.workspaceFolders,
    codeActionLiterals: !!c.textDocument?.codeAction?.codeActionLiteralSupport,
  };
}

connection.onInitialize((params): InitializeResult => {
  client = readCapabilities(params.capabilities);
  folders = folderPaths(params.workspaceFolders ?? []);
  syntaxErrors = (params.initializationOptions as ConfigInitializationOptions | undefined)?.syntaxErrors === true;
  const result: InitializeResult = {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      // '{' completes placeholders after `${` in modelreg.json; ':' also those after `${param:`.
      completionProvider: { triggerCharacters: ['"', ':', '{'] },
      hoverProvider: true,
      documentSymbolProvider: true,
      documentFormattingProvider: true,
      documentRangeFormattingProvider: true,
    },
  };
  if (client.codeActionLiterals)
    result.capabilities.codeActionProvider = { codeActionKinds: [CodeActionKind.QuickFix] };
  // changeNotifications: the client sends folder changes without a registration from us.
  if (client.workspaceFolders)
    result.capabilities.workspace = { workspaceFolders: { supported: true, changeNotifications: true } };
  return result;
});

connection.onInitialized(() => {
  if (client.configurationRegistration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: CONFIG_SECTION });
  }
  if (client.watchedFilesRegistration) {
    // Template folders of every workspace folder, present or added later.
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: TEMPLATE_FILES_GLOB }],
    });
  }
  if (client.workspaceFolders) {
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      const removed = new Set(folderPaths(e.removed));
      folders = [...folders.filter((f) => !removed.has(f)), ...folderPaths(e.added)];
      void environmentChanged();
    });
  }
  void environmentChanged();
});

connection.onDidChangeConfiguration((change) => {
  // With the pull model the notification only says "something changed"; the settings come per document.
  if (!client.configuration) pushedSettings = languageSettings(change.settings?.[CONFIG_SECTION]);
  void environmentChanged();
});

// Template files changed (the client watches .modelreg/templates): load them again, no reload needed.
connection.onDidChangeWatchedFiles(() => void environmentChanged());

let changes = 0;
/**
 * Settings, workspace folders or template files changed: forget the settings pulled so far, load
 * the templates of the current folders, and check every open document again.
 */
async function environmentChanged() {
  const generation = ++changes;
  settingsCache.clear();
  const catalog = await loadTemplateCatalog({ userDirs: templateDirs(folders) });
  // Writing a template fires several events; only the newest reload saw the final files.
  if (generation !== changes) return;
  language = new ConfigLanguage(catalog);
  const problems = templateProblemDiagnostics(catalog, templateProblemUris);
  for (const [uri, diagnostics] of problems) void connection.sendDiagnostics({ uri, diagnostics });
  templateProblemUris = [...problems].filter(([, d]) => d.length).map(([uri]) => uri);
  for (const doc of documents.all()) void validate(doc);
}

function settingsFor(uri: string): Promise<LanguageSettings> {
  if (!client.configuration) return Promise.resolve(pushedSettings);
  let settings = settingsCache.get(uri);
  if (!settings) {
    settings = connection.workspace
      .getConfiguration({ scopeUri: uri, section: CONFIG_SECTION })
      .then(languageSettings, () => languageSettings(undefined));
    settingsCache.set(uri, settings);
  }
  return settings;
}

async function isModelConfig(doc: TextDocument): Promise<boolean> {
  return isModelConfigDocument(doc.uri, doc.getText(), await settingsFor(doc.uri), folders);
}

async function validate(doc: TextDocument) {
  pending.delete(doc.uri);
  const version = doc.version;
  if (isRecipeDocument(doc.uri)) {
    const diagnostics = await (await recipes).validate(doc, { syntax: syntaxErrors });
    if (documents.get(doc.uri)?.version !== version) return;
    published.set(doc.uri, diagnostics);
    void connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
    return;
  }
  const current = language;
  if (!current) return;
  if (!(await isModelConfig(doc))) {
    if (published.delete(doc.uri)) void connection.sendDiagnostics({ uri: doc.uri, diagnostics: [] });
    return;
  }
  const dir = doc.uri.startsWith('file:') ? path.dirname(fileURLToPath(doc.uri)) : undefined;
  const diagnostics = await current.validate(doc, { dir, syntax: syntaxErrors, templateId: storedTemplateId(doc.uri) });
  // A newer edit or template reload arrived meanwhile: its own validation will report.
  if (documents.get(doc.uri)?.version !== version || language !== current) return;
  published.set(doc.uri, diagnostics);
  void connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
}

const openedVersion = new Map<string, number>();
documents.onDidOpen((e) => {
  openedVersion.set(e.document.uri, e.document.version);
  void validate(e.document);
});
// Typing is debounced; opening is not (the open fires a content change too, skipped here).
documents.onDidChangeContent(async (e) => {
  if (openedVersion.get(e.document.uri) === e.document.version) return;
  const { validationDelay } = await settingsFor(e.document.uri);
  clearTimeout(pending.get(e.document.uri));
  pending.set(
    e.document.uri,
    setTimeout(() => void validate(e.document), validationDelay),
  );
});
documents.onDidClose((e) => {
  openedVersion.delete(e.document.uri);
  settingsCache.delete(e.document.uri);
  clearTimeout(pending.get(e.document.uri));
  pending.delete(e.document.uri);
  if (published.delete(e.document.uri)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

/** The document with its template's language service, when it is a model config (or modelreg.json's). */
async function configDocument(uri: string) {
  const doc = documents.get(uri);
  if (doc && isRecipeDocument(uri)) {
    const recipe = await recipes;
    if (recipe.tooDeep(doc)) return undefined;
    return { doc, json: recipe.parse(doc), service: recipe.service };
  }
  // A too-deep document has its one diagnostic; parsing it for the other features would overflow.
  if (!doc || !language || !(await isModelConfig(doc)) || language.tooDeep(doc)) return undefined;
  const json = language.parse(doc);
  return { doc, json, service: language.resolve(json, storedTemplateId(doc.uri)).service };
}

connection.onCompletion(async ({ textDocument, position, context }) => {
  if (isRecipeDocument(textDocument.uri)) {
    const doc = documents.get(textDocument.uri);
    const recipe = await recipes;
    return doc && !recipe.tooDeep(doc) ? recipe.complete(doc, position) : null;
  }
  // '{' is a trigger for placeholders only; in a config it would open the list at every new object.
  if (context?.triggerCharacter === '{') return null;
  const c = await configDocument(textDocument.uri);
  if (!c || !language) return null;
  const dir = c.doc.uri.startsWith('file:') ? path.dirname(fileURLToPath(c.doc.uri)) : undefined;
  return language.complete(c.doc, position, { dir, templateId: storedTemplateId(c.doc.uri) });
});

connection.onHover(async ({ textDocument, position }) => {
  const c = await configDocument(textDocument.uri);
  return c ? c.service.doHover(c.doc, position, c.json) : null;
});

connection.onDocumentSymbol(async ({ textDocument }) => {
  const c = await configDocument(textDocument.uri);
  return c ? c.service.findDocumentSymbols2(c.doc, c.json) : null;
});

connection.onDocumentFormatting(async ({ textDocument, options }) => {
  const c = await configDocument(textDocument.uri);
  return c ? c.service.format(c.doc, undefined, options) : null;
});

connection.onDocumentRangeFormatting(async ({ textDocument, range, options }) => {
  const c = await configDocument(textDocument.uri);
  return c ? c.service.format(c.doc, range, options) : null;
});

connection.onCodeAction(({ textDocument, context }) =>
  client.codeActionLiterals
    ? quickFixActions(textDocument.uri, context.diagnostics, published.get(textDocument.uri))
    : [],
);

connection.onRequest(serverInfoRequest, () => ({
  pid: process.pid,
  templates: language?.catalog.templates.map((t) => t.id) ?? [],
  problems: language?.catalog.problems.map((p) => p.message) ?? [],
  folders,
}));

function folderPaths(list: WorkspaceFolder[]): string[] {
  return list.filter((f) => f.uri.startsWith('file:')).map((f) => fileURLToPath(f.uri));
}

documents.listen(connection);
connection.listen();

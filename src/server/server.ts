/**
 * The config.json language server: schema and semantic diagnostics, completion, hover, symbols,
 * formatting and quick fixes, all through src/core/config (the CLI validates through the same code).
 * It runs in its own process; the client restarts it if it dies.
 */
import * as path from 'path';
import picomatch from 'picomatch';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  CodeAction,
  CodeActionKind,
  createConnection,
  Diagnostic,
  DiagnosticSeverity,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  ConfigLanguage,
  DIAGNOSTIC_SOURCE,
  loadTemplateCatalog,
  looksLikeModelConfig,
  QuickFix,
  STORED_CONFIG_SCHEME,
  USER_TEMPLATES_DIR,
} from '../core/config';

interface Settings {
  config?: { files?: string[]; validationDelay?: number };
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let language: ConfigLanguage | undefined;
let workspaceRoots: string[] = [];
let associated: (file: string) => boolean = () => false;
let delay = 200;
let syntaxErrors = false;
/** Files with template problems we reported, to clear them once fixed. */
let templateProblemFiles: string[] = [];
const pending = new Map<string, NodeJS.Timeout>();
/** The diagnostics last published per document, with their fixes: clients do not always return `data` with a code action request. */
const published = new Map<string, Diagnostic[]>();

connection.onInitialize((params) => {
  workspaceRoots = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
  syntaxErrors = params.initializationOptions?.syntaxErrors === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['"', ':'] },
      hoverProvider: true,
      documentSymbolProvider: true,
      documentFormattingProvider: true,
      documentRangeFormattingProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
  };
});

connection.onInitialized(() => void reloadTemplates());

connection.onDidChangeConfiguration((change) => {
  const settings = (change.settings?.modelRegistry ?? {}) as Settings;
  const globs = settings.config?.files ?? [];
  const match = globs.length ? picomatch(globs, { dot: true }) : () => false;
  associated = (file) =>
    match(file.split(path.sep).join('/')) ||
    workspaceRoots.some((r) => match(path.relative(r, file).split(path.sep).join('/')));
  delay = settings.config?.validationDelay ?? 200;
  revalidateAll();
});

// Template files changed (the client watches .modelreg/templates): load them again, no reload needed.
connection.onDidChangeWatchedFiles(() => void reloadTemplates());

let reloads = 0;
async function reloadTemplates() {
  const generation = ++reloads;
  const catalog = await loadTemplateCatalog({ userDirs: workspaceRoots.map((r) => path.join(r, USER_TEMPLATES_DIR)) });
  // Writing a template fires several events; only the newest reload saw the final files.
  if (generation !== reloads) return;
  language = new ConfigLanguage(catalog);
  const files = catalog.problems.map((p) => p.file);
  for (const file of new Set([...templateProblemFiles, ...files])) {
    const diagnostics: Diagnostic[] = catalog.problems
      .filter((p) => p.file === file)
      .map((p) => ({
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Error,
        source: DIAGNOSTIC_SOURCE,
        message: `Template not loaded: ${p.problem}`,
      }));
    void connection.sendDiagnostics({ uri: pathToFileURL(file).toString(), diagnostics });
  }
  templateProblemFiles = files;
  revalidateAll();
}

function revalidateAll() {
  for (const doc of documents.all()) void validate(doc);
}

/**
 * A document is a model config when it names a `$template` or has the ModelArts shape
 * (`looksLikeModelConfig`), is a stored version's config, or matches `modelRegistry.config.files`.
 * Other JSON (a Hugging Face config.json, package.json) is left alone.
 */
function isModelConfig(doc: TextDocument): boolean {
  const uri = new URL(doc.uri);
  if (uri.protocol === `${STORED_CONFIG_SCHEME}:`) return true;
  if (looksLikeModelConfig(doc.getText())) return true;
  return uri.protocol === 'file:' && associated(fileURLToPath(doc.uri));
}

function storedTemplateId(doc: TextDocument): string | null {
  const uri = new URL(doc.uri);
  return uri.protocol === `${STORED_CONFIG_SCHEME}:` ? uri.searchParams.get('template') : null;
}

async function validate(doc: TextDocument) {
  pending.delete(doc.uri);
  if (!language) return;
  if (!isModelConfig(doc)) {
    if (published.delete(doc.uri)) void connection.sendDiagnostics({ uri: doc.uri, diagnostics: [] });
    return;
  }
  const version = doc.version;
  const dir = doc.uri.startsWith('file:') ? path.dirname(fileURLToPath(doc.uri)) : undefined;
  const diagnostics = await language.validate(doc, { dir, syntax: syntaxErrors, templateId: storedTemplateId(doc) });
  // A newer edit arrived meanwhile: its own validation will report.
  if (documents.get(doc.uri)?.version !== version) return;
  published.set(doc.uri, diagnostics);
  void connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
}

const openedVersion = new Map<string, number>();
documents.onDidOpen((e) => {
  openedVersion.set(e.document.uri, e.document.version);
  void validate(e.document);
});
// Typing is debounced; opening is not (the open fires a content change too, skipped here).
documents.onDidChangeContent((e) => {
  if (openedVersion.get(e.document.uri) === e.document.version) return;
  clearTimeout(pending.get(e.document.uri));
  pending.set(
    e.document.uri,
    setTimeout(() => void validate(e.document), delay),
  );
});
documents.onDidClose((e) => {
  openedVersion.delete(e.document.uri);
  clearTimeout(pending.get(e.document.uri));
  pending.delete(e.document.uri);
  if (published.delete(e.document.uri)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

/** The document with its template's language service, when it is a model config. */
function configDocument(uri: string) {
  const doc = documents.get(uri);
  // A too-deep document has its one diagnostic; parsing it for the other features would overflow.
  if (!doc || !language || !isModelConfig(doc) || language.tooDeep(doc)) return undefined;
  const json = language.parse(doc);
  return { doc, json, service: language.resolve(json, storedTemplateId(doc)).service };
}

connection.onCompletion(async ({ textDocument, position }) => {
  const c = configDocument(textDocument.uri);
  return c ? c.service.doComplete(c.doc, position, c.json) : null;
});

connection.onHover(async ({ textDocument, position }) => {
  const c = configDocument(textDocument.uri);
  return c ? c.service.doHover(c.doc, position, c.json) : null;
});

connection.onDocumentSymbol(({ textDocument }) => {
  const c = configDocument(textDocument.uri);
  return c ? c.service.findDocumentSymbols2(c.doc, c.json) : null;
});

connection.onDocumentFormatting(({ textDocument, options }) => {
  const c = configDocument(textDocument.uri);
  return c ? c.service.format(c.doc, undefined, options) : null;
});

connection.onDocumentRangeFormatting(({ textDocument, range, options }) => {
  const c = configDocument(textDocument.uri);
  return c ? c.service.format(c.doc, range, options) : null;
});

connection.onCodeAction(({ textDocument, context }) => {
  const actions: CodeAction[] = [];
  for (const d of context.diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE) continue;
    const same = published
      .get(textDocument.uri)
      ?.find((p) => p.code === d.code && p.message === d.message && sameRange(p, d));
    const fixes = ((d.data ?? same?.data) as { fixes?: QuickFix[] } | undefined)?.fixes ?? [];
    for (const fix of fixes) {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: fixes.length === 1,
        edit: { changes: { [textDocument.uri]: fix.edits } },
      });
    }
  }
  return actions;
});

function sameRange(a: Diagnostic, b: Diagnostic): boolean {
  const r = a.range,
    s = b.range;
  return (
    r.start.line === s.start.line &&
    r.start.character === s.start.character &&
    r.end.line === s.end.line &&
    r.end.character === s.end.character
  );
}

// For tests and the status command: which process serves, and what it loaded.
connection.onRequest('modelRegistry/serverInfo', () => ({
  pid: process.pid,
  templates: language?.catalog.templates.map((t) => t.id) ?? [],
  problems: language?.catalog.problems.map((p) => p.message) ?? [],
}));

documents.listen(connection);
connection.listen();

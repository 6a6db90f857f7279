import * as path from 'path';
import picomatch from 'picomatch';
import { fileURLToPath, pathToFileURL } from 'url';
import { promises as fsp } from 'fs';
import {
  CodeAction,
  CodeActionKind,
  CompletionItem,
  CompletionList,
  Diagnostic,
  DiagnosticSeverity,
  getLanguageService,
  JSONDocument,
  JSONSchema,
  LanguageService,
  Position,
  Range,
  TextDocument,
} from 'vscode-json-languageservice';
import { scanJson } from '../util/json';
import { modelTypesOf, QuickFix, semanticChecks } from './checks';
import { BASE_SCHEMA_URI, DocumentTemplate, Template, TemplateCatalog, USER_TEMPLATES_DIR } from './templates';

export const DIAGNOSTIC_SOURCE = 'Model Registry';
/** URI scheme of stored versions' configs (read-only documents; `?template=` carries the recorded template). */
export const STORED_CONFIG_SCHEME = 'modelreg-config';

/**
 * Whether a JSON text is a model config to check: it names a `$template`, or has the ModelArts shape
 * (a `model_algorithm` key or an `apis` array) that people write by hand. A Hugging Face config.json
 * has neither. A cheap text test, so the server can decide before parsing.
 */
export function looksLikeModelConfig(text: string): boolean {
  return /"\$template"\s*:/.test(text) || /"model_algorithm"\s*:/.test(text) || /"apis"\s*:\s*\[/.test(text);
}

export interface ValidateOptions {
  /** Folder the config sits in, for the checks against files beside it; none for stored configs. */
  dir?: string;
  /** Include JSON syntax errors (the CLI wants them; in VS Code its JSON support already shows them). */
  syntax?: boolean;
  /** Template to use when the document names none (a stored version's recorded template). */
  templateId?: string | null;
}

/**
 * config.json as a language: one vscode-json-languageservice per template (so completion and hover
 * follow the document's `$template`), plus the semantic checks. The language server and the CLI
 * both validate through here, so they always agree.
 */
export class ConfigLanguage {
  private readonly services = new Map<string, LanguageService>();
  private readonly schemas = new Map<string, Record<string, unknown>>();
  private readonly parser: LanguageService;

  constructor(readonly catalog: TemplateCatalog) {
    this.schemas.set(BASE_SCHEMA_URI, catalog.baseSchema);
    for (const t of catalog.templates) this.schemas.set(t.schemaUri, t.schema);
    this.parser = this.newService();
  }

  template(id: string): Template | undefined {
    return this.catalog.templates.find((t) => t.id === id);
  }

  parse(doc: TextDocument): JSONDocument {
    return this.parser.parseJSONDocument(doc);
  }

  /** The template a document follows: its `$template`, else the given fallback, else the base schema. */
  resolve(json: JSONDocument, fallbackId?: string | null): DocumentTemplate {
    const root = json.root;
    const prop = root?.type === 'object' ? root.properties.find((p) => p.keyNode.value === '$template') : undefined;
    const idNode = prop?.valueNode?.type === 'string' ? prop.valueNode : undefined;
    const id = idNode ? idNode.value : (fallbackId ?? undefined);
    const template = id === undefined ? undefined : this.template(id);
    return {
      service: this.serviceFor(template),
      template,
      unknownId: id !== undefined && !template ? id : undefined,
      idNode,
    };
  }

  /**
   * Whether the document nests too deeply for the JSON language service (which recurses per level
   * and overflows the stack at a few thousand): then it gets one diagnostic and no other service.
   */
  tooDeep(doc: TextDocument): Diagnostic | undefined {
    return nestingDiagnostic(doc, 'Model configs need only a few levels.');
  }

  async validate(doc: TextDocument, opts: ValidateOptions = {}): Promise<Diagnostic[]> {
    const deep = this.tooDeep(doc);
    if (deep) return [deep];
    const json = this.parse(doc);
    const resolved = this.resolve(json, opts.templateId);
    let diagnostics = await resolved.service.doValidation(doc, json, {
      comments: 'error',
      trailingCommas: 'error',
      schemaValidation: 'error',
      schemaRequest: 'error',
    });
    if (opts.syntax === false) diagnostics = diagnostics.filter((d) => !isSyntaxError(d));
    const schemaProblems = diagnostics.filter((d) => !isSyntaxError(d));
    const semantic = await semanticChecks(doc, json, resolved, { dir: opts.dir, templates: this.catalog.templates });
    // An API schema is checked against the draft-07 meta-schema too (config.schema.json), which
    // points at the keyword itself; Ajv's verdict on the whole schema then says the same thing again.
    diagnostics.push(
      ...semantic.filter(
        (d) => d.code !== 'invalid-api-schema' || !schemaProblems.some((p) => contains(d.range, p.range)),
      ),
    );
    for (const d of diagnostics) d.source = DIAGNOSTIC_SOURCE;
    return diagnostics;
  }

  /**
   * Completion at `position`; in the value of `model_type`, the framework of the weights beside
   * config.json (those `registry.files` declares, else any in `dir`) comes first and preselected.
   */
  async complete(
    doc: TextDocument,
    position: Position,
    opts: { dir?: string; templateId?: string | null } = {},
  ): Promise<CompletionList> {
    const json = this.parse(doc);
    const list = (await this.resolve(json, opts.templateId).service.doComplete(doc, position, json)) ?? {
      isIncomplete: false,
      items: [],
    };
    if (!opts.dir || !inModelTypeValue(doc, json, doc.offsetAt(position))) return list;
    const declared = declaredFiles(json);
    const names = declared.length ? declared : await fsp.readdir(opts.dir).catch(() => [] as string[]);
    const detected = [...new Set(names.flatMap((n) => modelTypesOf(n) ?? []))];
    if (!detected.length) return list;
    const valueOf = (item: CompletionItem) => {
      try {
        return JSON.parse(item.label) as unknown;
      } catch {
        return item.label;
      }
    };
    for (const item of list.items) {
      const rank = detected.indexOf(valueOf(item) as string);
      // Every item gets a sortText: without one the client sorts by label, and '"ONNX"' sorts before '0'.
      item.sortText = rank < 0 ? `1${item.sortText ?? item.label}` : `0${rank}`;
      if (rank < 0) continue;
      item.preselect = rank === 0;
      item.detail = 'the framework of the weights beside config.json';
    }
    return list;
  }

  /** The language service that knows the template's schema (with its defaults offered in completion). */
  serviceFor(template: Template | undefined): LanguageService {
    const key = template?.id ?? '';
    let service = this.services.get(key);
    if (!service) {
      service = this.newService();
      const schema: JSONSchema = template
        ? // The defaults come first so completion inserts them rather than an empty value.
          { allOf: [defaultsSchema(template.defaults) as JSONSchema, { $ref: template.schemaUri }] }
        : { $ref: BASE_SCHEMA_URI };
      service.configure({
        validate: true,
        allowComments: false,
        schemas: [{ uri: `modelreg://effective/${key || 'base'}.json`, fileMatch: ['*'], schema }],
      });
      this.services.set(key, service);
    }
    return service;
  }

  private newService(): LanguageService {
    return getLanguageService({
      schemaRequestService: async (uri) => {
        const schema = this.schemas.get(uri);
        if (!schema)
          throw new Error(`unknown schema ${uri} (only the built-in and template schemas can be referenced)`);
        return JSON.stringify(schema);
      },
    });
  }
}

/**
 * The one diagnostic of a document nested too deeply for the JSON language service (which recurses
 * per level and overflows the stack at a few thousand), or undefined; `hint` says what is normal.
 */
export function nestingDiagnostic(doc: TextDocument, hint: string): Diagnostic | undefined {
  const p = scanJson(doc.getText());
  if (!p) return undefined;
  const at = doc.positionAt(p.offset);
  return {
    range: { start: at, end: { line: at.line, character: at.character + 1 } },
    severity: DiagnosticSeverity.Error,
    source: DIAGNOSTIC_SOURCE,
    code: 'nested-too-deep',
    message: `This document ${p.problem}; it is not checked. ${hint}`,
  };
}

/** Whether `offset` is in the value of the top-level `model_type` (typed or still empty after the colon). */
function inModelTypeValue(doc: TextDocument, json: JSONDocument, offset: number): boolean {
  const root = json.root;
  const prop = root?.type === 'object' ? root.properties.find((p) => p.keyNode.value === 'model_type') : undefined;
  if (prop?.colonOffset === undefined || offset <= prop.colonOffset) return false;
  if (prop.valueNode) return offset <= prop.valueNode.offset + prop.valueNode.length;
  return /^\s*$/.test(doc.getText().slice(prop.colonOffset + 1, offset));
}

/** The files `registry.files` lists, when it does. */
function declaredFiles(json: JSONDocument): string[] {
  const root = json.root;
  const registry =
    root?.type === 'object' ? root.properties.find((p) => p.keyNode.value === 'registry')?.valueNode : undefined;
  const files =
    registry?.type === 'object' ? registry.properties.find((p) => p.keyNode.value === 'files')?.valueNode : undefined;
  return files?.type === 'array' ? files.items.flatMap((i) => (i.type === 'string' ? [i.value] : [])) : [];
}

function contains(outer: Range, inner: Range): boolean {
  const before = (a: Position, b: Position) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(outer.start, inner.start) && before(inner.end, outer.end);
}

/** JSON syntax problems (parse errors, comments, trailing commas, duplicate keys), by their jsonls codes. */
export function isSyntaxError(d: Diagnostic): boolean {
  return typeof d.code === 'number' && d.code >= 0x100 && d.code < 0x300;
}

/** A schema that only carries `default`s, so completion proposes the template's values. */
function defaultsSchema(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { default: value };
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) properties[k] = defaultsSchema(v);
  return { default: value, properties };
}

// ---- What the language server decides, kept here so server.ts is only protocol glue. ----

/** The `modelRegistry` settings the language server uses, as they apply to one document. */
export interface LanguageSettings {
  /** Globs (absolute, or relative to a workspace folder) of JSON files checked without a `$template`. */
  files: string[];
  /** Milliseconds after typing stops before a document is checked again. */
  validationDelay: number;
}

/** The settings in a `modelRegistry` section as the client sent it, with package.json's defaults. */
export function languageSettings(section: unknown): LanguageSettings {
  const config = (section as { config?: { files?: unknown; validationDelay?: unknown } } | null | undefined)?.config;
  const files = Array.isArray(config?.files) ? config.files.filter((f): f is string => typeof f === 'string') : [];
  const delay = config?.validationDelay;
  return { files, validationDelay: typeof delay === 'number' && delay >= 0 ? delay : 200 };
}

/** The template folders of the workspace folders, in order (a later folder's template with the same id wins). */
export function templateDirs(folders: string[]): string[] {
  return folders.map((f) => path.join(f, USER_TEMPLATES_DIR));
}

/**
 * A document is a model config when it is a stored version's config, names a `$template` or has
 * the ModelArts shape (`looksLikeModelConfig`), or its file matches `modelRegistry.config.files`
 * (as an absolute path or relative to one of the workspace `folders`). Other JSON (a Hugging Face
 * config.json, package.json) is left alone.
 */
export function isModelConfigDocument(
  uri: string,
  text: string,
  settings: LanguageSettings,
  folders: string[],
): boolean {
  const url = new URL(uri);
  if (url.protocol === `${STORED_CONFIG_SCHEME}:`) return true;
  if (looksLikeModelConfig(text)) return true;
  if (url.protocol !== 'file:' || !settings.files.length) return false;
  const file = fileURLToPath(uri);
  const match = picomatch(settings.files, { dot: true });
  const slashed = (p: string) => p.split(path.sep).join('/');
  return match(slashed(file)) || folders.some((f) => match(slashed(path.relative(f, file))));
}

/** The template recorded for a stored version's config (its URI's `?template=`), else null. */
export function storedTemplateId(uri: string): string | null {
  const url = new URL(uri);
  return url.protocol === `${STORED_CONFIG_SCHEME}:` ? url.searchParams.get('template') : null;
}

/**
 * One diagnostic per template that failed to load, by the template file's URI; the files in
 * `reportedBefore` that load now get an empty list, so their old problems are cleared.
 */
export function templateProblemDiagnostics(
  catalog: TemplateCatalog,
  reportedBefore: string[],
): Map<string, Diagnostic[]> {
  const byUri = new Map<string, Diagnostic[]>(reportedBefore.map((uri) => [uri, []]));
  for (const p of catalog.problems) {
    const uri = pathToFileURL(p.file).toString();
    byUri.set(uri, [
      ...(byUri.get(uri) ?? []),
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Error,
        source: DIAGNOSTIC_SOURCE,
        message: `Template not loaded: ${p.problem}`,
      },
    ]);
  }
  return byUri;
}

/**
 * The quick fixes for the diagnostics a code action request names. Their fixes travel in `data`;
 * clients do not always send `data` back, so the diagnostics last `published` are the fallback.
 */
export function quickFixActions(uri: string, diagnostics: Diagnostic[], published: Diagnostic[] = []): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE) continue;
    const same = published.find((p) => p.code === d.code && p.message === d.message && sameRange(p, d));
    const fixes = ((d.data ?? same?.data) as { fixes?: QuickFix[] } | undefined)?.fixes ?? [];
    for (const fix of fixes) {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: fixes.length === 1,
        edit: { changes: { [uri]: fix.edits } },
      });
    }
  }
  return actions;
}

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

import {
  Diagnostic,
  DiagnosticSeverity,
  getLanguageService,
  JSONDocument,
  JSONSchema,
  LanguageService,
  TextDocument,
} from 'vscode-json-languageservice';
import { scanJson } from '../util/json';
import { semanticChecks } from './checks';
import { BASE_SCHEMA_URI, DocumentTemplate, Template, TemplateCatalog } from './templates';

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
    const p = scanJson(doc.getText());
    if (!p) return undefined;
    const at = doc.positionAt(p.offset);
    return {
      range: { start: at, end: { line: at.line, character: at.character + 1 } },
      severity: DiagnosticSeverity.Error,
      source: DIAGNOSTIC_SOURCE,
      code: 'nested-too-deep',
      message: `This document ${p.problem}; it is not checked. Model configs need only a few levels.`,
    };
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
    diagnostics.push(
      ...(await semanticChecks(doc, json, resolved, { dir: opts.dir, templates: this.catalog.templates })),
    );
    for (const d of diagnostics) d.source = DIAGNOSTIC_SOURCE;
    return diagnostics;
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

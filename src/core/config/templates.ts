import Ajv from 'ajv';
import type { LanguageService, StringASTNode } from 'vscode-json-languageservice';
import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { parseJsonBounded } from '../util/json';
import { readRegularText } from '../util/readFile';

/** Base schema's id; template schemas `$ref` it. */
export const BASE_SCHEMA_URI = 'modelreg://schemas/config.schema.json';

export interface TemplateFile {
  /** picomatch glob matched against file names beside config.json. */
  pattern: string;
  description: string;
  required: boolean;
}

export interface Template {
  id: string;
  title: string;
  description: string;
  task: string;
  files: TemplateFile[];
  /** A config.json body without `$template` and `registry`. */
  defaults: Record<string, unknown>;
  /** The template's schema (refines the base through `$ref`), or the base itself. */
  schema: Record<string, unknown>;
  schemaUri: string;
  folder: string;
  builtin: boolean;
}

/** What a document's `$template` resolves to (made by language.ts, read by the checks in checks.ts). */
export interface DocumentTemplate {
  service: LanguageService;
  template?: Template;
  /** The `$template` value when it names no known template. */
  unknownId?: string;
  idNode?: StringASTNode;
}

export interface TemplateCatalog {
  baseSchema: Record<string, unknown>;
  templates: Template[];
  /** Templates that could not be loaded; the others still are. */
  problems: InputError[];
}

/** The folder holding config.schema.json and templates/, found from wherever this code was bundled or compiled. */
export function builtinSchemasDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'schemas');
    if (existsSync(path.join(candidate, 'config.schema.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`schemas/config.schema.json not found above ${__dirname}`);
  }
}

/** Where users keep their own templates, relative to a workspace folder. */
export const USER_TEMPLATES_DIR = path.join('.modelreg', 'templates');

/**
 * Loads the built-in templates and then each user folder's; a user template with a built-in's id
 * replaces it, so a team can tighten a built-in. A broken template is reported and skipped.
 */
export async function loadTemplateCatalog(
  opts: { schemasDir?: string; userDirs?: string[] } = {},
): Promise<TemplateCatalog> {
  const schemasDir = opts.schemasDir ?? builtinSchemasDir();
  const baseFile = path.join(schemasDir, 'config.schema.json');
  const baseSchema = await readJsonObject(baseFile);
  const byId = new Map<string, Template>();
  const problems: InputError[] = [];
  const sources = [
    { dir: path.join(schemasDir, 'templates'), builtin: true },
    ...(opts.userDirs ?? []).map((dir) => ({ dir, builtin: false })),
  ];
  for (const { dir, builtin } of sources) {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      try {
        const t = await loadTemplate(path.join(dir, e.name), builtin, baseSchema);
        byId.set(t.id, t);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        problems.push(err);
      }
    }
  }
  return { baseSchema, templates: [...byId.values()], problems };
}

async function loadTemplate(folder: string, builtin: boolean, baseSchema: Record<string, unknown>): Promise<Template> {
  const file = path.join(folder, 'template.json');
  if (!existsSync(file)) throw new InputError(file, 'missing: a template folder needs a template.json');
  const t = await readJsonObject(file);
  const id = t.id ?? path.basename(folder);
  const bad = (problem: string) => new InputError(file, problem);
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id))
    throw bad(`"id" must be lowercase letters, digits, '.', '_' or '-' (got ${JSON.stringify(id)})`);
  if (typeof t.title !== 'string' || !t.title) throw bad('"title" must be a non-empty string');
  if (t.defaults !== undefined && !isObject(t.defaults)) throw bad('"defaults" must be an object (a config.json body)');
  const files = t.files ?? [];
  if (!Array.isArray(files) || !files.every((f) => isObject(f) && typeof f.pattern === 'string'))
    throw bad('"files" must be a list of {"pattern", "description", "required"}');

  const schemaFile = path.join(folder, 'schema.json');
  let schema = baseSchema;
  if (existsSync(schemaFile)) {
    schema = await readJsonObject(schemaFile);
    const ajv = new Ajv({ strict: false, validateSchema: true });
    if (!ajv.validateSchema(schema))
      throw new InputError(schemaFile, `not a valid JSON Schema: ${ajv.errorsText(ajv.errors)}`);
    // Each template gets its own URI; a copied $id would collide with the template it came from.
    schema = { ...schema };
    delete schema.$id;
  }
  return {
    id,
    title: t.title,
    description: typeof t.description === 'string' ? t.description : '',
    task: typeof t.task === 'string' ? t.task : '',
    files: files.map((f: Record<string, unknown>) => ({
      pattern: f.pattern as string,
      description: String(f.description ?? ''),
      required: f.required === true,
    })),
    defaults: (t.defaults as Record<string, unknown>) ?? {},
    schema,
    schemaUri: schema === baseSchema ? BASE_SCHEMA_URI : `modelreg://templates/${id}/schema.json`,
    folder,
    builtin,
  };
}

/** Templates and schemas are hand-written; one this big is a mistake. */
const MAX_TEMPLATE_FILE_BYTES = 16 * 1024 * 1024;

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  // A regular file only (a FIFO would block), bounded in size and depth (defaults and schemas are
  // walked recursively by the language service and Ajv).
  const value = parseJsonBounded(await readRegularText(file, { maxBytes: MAX_TEMPLATE_FILE_BYTES }), file);
  if (!isObject(value)) throw new InputError(file, 'must hold a JSON object');
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * modelreg.json as a language, for the config language server: schema diagnostics, completion and
 * hover from schemas/modelreg.schema.json, plus recipe.ts's own checks of placeholders (the ones a
 * schema cannot express), so the editor refuses a recipe with the words `modelreg train` uses.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import {
  ASTNode,
  CompletionItem,
  CompletionItemKind,
  CompletionList,
  Diagnostic,
  DiagnosticSeverity,
  getLanguageService,
  JSONDocument,
  LanguageService,
  Position,
  TextDocument,
} from 'vscode-json-languageservice';
import { DIAGNOSTIC_SOURCE, isSyntaxError, nestingDiagnostic } from '../config/language';
import { builtinSchemasDir } from '../config/templates';
import { parseJsonBounded } from '../util/json';
import { readRegularText } from '../util/readFile';
import { checkRecipes, RECIPE_FILE } from './recipe';

export const RECIPE_SCHEMA_URI = 'modelreg://schemas/modelreg.schema.json';

/** Whether a document is a workspace's recipe file: a file named modelreg.json. */
export function isRecipeDocument(uri: string): boolean {
  const url = new URL(uri);
  return url.protocol === 'file:' && path.posix.basename(url.pathname) === RECIPE_FILE;
}

/** Keys whose strings may hold placeholders, and which ones (recipe.ts decides the same per key). */
const PLACEHOLDER_KEYS: Record<string, { base: boolean; output: boolean }> = {
  command: { base: false, output: true },
  baseArgs: { base: true, output: true },
  env: { base: false, output: true },
  output: { base: false, output: false },
};

export class RecipeLanguage {
  readonly service: LanguageService;

  /** The language with the built-in schema (schemas/modelreg.schema.json). */
  static async load(schemasDir = builtinSchemasDir()): Promise<RecipeLanguage> {
    const file = path.join(schemasDir, 'modelreg.schema.json');
    return new RecipeLanguage(parseJsonBounded(await readRegularText(file, { maxBytes: 1024 * 1024 }), file));
  }

  constructor(schema: unknown) {
    this.service = getLanguageService({
      schemaRequestService: async (uri) => {
        if (uri !== RECIPE_SCHEMA_URI) throw new Error(`unknown schema ${uri} (modelreg.json has only its own)`);
        return JSON.stringify(schema);
      },
    });
    this.service.configure({
      validate: true,
      allowComments: false,
      schemas: [{ uri: RECIPE_SCHEMA_URI, fileMatch: ['*'] }],
    });
  }

  parse(doc: TextDocument): JSONDocument {
    return this.service.parseJSONDocument(doc);
  }

  tooDeep(doc: TextDocument): Diagnostic | undefined {
    return nestingDiagnostic(doc, 'A recipe file needs only a few levels.');
  }

  /** Schema problems and recipe.ts's placeholder checks; JSON syntax errors only with `syntax`. */
  async validate(doc: TextDocument, opts: { syntax?: boolean } = {}): Promise<Diagnostic[]> {
    const deep = this.tooDeep(doc);
    if (deep) return [deep];
    const json = this.parse(doc);
    let diagnostics = await this.service.doValidation(doc, json, {
      comments: 'error',
      trailingCommas: 'error',
      schemaValidation: 'error',
      schemaRequest: 'error',
    });
    if (opts.syntax === false) diagnostics = diagnostics.filter((d) => !isSyntaxError(d));
    if (json.root) {
      // The schema reports the shape (missing command, unknown keys, types) in its words; the rest is recipe.ts's.
      for (const p of checkRecipes(valueOf(json.root)).problems) {
        if (p.code === 'shape') continue;
        const node = nodeAt(json.root, p.path) ?? json.root;
        let start = node.offset;
        let end = node.offset + node.length;
        // Point at the placeholder itself when the string holds it as written (no escapes in between).
        const within = p.placeholder ? doc.getText().slice(start, end).indexOf(p.placeholder) : -1;
        if (within >= 0) {
          start += within;
          end = start + p.placeholder!.length;
        }
        diagnostics.push({
          range: { start: doc.positionAt(start), end: doc.positionAt(end) },
          severity: DiagnosticSeverity.Error,
          code: p.code,
          message: p.message,
        });
      }
    }
    for (const d of diagnostics) d.source = DIAGNOSTIC_SOURCE;
    return diagnostics;
  }

  /** validate() for a file on disk, with syntax errors (`modelreg validate`). */
  validateFile(file: string, text: string): Promise<Diagnostic[]> {
    return this.validate(TextDocument.create(pathToFileURL(file).toString(), 'json', 1, text), { syntax: true });
  }

  /** In a string that may hold placeholders, after `${`: the placeholders (after `${param:`, the recipe's params); else the schema's completion. */
  async complete(doc: TextDocument, position: Position): Promise<CompletionList> {
    const json = this.parse(doc);
    const placeholders = placeholderCompletion(doc, json, doc.offsetAt(position));
    if (placeholders) return { isIncomplete: false, items: placeholders };
    return (await this.service.doComplete(doc, position, json)) ?? { isIncomplete: false, items: [] };
  }
}

function placeholderCompletion(doc: TextDocument, json: JSONDocument, offset: number): CompletionItem[] | undefined {
  const node = json.getNodeFromOffset(offset, true);
  if (node?.type !== 'string' || offset <= node.offset) return undefined;
  const where = pathOf(node);
  // ['train', recipe, key, ...]: a command or baseArgs item, an env value, or output itself.
  const key = where[2];
  if (where[0] !== 'train' || typeof key !== 'string' || !PLACEHOLDER_KEYS[key]) return undefined;
  // An env key (a string too) has the path of its object, so it is left out here.
  if (where.length !== (key === 'output' ? 3 : 4)) return undefined;
  const typed = /\$\{([^}"]*)$/.exec(doc.getText().slice(node.offset + 1, offset));
  if (!typed) return undefined;
  const partial = typed[1];
  const closed = doc.getText().charAt(offset) === '}';
  const edit = (from: number, text: string) => ({
    range: { start: doc.positionAt(from), end: doc.positionAt(offset) },
    newText: closed ? text : `${text}}`,
  });
  if (partial.startsWith('param:')) {
    const params = nodeAt(json.root!, ['train', where[1], 'params']);
    const names = params?.type === 'object' ? params.properties.map((p) => p.keyNode.value) : [];
    return names.map((name) => ({
      label: name,
      kind: CompletionItemKind.Variable,
      detail: `\${param:${name}}: the parameter after -p and --sweep`,
      textEdit: edit(offset - partial.length + 'param:'.length, name),
    }));
  }
  const allowed = PLACEHOLDER_KEYS[key];
  const from = offset - partial.length;
  const items: CompletionItem[] = [];
  if (allowed.output) items.push({ label: 'output', detail: "${output}: the run's output folder" });
  items.push({ label: 'run', detail: '${run}: the run id' });
  if (allowed.base) items.push({ label: 'base', detail: "${base}: a read-only folder with the base version's files" });
  for (const item of items) {
    item.kind = CompletionItemKind.Variable;
    item.textEdit = edit(from, item.label);
  }
  items.push({
    label: 'param:',
    kind: CompletionItemKind.Variable,
    detail: '${param:NAME}: a parameter of the recipe',
    textEdit: { range: edit(from, '').range, newText: 'param:' },
    command: { title: 'Parameters', command: 'editor.action.triggerSuggest' },
  });
  return items;
}

/** The node at a JSON path (keys and indexes), if the document has one there. */
function nodeAt(root: ASTNode, where: (string | number)[]): ASTNode | undefined {
  let node: ASTNode | undefined = root;
  for (const step of where) {
    if (node?.type === 'object') node = node.properties.find((p) => p.keyNode.value === step)?.valueNode;
    else if (node?.type === 'array' && typeof step === 'number') node = node.items[step];
    else return undefined;
  }
  return node;
}

/** The JSON path of a node, from the root. */
function pathOf(node: ASTNode): (string | number)[] {
  const out: (string | number)[] = [];
  for (let n: ASTNode = node; n.parent; n = n.parent) {
    const parent: ASTNode = n.parent;
    if (parent.type === 'property') {
      if (parent.valueNode === n) out.unshift(parent.keyNode.value);
    } else if (parent.type === 'array') out.unshift(parent.items.indexOf(n));
  }
  return out;
}

/** The plain value of a parsed document (depth already bounded by tooDeep); a key given twice keeps its last value, as JSON.parse does. */
function valueOf(node: ASTNode): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries(
        node.properties.filter((p) => p.valueNode).map((p) => [p.keyNode.value, valueOf(p.valueNode!)]),
      );
    case 'array':
      return node.items.map(valueOf);
    default:
      return node.value;
  }
}

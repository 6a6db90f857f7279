import Ajv from 'ajv';
import { promises as fsp } from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import {
  ArrayASTNode,
  ASTNode,
  Diagnostic,
  DiagnosticSeverity,
  JSONDocument,
  ObjectASTNode,
  Range,
  TextDocument,
  TextEdit,
} from 'vscode-json-languageservice';
import type { DocumentTemplate, Template } from './templates';
import { withArticle } from '../util/article';

/** A quick fix carried in a diagnostic's `data`, so the server can offer it without recomputing. */
export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

export type ConfigCheck =
  | 'not-an-object'
  | 'missing-file'
  | 'template-files'
  | 'model-type-mismatch'
  | 'invalid-api-schema'
  | 'duplicate-package'
  | 'metric-range'
  | 'unknown-template';

interface CheckContext {
  dir?: string;
  templates: Template[];
}

/** Which `model_type`s can load a weights file, by extension; ambiguous ones (.bin, .safetensors, .ckpt) are left out. */
const TYPES_BY_EXTENSION: Record<string, string[]> = {
  '.onnx': ['ONNX'],
  '.pt': ['PyTorch'],
  '.pth': ['PyTorch'],
  '.pb': ['TensorFlow'],
  '.h5': ['TensorFlow'],
  '.hdf5': ['TensorFlow'],
  '.keras': ['TensorFlow'],
  '.tflite': ['TensorFlow'],
  '.mindir': ['MindSpore'],
  '.air': ['MindSpore'],
  '.caffemodel': ['Caffe'],
  '.params': ['MXNet'],
  '.pkl': ['Scikit_Learn', 'XGBoost'],
  '.joblib': ['Scikit_Learn'],
  '.xgb': ['XGBoost'],
  '.ubj': ['XGBoost'],
};

/** The model types that can load a file, judged by its extension; undefined when it does not tell. */
export function modelTypesOf(file: string): string[] | undefined {
  return TYPES_BY_EXTENSION[path.extname(file).toLowerCase()];
}

/** Metrics that are proportions; other keys (loss, mAP as a percentage…) may take any value. */
const PROPORTIONS = new Set(['accuracy', 'precision', 'recall', 'f1']);

/** Checks the schema cannot express: against the files beside the config, and between values. */
export async function semanticChecks(
  doc: TextDocument,
  json: JSONDocument,
  resolved: DocumentTemplate,
  ctx: CheckContext,
): Promise<Diagnostic[]> {
  const root = json.root;
  if (!root)
    return [
      {
        range: { start: doc.positionAt(0), end: doc.positionAt(doc.getText().length) },
        code: 'not-an-object',
        message: 'config.json is empty; it must hold a JSON object such as { "model_type": "ONNX" }.',
        severity: DiagnosticSeverity.Error,
      },
    ];
  if (root.type !== 'object') return [];
  const out: Diagnostic[] = [];
  const report = (
    node: ASTNode,
    code: ConfigCheck,
    message: string,
    severity: DiagnosticSeverity,
    fixes: QuickFix[] = [],
  ) => out.push({ range: rangeOf(doc, node), code, message, severity, ...(fixes.length ? { data: { fixes } } : {}) });

  if (resolved.unknownId !== undefined && resolved.idNode) {
    const close = closest(
      resolved.unknownId,
      ctx.templates.map((t) => t.id),
    );
    report(
      resolved.idNode,
      'unknown-template',
      `Unknown template "${resolved.unknownId}". Known templates: ${ctx.templates.map((t) => t.id).join(', ') || 'none'}.`,
      DiagnosticSeverity.Error,
      close.map((id) => ({ title: `Use template "${id}"`, edits: [replaceWith(doc, resolved.idNode!, id)] })),
    );
  }

  checkMetrics(root, report, doc);
  checkPackages(root, report, doc);
  checkApiSchemas(doc, root, report);
  if (ctx.dir) await checkFiles(doc, root, resolved, ctx.dir, report);
  return out;
}

type Report = (
  node: ASTNode,
  code: ConfigCheck,
  message: string,
  severity: DiagnosticSeverity,
  fixes?: QuickFix[],
) => void;

function checkMetrics(root: ObjectASTNode, report: Report, doc: TextDocument) {
  const metrics = child(root, 'metrics');
  if (metrics?.type !== 'object') return;
  for (const p of metrics.properties) {
    const v = p.valueNode;
    if (!PROPORTIONS.has(p.keyNode.value) || v?.type !== 'number' || (v.value >= 0 && v.value <= 1)) continue;
    const fixes =
      v.value > 1 && v.value <= 100
        ? [
            {
              title: `Write ${p.keyNode.value} as a proportion: ${v.value / 100}`,
              edits: [TextEdit.replace(rangeOf(doc, v), String(Number((v.value / 100).toPrecision(12))))],
            },
          ]
        : [];
    report(
      v,
      'metric-range',
      `metrics.${p.keyNode.value} is ${v.value}, but it is a proportion and must lie between 0 and 1${fixes.length ? ' (a percentage?)' : ''}.`,
      DiagnosticSeverity.Error,
      fixes,
    );
  }
}

function checkPackages(root: ObjectASTNode, report: Report, doc: TextDocument) {
  const deps = child(root, 'dependencies');
  if (deps?.type !== 'array') return;
  for (const dep of deps.items) {
    if (dep.type !== 'object') continue;
    const installer = stringValue(child(dep, 'installer')) ?? 'pip';
    const packages = child(dep, 'packages');
    if (packages?.type !== 'array') continue;
    const seen = new Map<string, number>();
    packages.items.forEach((pkg, i) => {
      const nameNode = pkg.type === 'object' ? child(pkg, 'package_name') : undefined;
      const name = stringValue(nameNode);
      if (!nameNode || !name) return;
      // PEP 503: names differing only in case or in '-', '_', '.' runs are the same package.
      const key = name.toLowerCase().replace(/[-_.]+/g, '-');
      const first = seen.get(key);
      if (first === undefined) return void seen.set(key, i);
      const at = doc.positionAt(packages.items[first].offset).line + 1;
      report(
        nameNode,
        'duplicate-package',
        `The ${installer} package "${name}" is listed twice (first on line ${at}); the installer would get conflicting requirements.`,
        DiagnosticSeverity.Warning,
        [{ title: `Remove the second "${name}"`, edits: [removeArrayItem(doc, packages, i)] }],
      );
    });
  }
}

// Only checks that API schemas are schemas; it never validates data against them, so "format" is an
// annotation here (OpenAPI's "binary" for file uploads, "int32"…). Validating formats would only log
// 'unknown format "binary" ignored' to the language server's output channel for our own templates.
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
/** Schema text → problem (or '' when fine); the same API schemas come back on every keystroke. */
const schemaVerdicts = new Map<string, string>();

function checkApiSchemas(doc: TextDocument, root: ObjectASTNode, report: Report) {
  const apis = child(root, 'apis');
  if (apis?.type !== 'array') return;
  apis.items.forEach((api, i) => {
    if (api.type !== 'object') return;
    for (const side of ['request', 'response'] as const) {
      const part = child(api, side);
      const data = part?.type === 'object' ? child(part, 'data') : undefined;
      if (data?.type !== 'object') continue;
      const problem = schemaProblem(doc.getText(rangeOf(doc, data)));
      if (problem)
        report(
          data,
          'invalid-api-schema',
          `apis[${i}].${side}.data is not a valid JSON Schema: ${problem}.`,
          DiagnosticSeverity.Error,
        );
    }
  });
}

function schemaProblem(text: string): string {
  let verdict = schemaVerdicts.get(text);
  if (verdict === undefined) {
    let schema: object;
    try {
      schema = JSON.parse(text);
    } catch {
      return ''; // a syntax error, reported as such
    }
    if (!ajv.validateSchema(schema)) verdict = ajv.errorsText(ajv.errors, { dataVar: 'schema' });
    else {
      try {
        ajv.compile(schema); // unresolvable $ref, bad regex pattern…
        verdict = '';
      } catch (e) {
        verdict = (e as Error).message;
      }
    }
    if (schemaVerdicts.size > 500) schemaVerdicts.clear();
    schemaVerdicts.set(text, verdict);
  }
  return verdict;
}

async function checkFiles(
  doc: TextDocument,
  root: ObjectASTNode,
  resolved: DocumentTemplate,
  dir: string,
  report: Report,
) {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const weightNames = names.filter((n) => modelTypesOf(n) || /\.(safetensors|bin|ckpt|gguf|om)$/i.test(n));

  const declaredNode = (() => {
    const reg = child(root, 'registry');
    const files = reg?.type === 'object' ? child(reg, 'files') : undefined;
    return files?.type === 'array' ? files : undefined;
  })();
  const declared: string[] = [];
  for (const item of declaredNode?.items ?? []) {
    const rel = stringValue(item);
    if (rel === undefined) continue;
    declared.push(rel);
    if (await exists(path.resolve(dir, rel))) continue;
    const candidates = weightNames
      .filter((n) => !declared.includes(n) && !declaredNode!.items.some((i) => stringValue(i) === n))
      .slice(0, 3);
    report(
      item,
      'missing-file',
      `The model file "${rel}" does not exist beside config.json (in ${dir}).`,
      DiagnosticSeverity.Error,
      candidates.map((n) => ({ title: `Use "${n}"`, edits: [replaceWith(doc, item, n)] })),
    );
  }

  const template = resolved.template;
  for (const f of template?.files ?? []) {
    if (!f.required) continue;
    const matches = matcher(f.pattern);
    if (names.some((n) => matches(n))) continue;
    report(
      resolved.idNode ?? root,
      'template-files',
      `Template "${template!.id}" expects ${f.description || 'a file'} (${f.pattern}) beside config.json; there is none in ${dir}.`,
      DiagnosticSeverity.Warning,
    );
  }

  const typeNode = child(root, 'model_type');
  const modelType = stringValue(typeNode);
  if (!typeNode || !modelType || !Object.values(TYPES_BY_EXTENSION).some((types) => types.includes(modelType))) return;
  const evidence = (declared.length ? declared.map((d) => path.basename(d)) : weightNames).filter((n) =>
    modelTypesOf(n),
  );
  if (!evidence.length || evidence.some((n) => modelTypesOf(n)!.includes(modelType))) return;
  const suggested = modelTypesOf(evidence[0])!;
  report(
    typeNode,
    'model-type-mismatch',
    `model_type is "${modelType}", but the model file ${evidence[0]} is ${withArticle(suggested.join(' or '))} model.`,
    DiagnosticSeverity.Error,
    suggested.map((t) => ({ title: `Change model_type to "${t}"`, edits: [replaceWith(doc, typeNode, t)] })),
  );
}

function child(node: ASTNode, key: string): ASTNode | undefined {
  return node.type === 'object' ? node.properties.find((p) => p.keyNode.value === key)?.valueNode : undefined;
}

function stringValue(node: ASTNode | undefined): string | undefined {
  return node?.type === 'string' ? node.value : undefined;
}

function rangeOf(doc: TextDocument, node: ASTNode): Range {
  return { start: doc.positionAt(node.offset), end: doc.positionAt(node.offset + node.length) };
}

function replaceWith(doc: TextDocument, node: ASTNode, value: string): TextEdit {
  return TextEdit.replace(rangeOf(doc, node), JSON.stringify(value));
}

/** Deletes item i with the comma before it (the first item takes the comma after it). */
function removeArrayItem(doc: TextDocument, array: ArrayASTNode, i: number): TextEdit {
  const item = array.items[i];
  const start = i > 0 ? array.items[i - 1].offset + array.items[i - 1].length : item.offset;
  const end = i > 0 || array.items.length === 1 ? item.offset + item.length : array.items[1].offset;
  return TextEdit.del({ start: doc.positionAt(start), end: doc.positionAt(end) });
}

/** Compiling a glob costs more than the rest of the file checks; templates' patterns come back on every keystroke. */
const matchers = new Map<string, (name: string) => boolean>();
function matcher(pattern: string): (name: string) => boolean {
  let m = matchers.get(pattern);
  if (!m) matchers.set(pattern, (m = picomatch(pattern, { nocase: true })));
  return m;
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}

/** Ids within a small edit distance (typos), closest first. */
function closest(word: string, ids: string[]): string[] {
  return ids
    .map((id) => ({ id, d: editDistance(word.toLowerCase(), id) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(x.id.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.id);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

import { RegistryError } from '../errors';
import type { SqlValue } from './db';

/**
 * The registry's search language, one syntax for the tree's filter, the command palette and
 * `modelreg search`. Terms are ANDed:
 *   word            model name contains it, or a model or version tag equals it
 *   name:resnet     model name contains
 *   tag:baseline    model or version tag
 *   alias:production (or @production)
 *   format:onnx     stored format
 *   commit:3f2a9c   git commit prefix
 *   accuracy>0.9    final metric comparison (> >= < <= = !=), key matched exactly
 *   archived:yes    include archived versions (hidden otherwise)
 * Values with spaces go in quotes: tag:"needs review".
 */
export interface SearchQuery {
  text: string;
  /** SQL over `versions v JOIN models m`, with its parameters. */
  where: string;
  params: SqlValue[];
  includeArchived: boolean;
  /** A term looked up in an index (metric, alias, tag, commit): the matches are few, find them first. */
  indexed: boolean;
  /** What a model must satisfy to have a matching version, over `models m` alone: rejects most models without touching their versions. */
  modelWhere: string;
  modelParams: SqlValue[];
}

const NUMBER = '-?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?';
const COMPARE = `([^\\s<>=!:"]+)\\s*(>=|<=|!=|=|>|<)\\s*(${NUMBER})`;
// A metric comparison is one term even with spaces around its operator (val_acc >0.8, val_acc > 0.8).
const TOKEN = new RegExp(`(?:[^\\s"]+:)?"[^"]*"|${COMPARE}(?![^\\s"])|\\S+`, 'gi');
const METRIC = new RegExp(`^${COMPARE}$`, 'i');
const OPERATORS: Record<string, string> = { '>': '>', '>=': '>=', '<': '<', '<=': '<=', '=': '=', '!=': '<>' };

export function parseSearch(text: string): SearchQuery {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  const modelClauses: string[] = [];
  const modelParams: SqlValue[] = [];
  let includeArchived = false;
  const tokens = text.match(TOKEN) ?? [];
  // A metric comparison alone is looked up in its index (key, final_value). Next to a term that
  // narrows the candidates far more (an alias, a tag, a commit), it is cheaper checked per candidate.
  const narrowed = tokens.some((t) => /^(@|alias:|tag:|commit:)/i.test(t));
  for (const token of tokens) {
    const metric = METRIC.exec(token);
    if (metric) {
      const op = OPERATORS[metric[2]];
      clauses.push(
        narrowed
          ? `EXISTS (SELECT 1 FROM metrics x WHERE x.version_id = v.id AND x.key = ? AND x.final_value ${op} ?)`
          : `v.id IN (SELECT version_id FROM metrics WHERE key = ? AND final_value ${op} ?)`,
      );
      params.push(metric[1], Number(metric[3]));
      continue;
    }
    const colon = token.startsWith('"') ? -1 : token.indexOf(':');
    const field = colon > 0 ? token.slice(0, colon).toLowerCase() : token.startsWith('@') ? 'alias' : '';
    const value = unquote(colon > 0 ? token.slice(colon + 1) : token.startsWith('@') ? token.slice(1) : token);
    if (!value) throw new RegistryError(`search: '${token}' has no value`);
    switch (field) {
      case '':
        clauses.push(`(m.name LIKE ? ESCAPE '\\' OR ${TAGGED})`);
        params.push(contains(value), value, value);
        modelClauses.push(`(m.name LIKE ? ESCAPE '\\' OR ${MODEL_TAGGED})`);
        modelParams.push(contains(value), value, value);
        break;
      case 'name':
      case 'model':
        clauses.push(`m.name LIKE ? ESCAPE '\\'`);
        params.push(contains(value));
        modelClauses.push(`m.name LIKE ? ESCAPE '\\'`);
        modelParams.push(contains(value));
        break;
      case 'tag':
        clauses.push(TAGGED);
        params.push(value, value);
        break;
      case 'alias':
        clauses.push('v.id IN (SELECT version_id FROM aliases WHERE alias = ?)');
        params.push(value);
        break;
      case 'format':
        clauses.push('v.format = ?');
        params.push(value.toLowerCase());
        break;
      case 'commit':
        if (!/^[0-9a-f]{1,64}$/i.test(value))
          throw new RegistryError(`search: commit:${value} is not a commit id (hex digits)`);
        // A range on the indexed column, not LIKE, so the index answers it.
        clauses.push('v.git_commit >= ? AND v.git_commit < ?');
        params.push(value.toLowerCase(), `${value.toLowerCase()}~`);
        break;
      case 'archived':
        if (!/^(yes|true|only|no|false)$/i.test(value))
          throw new RegistryError(`search: archived:${value} — use archived:yes, archived:only or archived:no`);
        includeArchived = !/^(no|false)$/i.test(value);
        if (/^only$/i.test(value)) clauses.push('v.archived_at IS NOT NULL');
        break;
      default:
        throw new RegistryError(
          `search: unknown field '${field}:' in '${token}' (use name:, tag:, alias:, format:, commit:, archived: or a metric comparison such as accuracy>0.9)`,
        );
    }
  }
  const indexed = narrowed || tokens.some((t) => METRIC.test(t));
  return {
    text,
    where: clauses.join(' AND ') || 'TRUE',
    params,
    includeArchived,
    indexed,
    modelWhere: modelClauses.join(' AND ') || 'TRUE',
    modelParams,
  };
}

// Terms are `IN (subquery)` on indexed columns rather than correlated EXISTS: SQLite computes each
// set once from its index and can drive the query from the most selective one (bench/registry.mjs).
const TAGGED =
  '(v.id IN (SELECT version_id FROM version_tags WHERE tag = ?) OR v.model_id IN (SELECT model_id FROM model_tags WHERE tag = ?))';
const MODEL_TAGGED =
  '(m.id IN (SELECT model_id FROM model_tags WHERE tag = ?) OR m.id IN (SELECT tv.model_id FROM version_tags t JOIN versions tv ON tv.id = t.version_id WHERE t.tag = ?))';

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function contains(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// ---- Why a search matched nothing, and an example that matches something ----

export interface MetricTerm {
  key: string;
  op: string;
  value: number;
}

/** The metric comparisons of a search, as parseSearch reads them. */
export function metricTerms(text: string): MetricTerm[] {
  return (text.match(TOKEN) ?? []).flatMap((t) => {
    const m = METRIC.exec(t);
    return m ? [{ key: m[1], op: m[2], value: Number(m[3]) }] : [];
  });
}

/** A metric's lowest and highest final value among the versions a search could show, with the versions holding them. */
export interface MetricRange {
  key: string;
  lowest: { value: number; ref: string };
  highest: { value: number; ref: string };
}

const show = (v: number) => String(Number(v.toPrecision(4)));

/**
 * The tree's message for a search that matched nothing: a metric term naming no metric (with the
 * nearest names there are), or one no value passes (with the best value there is); otherwise the
 * plain "No versions match". `keys` are the metric names in use, `ranges` those of the searched keys.
 */
export function explainNoMatch(text: string, keys: string[], ranges: MetricRange[]): string {
  const none = `No versions match "${text.trim()}"`;
  for (const t of metricTerms(text)) {
    const range = ranges.find((r) => r.key === t.key);
    if (!range) {
      const near = nearestNames(
        t.key,
        keys.filter((k) => k !== t.key),
      );
      return `${none}: no metric is named ${t.key}${near.length ? `; known metrics: ${near.join(', ')}` : ' (no version has metrics)'}`;
    }
    const { lowest: lo, highest: hi } = range;
    const passes = (x: number) => compare(x, t.op, t.value);
    if (t.op === '>' || t.op === '>=') {
      if (!passes(hi.value))
        return `${none}: no ${t.key} is ${t.op} ${show(t.value)}; the highest is ${show(hi.value)} (${hi.ref})`;
    } else if (t.op === '<' || t.op === '<=') {
      if (!passes(lo.value))
        return `${none}: no ${t.key} is ${t.op} ${show(t.value)}; the lowest is ${show(lo.value)} (${lo.ref})`;
    } else if (t.op === '!=') {
      if (lo.value === t.value && hi.value === t.value) return `${none}: every ${t.key} is ${show(t.value)}`;
    } else if (t.value < lo.value || t.value > hi.value) {
      return `${none}: no ${t.key} is ${show(t.value)}; values run from ${show(lo.value)} to ${show(hi.value)}`;
    }
  }
  return none;
}

function compare(x: number, op: string, v: number): boolean {
  return op === '>'
    ? x > v
    : op === '>='
      ? x >= v
      : op === '<'
        ? x < v
        : op === '<='
          ? x <= v
          : op === '='
            ? x === v
            : x !== v;
}

/**
 * Up to three names close to `name` (containing it, contained in it, or a few edits away), closest
 * first; when none is close, the three nearest anyway, so a mistyped name still shows what exists.
 */
export function nearestNames(name: string, names: string[], count = 3): string[] {
  const n = name.toLowerCase();
  const scored = names.map((k) => {
    const l = k.toLowerCase();
    const edits = editDistance(n, l);
    return { k, close: l.includes(n) || n.includes(l) || edits <= Math.max(2, Math.floor(n.length / 3)), edits };
  });
  scored.sort((a, b) => Number(b.close) - Number(a.close) || a.edits - b.edits || a.k.localeCompare(b.k));
  const close = scored.filter((x) => x.close);
  return (close.length ? close : scored).slice(0, count).map((x) => x.k);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

const HIGHER_IS_BETTER = /acc|f1|auc|map|precision|recall|top\d|bleu|rouge|iou|r2|score/i;
const LOWER_IS_BETTER = /loss|err|perplexity|ppl|mse|mae|rmse|wer|cer/i;

/**
 * A metric comparison that matches some version of this registry, for the filter's placeholder: a
 * quality metric (accuracy-like above a round value under its best, loss-like below one above its
 * lowest), else the first metric there is; undefined when no version has metrics.
 */
export function exampleComparison(ranges: MetricRange[]): string | undefined {
  const pick =
    ranges.find((r) => HIGHER_IS_BETTER.test(r.key)) ?? ranges.find((r) => LOWER_IS_BETTER.test(r.key)) ?? ranges[0];
  if (!pick) return undefined;
  if (LOWER_IS_BETTER.test(pick.key) && !HIGHER_IS_BETTER.test(pick.key)) {
    const v = round(pick.lowest.value, Math.ceil);
    return `${pick.key}${v > pick.lowest.value ? '<' : '<='}${show(v)}`;
  }
  const v = round(pick.highest.value, Math.floor);
  return `${pick.key}${v < pick.highest.value ? '>' : '>='}${show(v)}`;
}

/** `v` rounded to its first significant digit (0.934 → 0.9, 45.2 → 40) in the direction given. */
function round(v: number, dir: (x: number) => number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const unit = 10 ** Math.floor(Math.log10(Math.abs(v)));
  return Number((dir(v / unit) * unit).toPrecision(12));
}

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

const TOKEN = /(?:[^\s"]+:)?"[^"]*"|\S+/g;
const METRIC = /^([^\s<>=!:"]+)(>=|<=|!=|=|>|<)(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i;
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

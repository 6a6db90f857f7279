import type { ComparisonModel } from '../../shared/compare/contract';

/** The final-metrics table (with deltas against a baseline) and the parameter diff as CSV. */
export function comparisonCsv(model: ComparisonModel, baselineVersionId: number): string {
  const b = baselineIndex(model, baselineVersionId);
  const refs = model.versions.map((v) => v.ref);
  const rows: string[][] = [['section', 'key', ...refs, ...refs.map((r) => `delta ${r} vs ${refs[b]}`)]];
  for (const m of model.metrics) {
    rows.push(['metric', m.key, ...m.values.map(num), ...m.values.map((v) => num(delta(v, m.values[b])))]);
  }
  for (const p of model.params) rows.push(['param', p.key, ...p.values.map((v) => v ?? ''), ...refs.map(() => '')]);
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** The same comparison as a Markdown document: summary, metrics with best values in bold, differing params. */
export function comparisonMarkdown(model: ComparisonModel, baselineVersionId: number): string {
  const b = baselineIndex(model, baselineVersionId);
  const refs = model.versions.map((v) => v.ref);
  const lines = [`# Comparison of ${refs.join(', ')}`, '', `Baseline: ${refs[b]}`, ''];
  lines.push(row(['', ...refs]), row(['---', ...refs.map(() => '---')]));
  lines.push(row(['format', ...model.versions.map((v) => v.format ?? '—')]));
  lines.push(
    row([
      'commit',
      ...model.versions.map((v) =>
        v.git ? `\`${v.git.shortCommit}\`${v.git.dirty ? ' (dirty)' : ''} ${v.git.subject}` : '—',
      ),
    ]),
  );
  lines.push('', '## Final metrics', '', row(['metric', ...refs]), row(['---', ...refs.map(() => '---:')]));
  for (const m of model.metrics) {
    const cells = m.values.map((v, i) => {
      if (v === null) return '—';
      const d = i === b ? '' : ` (${signed(delta(v, m.values[b]))})`;
      return m.best.includes(i) ? `**${v}**${d}` : `${v}${d}`;
    });
    lines.push(row([`${m.key}${m.direction === 'lower' ? ' ↓' : m.direction === 'higher' ? ' ↑' : ''}`, ...cells]));
  }
  const differing = model.params.filter((p) => p.differs);
  if (differing.length) {
    lines.push(
      '',
      '## Parameters that differ',
      '',
      row(['parameter', ...refs]),
      row(['---', ...refs.map(() => '---')]),
    );
    for (const p of differing) lines.push(row([p.key, ...p.values.map((v) => (v === null ? '—' : `\`${v}\``))]));
  }
  return lines.join('\n') + '\n';
}

function baselineIndex(model: ComparisonModel, id: number): number {
  return Math.max(
    0,
    model.versions.findIndex((v) => v.id === id),
  );
}

function delta(v: number | null, base: number | null): number | null {
  return v === null || base === null ? null : v - base;
}

const num = (v: number | null) => (v === null ? '' : String(v));
const signed = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${Number(v.toPrecision(4))}`);
const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

function csvCell(s: string): string {
  // Quote when needed; a leading =,+,-,@ would run as a formula when the CSV is opened in a spreadsheet.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

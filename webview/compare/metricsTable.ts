import type { ComparisonModel, Direction, Goal, MetricRow } from '../../src/shared/compare/contract';
import { baselineIndex, type Context } from './context';
import { custom, el } from '../shared/dom';
import { badge, empty, formatNumber, section, signed, swatch } from './widgets';

const ARROW: Record<string, string> = { lower: '↓', higher: '↑', none: '–', unknown: '?' };

/** The direction a click on the indicator sets: through the other way, then back to the guess. */
export function nextDirection(row: MetricRow): Direction | null {
  if (row.directionOverridden) return row.direction === 'lower' ? 'higher' : null;
  return row.direction === 'lower' ? 'higher' : 'lower';
}

/** Final value per metric and version, with the best highlighted and deltas against the baseline. */
export class MetricsSection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly filter: HTMLElement & { value: string };

  constructor(private readonly ctx: Context) {
    const s = section('Final metrics', 'metrics');
    this.root = s.root;
    this.body = s.body;
    this.filter = custom('vscode-textfield', {
      attrs: { placeholder: 'Filter metrics', 'aria-label': 'Filter metrics by key' },
    });
    this.filter.addEventListener('input', () => {
      ctx.ui.metricFilter = this.filter.value;
      this.render();
    });
    s.controls.append(this.filter);
  }

  update(_model: ComparisonModel): void {
    if (this.filter.value !== this.ctx.ui.metricFilter) this.filter.value = this.ctx.ui.metricFilter;
    this.render();
  }

  render(): void {
    const model = this.ctx.model();
    if (!model) return;
    if (model.metrics.length === 0) {
      this.body.replaceChildren(
        empty(
          model.versions.every((v) => v.conversion)
            ? 'These versions are conversions: their metrics are those of their parents.'
            : 'No metric logs in these versions.',
        ),
      );
      return;
    }
    const ui = this.ctx.ui;
    const b = baselineIndex(model, ui);
    const needle = ui.metricFilter.trim().toLowerCase();
    const rows = model.metrics.filter((m) => m.key.toLowerCase().includes(needle));
    this.sort(rows, model);
    const noMetrics = model.versions.map((_, i) => model.metrics.every((m) => m.values[i] === null));

    const head = el(
      'tr',
      {},
      this.sortHeader('Metric', 'key', 'key'),
      el('th', {
        text: 'Better',
        attrs: { scope: 'col' },
        title: 'Which way is better; click a row’s arrow to change it',
      }),
      ...model.versions.map((v, i) =>
        this.sortHeader(
          v.ref,
          v.id,
          `value of ${v.ref}`,
          swatch(v.color),
          i === b && badge('baseline', 'baseline'),
          // A training run's values are its latest, not final: say so where they are read.
          !!v.live && badge(v.live.running ? 'latest' : 'ended', v.live.running ? 'running' : 'ended'),
          noMetrics[i] &&
            el('span', {
              class: 'muted small no-metrics',
              // A conversion keeps its parent's metric log; its own training metrics were never measured.
              text: v.conversion ? ' metrics of the parent (conversion)' : ' no metrics',
              title: v.conversion?.from ? `See ${v.conversion.from}` : '',
            }),
        ),
      ),
    );
    const body = rows.map((m) =>
      el(
        'tr',
        { attrs: { 'data-key': m.key } },
        el('th', { class: 'key', text: m.key, attrs: { scope: 'row' } }),
        el('td', { class: 'dir' }, this.directionButton(m)),
        ...m.values.map((v, i) => this.valueCell(m, v, i, b)),
      ),
    );
    const table = el('table', { class: 'grid metrics metrics-table' }, el('thead', {}, head), el('tbody', {}, ...body));
    const note = rows.length === 0 ? empty(`No metric matches “${ui.metricFilter}”.`) : null;
    this.body.replaceChildren(el('div', { class: 'table-scroll' }, table), ...(note ? [note] : []));
  }

  private sort(rows: MetricRow[], model: ComparisonModel): void {
    const { by, descending } = this.ctx.ui.metricSort;
    const sign = descending ? -1 : 1;
    if (by === 'key') {
      rows.sort((a, b) => sign * a.key.localeCompare(b.key));
      return;
    }
    const i = model.versions.findIndex((v) => v.id === by);
    if (i < 0) return;
    // Missing values go last whichever way the column is sorted.
    rows.sort((a, b) => {
      const x = a.values[i];
      const y = b.values[i];
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return sign * (x - y);
    });
  }

  private sortHeader(
    label: string,
    by: 'key' | number,
    what: string,
    prefix?: Node,
    ...suffix: (Node | false)[]
  ): HTMLElement {
    const sort = this.ctx.ui.metricSort;
    const active = sort.by === by;
    const mark = el('span', {
      class: 'sort-mark',
      text: active ? (sort.descending ? ' ▼' : ' ▲') : '',
      attrs: { 'aria-hidden': 'true' },
    });
    const button = el('button', { class: 'sort', title: `Sort by ${what}` }, prefix, label, mark);
    button.addEventListener('click', () => {
      this.ctx.ui.metricSort = { by, descending: active ? !sort.descending : false };
      this.render();
      // The table was rebuilt: keep keyboard focus on the header that was used.
      this.body.querySelector<HTMLElement>(`th[data-sort="${String(by)}"] button`)?.focus();
    });
    const ariaSort = active ? (sort.descending ? 'descending' : 'ascending') : 'none';
    return el('th', { attrs: { scope: 'col', 'data-sort': String(by), 'aria-sort': ariaSort } }, button, ...suffix);
  }

  private directionButton(m: MetricRow): HTMLElement {
    const dir = m.direction ?? 'unknown';
    const what =
      m.direction === 'lower'
        ? 'Lower is better'
        : m.direction === 'higher'
          ? 'Higher is better'
          : m.direction === 'none'
            ? 'Not a result (a setting or counter such as the learning rate or epoch)'
            : 'Direction unknown';
    const origin = m.directionOverridden
      ? 'set by you'
      : m.direction === 'none'
        ? 'no best value is marked'
        : m.direction
          ? 'guessed from the name'
          : 'no best value is marked';
    const next = nextDirection(m);
    const nextText =
      next === 'lower' ? 'lower is better' : next === 'higher' ? 'higher is better' : 'the automatic guess';
    const button = el('button', {
      class: `direction ${dir}${m.directionOverridden ? ' overridden' : ''}`,
      text: ARROW[dir],
      title: `${what} (${origin}). Click to set: ${nextText}.`,
      attrs: { 'aria-label': `${m.key}: ${what}, ${origin}. Activate to set ${nextText}.` },
    });
    button.addEventListener('click', () => {
      button.disabled = true; // the extension answers with a new comparison, which re-renders the row
      setTimeout(() => (button.disabled = false), 5000); // in case it never does
      this.ctx.post({ type: 'setDirection', payload: { key: m.key, direction: next } });
    });
    return button;
  }

  private valueCell(m: MetricRow, v: number | null, i: number, b: number): HTMLElement {
    if (v === null) return el('td', { class: 'num missing', text: '—', attrs: { 'aria-label': 'missing' } });
    const best = m.best.includes(i);
    const td = el(
      'td',
      { class: `num${best ? ' best' : ''}`, title: String(v) },
      el('span', { class: 'value', text: formatNumber(v) }),
    );
    if (best) td.append(el('span', { class: 'best-mark', text: ' ★', title: 'Best', attrs: { 'aria-label': 'best' } }));
    const base = m.values[b];
    if (i !== b && base !== null) td.append(this.delta(v, base, m.direction));
    return td;
  }

  private delta(v: number, base: number, direction: Goal): HTMLElement {
    const d = v - base;
    const pct = base !== 0 ? (d / Math.abs(base)) * 100 : null;
    const quality =
      d === 0 || (direction !== 'lower' && direction !== 'higher')
        ? 'neutral'
        : d < 0 === (direction === 'lower')
          ? 'better'
          : 'worse';
    const text =
      d === 0
        ? '±0'
        : `${signed(d)}${pct !== null && Number.isFinite(pct) ? ` (${signed(pct, `${Math.abs(pct) < 10 ? pct.toFixed(1) : Math.round(pct)}`)}%)` : ''}`;
    return el('div', {
      class: `delta ${quality}`,
      text,
      title: `${quality === 'neutral' ? 'Difference' : quality === 'better' ? 'Better' : 'Worse'} than the baseline`,
    });
  }
}

import type { EvaluationView, PageMessage } from '../../src/shared/evaluation/contract';
import { formatMetric } from '../../src/shared/format';
import { button, el } from '../shared/dom';

type SortKey = 'class' | 'support' | 'precision' | 'recall' | 'f1';
const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'class', label: 'Class' },
  { key: 'support', label: 'Support' },
  { key: 'precision', label: 'Precision' },
  { key: 'recall', label: 'Recall' },
  { key: 'f1', label: 'F1' },
];

/** Per-class metrics with a class's false positives / negatives one click away. Headers sort. */
export class ClassTable {
  readonly root = el('section', { class: 'section', attrs: { 'aria-labelledby': 'classes-title' } });
  private sort: { key: SortKey; desc: boolean } = { key: 'class', desc: false };
  private view: EvaluationView | undefined;

  constructor(
    private readonly ask: (q: Omit<Extract<PageMessage, { type: 'classErrors' }>['payload'], 'request'>) => void,
  ) {}

  update(view: EvaluationView): void {
    this.view = view;
    this.render();
  }

  private render(): void {
    const view = this.view;
    if (!view) return;
    const c = view.confusion;
    const offDiagonal = (cls: number, kind: 'fp' | 'fn') =>
      c.reduce((sum, row, i) => sum + (i === cls ? 0 : ((kind === 'fp' ? row[cls] : c[cls]?.[i]) ?? 0)), 0);
    const rows = view.perClass.map((m) => ({ m, index: Math.max(0, view.classes.indexOf(m.class)) }));
    const { key, desc } = this.sort;
    rows.sort((a, b) => {
      if (key === 'class') return desc ? b.index - a.index : a.index - b.index;
      const [x, y] = [a.m[key], b.m[key]];
      if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1; // undefined values last
      return (desc ? y - x : x - y) || a.index - b.index;
    });

    const head = el(
      'tr',
      {},
      ...COLUMNS.map((col) => {
        const active = col.key === key;
        const th = el('th', {
          attrs: { scope: 'col', 'aria-sort': active ? (desc ? 'descending' : 'ascending') : 'none' },
        });
        th.append(
          button(
            `${col.label}${active ? (desc ? ' ▼' : ' ▲') : ''}`,
            () => {
              // Metrics sort best-first on the first click; the class column in dataset order.
              this.sort = { key: col.key, desc: active ? !desc : col.key !== 'class' };
              this.render();
            },
            { class: 'sort' },
          ),
        );
        return th;
      }),
      el('th', { text: 'Errors', attrs: { scope: 'col' } }),
    );

    const body = el(
      'tbody',
      {},
      ...rows.map(({ m, index }) => {
        const fp = offDiagonal(index, 'fp');
        const fn = offDiagonal(index, 'fn');
        const errorButton = (kind: 'fp' | 'fn', n: number) => {
          const b = button(
            `${kind === 'fp' ? 'False positives' : 'False negatives'} (${n})`,
            () => this.ask({ cls: index, kind }),
            {
              class: 'link',
              attrs: { 'aria-label': `${n} ${kind === 'fp' ? 'false positives' : 'false negatives'} of ${m.class}` },
            },
          );
          b.disabled = n === 0;
          return b;
        };
        return el(
          'tr',
          {},
          el('th', { text: m.class, attrs: { scope: 'row' } }),
          el('td', { class: 'num', text: String(m.support) }),
          el('td', { class: 'num', text: formatMetric(m.precision) }),
          el('td', { class: 'num', text: formatMetric(m.recall) }),
          el('td', { class: 'num', text: formatMetric(m.f1) }),
          el('td', { class: 'actions' }, errorButton('fp', fp), errorButton('fn', fn)),
        );
      }),
    );

    this.root.replaceChildren(
      el('h2', { text: 'Per class', attrs: { id: 'classes-title' } }),
      rows.length
        ? el('table', { class: 'grid' }, el('thead', {}, head), body)
        : el('p', { class: 'empty', text: 'No per-class metrics.' }),
    );
  }
}

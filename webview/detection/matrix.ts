/**
 * The confusion matrix at the slider's confidence, with the background row (invented objects) and
 * column (missed objects). Each cell is a button opening its boxes as crops; arrow keys move
 * between cells.
 */
import type { DetectionView, StatsView } from '../../src/shared/detection/contract';
import { el, moveInMatrix } from '../shared/dom';
import { className, plural } from './labels';

/** Beyond this many classes the matrix would be tens of thousands of buttons; the per-class table still works. */
const MAX_CLASSES = 100;

export class ConfusionMatrix {
  readonly root = el('section', { class: 'section', attrs: { 'aria-labelledby': 'matrix-title' } });
  private selected: { truth: number; predicted: number } | undefined;

  constructor(private readonly open: (truth: number, predicted: number) => void) {}

  select(cell: { truth: number; predicted: number } | undefined): void {
    this.selected = cell;
    for (const b of this.root.querySelectorAll<HTMLButtonElement>('button.cell')) {
      const on = !!cell && Number(b.dataset.r) === cell.truth && Number(b.dataset.c) === cell.predicted;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', String(on));
    }
  }

  update(v: DetectionView, stats: StatsView | undefined): void {
    const title = el('h2', { text: 'Confusion matrix', attrs: { id: 'matrix-title' } });
    const K = v.classes.length;
    if (!stats) {
      this.root.replaceChildren(title, el('p', { class: 'empty', text: 'Counting…' }));
      return;
    }
    if (K > MAX_CLASSES) {
      this.root.replaceChildren(
        title,
        el('p', {
          class: 'empty',
          text: `${K} classes are too many to draw; use the FP and FN counts of each class above.`,
        }),
      );
      return;
    }
    const names = [...v.classes.map((_, i) => className(v.classes, i)), 'background'];
    const head = el(
      'tr',
      {},
      el('th', { class: 'corner', text: 'truth ╲ predicted', attrs: { scope: 'col' } }),
      ...names.map((n, i) =>
        el('th', { class: `col-head${i === K ? ' bg' : ''}`, text: n, title: n, attrs: { scope: 'col' } }),
      ),
    );
    const rows = names.map((truth, r) => {
      const row = stats.confusion[r] ?? [];
      const rowSum = row.reduce((a, b) => a + b, 0);
      return el(
        'tr',
        {},
        el('th', { class: `row-head${r === K ? ' bg' : ''}`, text: truth, title: truth, attrs: { scope: 'row' } }),
        ...names.map((pred, c) => {
          if (r === K && c === K) return el('td', { class: 'none' });
          const n = row[c] ?? 0;
          const what =
            r === K ? `invented ${pred}` : c === K ? `missed ${truth}` : `ground truth ${truth} predicted ${pred}`;
          const b = el('button', {
            class: `cell${r === c ? ' diag' : ''}${n === 0 ? ' zero' : ''}`,
            text: String(n),
            attrs: {
              type: 'button',
              'data-r': String(r),
              'data-c': String(c),
              'aria-pressed': 'false',
              'aria-label': `${plural(n, 'box', 'boxes')}: ${what}`,
            },
          });
          const share = rowSum ? n / rowSum : 0;
          if (share > 0)
            b.style.backgroundColor = `color-mix(in srgb, var(--vscode-charts-blue, #1a85ff) ${Math.round(8 + share * 72)}%, transparent)`;
          b.addEventListener('click', () => this.open(r, c));
          return el('td', {}, b);
        }),
      );
    });
    const table = el(
      'table',
      { class: 'matrix' },
      el('caption', {
        class: 'muted',
        text: `Rows are the ground truth, columns the prediction, at IoU > 0.5 and confidence ≥ ${stats.confidence} (boxes paired one to one by IoU whatever their class, as Ultralytics does). The background row holds invented objects, the background column missed ones; shading is the share of the row.`,
      }),
      el('thead', {}, head),
      el('tbody', {}, ...rows),
    );
    table.addEventListener('keydown', (e) => moveInMatrix(this.root, e, K + 1));
    this.root.replaceChildren(title, el('div', { class: 'matrix-scroll' }, table));
    this.select(this.selected);
  }
}

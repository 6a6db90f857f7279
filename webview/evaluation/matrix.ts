import type { EvaluationView } from '../../src/shared/evaluation/contract';
import { el, moveInMatrix } from '../shared/dom';
import { plural } from './labels';

/** Beyond this many classes the matrix would be tens of thousands of buttons; the per-class table still works. */
const MAX_CLASSES = 100;

/**
 * The confusion matrix as a table of buttons (rows: label, columns: prediction), each shaded by its
 * share of the row. Tab or the arrow keys move between cells; Enter/Space (native to buttons) opens one.
 */
export class ConfusionMatrix {
  readonly root = el('section', { class: 'section', attrs: { 'aria-labelledby': 'matrix-title' } });
  private selected: { label: number; prediction: number } | undefined;

  constructor(private readonly open: (label: number, prediction: number) => void) {}

  /** Marks the cell whose samples are listed (none when the list shows something else). */
  select(cell: { label: number; prediction: number } | undefined): void {
    this.selected = cell;
    for (const b of this.root.querySelectorAll<HTMLButtonElement>('button.cell')) {
      const on = !!cell && Number(b.dataset.r) === cell.label && Number(b.dataset.c) === cell.prediction;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', String(on));
    }
  }

  update(view: EvaluationView): void {
    const { classes, confusion } = view;
    const title = el('h2', { text: 'Confusion matrix', attrs: { id: 'matrix-title' } });
    if (!classes.length || !confusion.length) {
      this.root.replaceChildren(title, el('p', { class: 'empty', text: 'No confusion matrix.' }));
      return;
    }
    if (classes.length > MAX_CLASSES) {
      this.root.replaceChildren(
        title,
        el('p', {
          class: 'empty',
          text: `${classes.length} classes are too many to draw; use the false positives and negatives of each class above.`,
        }),
      );
      return;
    }
    const head = el(
      'tr',
      {},
      el('th', { class: 'corner', text: 'label ╲ prediction', attrs: { scope: 'col' } }),
      ...classes.map((name) => el('th', { class: 'col-head', text: name, title: name, attrs: { scope: 'col' } })),
    );
    const rows = classes.map((label, r) => {
      const row = confusion[r] ?? [];
      const rowSum = row.reduce((a, b) => a + b, 0);
      return el(
        'tr',
        {},
        el('th', { class: 'row-head', text: label, title: label, attrs: { scope: 'row' } }),
        ...classes.map((pred, c) => {
          const n = row[c] ?? 0;
          const b = el('button', {
            class: `cell${r === c ? ' diag' : ''}${n === 0 ? ' zero' : ''}`,
            text: String(n),
            attrs: {
              type: 'button',
              'data-r': String(r),
              'data-c': String(c),
              'aria-pressed': 'false',
              'aria-label': `${plural(n, 'sample')} labelled ${label} predicted ${pred}`,
            },
          });
          const share = rowSum ? n / rowSum : 0;
          // Row-normalised, so a rare class's mistakes show as clearly as a common one's.
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
        text: 'Rows are the true label, columns the prediction; shading is the share of the row. The diagonal (outlined) is correct.',
      }),
      el('thead', {}, head),
      el('tbody', {}, ...rows),
    );
    table.addEventListener('keydown', (e) => moveInMatrix(this.root, e, classes.length));
    this.root.replaceChildren(title, el('div', { class: 'matrix-scroll' }, table));
    this.select(this.selected);
  }
}

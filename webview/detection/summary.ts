/**
 * The numbers: COCO cards (AP, AP50, AP75, AR100) and F1 at the slider's confidence; the other
 * conventions (Pascal VOC, Ultralytics) beside them with the note saying why they differ; and the
 * per-class table, whose FP and FN counts open those boxes as crops.
 */
import type { DetectionView, StatsView } from '../../src/shared/detection/contract';
import { rates } from '../../src/shared/detection/view';
import { formatMetric } from '../../src/shared/format';
import { button, el } from '../shared/dom';

function card(label: string, value: number | null, title?: string): HTMLElement {
  return el(
    'div',
    { class: 'card', title },
    el('div', { class: 'card-label', text: label }),
    el('div', { class: 'card-value', text: formatMetric(value) }),
  );
}

export function renderCards(root: HTMLElement, v: DetectionView, stats: StatsView | undefined): void {
  const m = (k: string) => v.metrics[k] ?? null;
  const at = stats ? rates(stats.total) : { precision: null, recall: null, f1: null };
  const c = formatMetric(stats?.confidence ?? v.confidence);
  root.replaceChildren(
    el(
      'div',
      { class: 'cards', attrs: { 'aria-label': 'COCO metrics' } },
      card('AP', m('AP'), 'COCO AP averaged over IoU 0.50:0.95'),
      card('AP50', m('AP50'), 'COCO AP at IoU 0.5'),
      card('AP75', m('AP75'), 'COCO AP at IoU 0.75'),
      card('AR100', m('AR100'), 'COCO recall with at most 100 detections an image'),
      card(`F1 @ ${c}`, at.f1, `at confidence ${c} and IoU ${formatMetric(v.iou)}`),
      card(`Precision @ ${c}`, at.precision),
      card(`Recall @ ${c}`, at.recall),
      card('Best F1', m('bestF1'), `at confidence ${formatMetric(m('bestF1Confidence'))}`),
    ),
    el(
      'div',
      { class: 'cards other', attrs: { 'aria-label': 'Other conventions' } },
      card('VOC AP50', m('VOC_AP50'), 'Pascal VOC, all-point interpolation'),
      card('VOC07 AP50', m('VOC07_AP50'), 'Pascal VOC 2007, 11-point interpolation'),
      card('mAP50', m('mAP50'), 'Ultralytics'),
      card('mAP50-95', m('mAP50-95'), 'Ultralytics'),
    ),
    ...v.notes.map((n) => el('p', { class: 'notes muted small', text: n })),
  );
}

export class ClassTable {
  readonly root = el('section', { class: 'section', attrs: { 'aria-labelledby': 'classes-title' } });

  constructor(private readonly open: (cls: number, outcome: 'fp' | 'fn') => void) {}

  update(v: DetectionView, stats: StatsView | undefined): void {
    const title = el('h2', { text: 'Per class', attrs: { id: 'classes-title' } });
    const c = formatMetric(stats?.confidence ?? v.confidence);
    const head = el(
      'tr',
      {},
      ...['Class', 'AP', 'AP50', `Precision @ ${c}`, `Recall @ ${c}`, 'GT', 'FP', 'FN'].map((t) =>
        el('th', { text: t, attrs: { scope: 'col' } }),
      ),
    );
    const rows = v.classes.map((name, i) => {
      const row = v.perClass[i];
      const counts = stats?.perClass[i] ?? { tp: 0, fp: 0, fn: 0 };
      const r = rates(counts);
      const count = (n: number, outcome: 'fp' | 'fn') =>
        n === 0
          ? el('td', { class: 'num muted', text: '0' })
          : el(
              'td',
              { class: 'num' },
              button(String(n), () => this.open(i, outcome), {
                class: 'link',
                attrs: {
                  'aria-label': `${n} ${outcome === 'fp' ? 'false positives' : 'missed'} of ${name}: show the boxes`,
                },
              }),
            );
      return el(
        'tr',
        {},
        el('th', { text: name, attrs: { scope: 'row' } }),
        el('td', { class: 'num', text: formatMetric(row?.AP ?? null) }),
        el('td', { class: 'num', text: formatMetric(row?.AP50 ?? null) }),
        el('td', { class: 'num', text: formatMetric(r.precision) }),
        el('td', { class: 'num', text: formatMetric(r.recall) }),
        el('td', { class: 'num', text: String(row?.support ?? 0) }),
        count(counts.fp, 'fp'),
        count(counts.fn, 'fn'),
      );
    });
    this.root.replaceChildren(
      title,
      el(
        'div',
        { class: 'table-scroll' },
        el('table', { class: 'grid classes' }, el('thead', {}, head), el('tbody', {}, ...rows)),
      ),
    );
  }
}

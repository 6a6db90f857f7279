/**
 * The patches view: the boxes behind a confusion cell or a class's false positives or misses, each
 * cropped out of its image with some context around it (an SVG whose viewBox is the box, padded).
 */
import type { CropQuery, CropTile } from '../../src/shared/detection/contract';
import { formatMetric } from '../../src/shared/format';
import { button, el } from '../shared/dom';
import { boxesSvg } from './boxes';
import { className, DrawnBox, KIND_NAMES, plural } from './labels';

const SVG = 'http://www.w3.org/2000/svg';
const SIDE = 120;
/** Crops drawn at first; more on request (each is an image element). */
const FIRST = 100;

export function describeCrops(classes: string[], q: CropQuery): string {
  const name = (i: number) => className(classes, i);
  if ('cls' in q) return q.outcome === 'fp' ? `False positives of ${name(q.cls)}` : `Missed ${name(q.cls)} objects`;
  const K = classes.length;
  if (q.truth === K) return `Invented objects predicted as ${name(q.predicted)} (background row)`;
  if (q.predicted === K) return `Missed ${name(q.truth)} objects (background column)`;
  return `Ground truth ${name(q.truth)}, predicted ${name(q.predicted)}`;
}

export class CropsView {
  private readonly heading = el('h2', { text: 'Boxes', attrs: { id: 'crops-title' } });
  private readonly status = el('p', {
    class: 'muted',
    text: 'Choose a cell of the confusion matrix, or a class’s FP or FN count, to see exactly those boxes.',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });
  private readonly list = el('ul', { class: 'crops' });
  private readonly more = el('div');
  readonly root = el(
    'section',
    { class: 'section', attrs: { 'aria-labelledby': 'crops-title', id: 'crops' } },
    this.heading,
    this.status,
    this.list,
    this.more,
  );

  /** `open` shows a crop's whole image (by its place in the evaluation). */
  constructor(private readonly open: (index: number) => void) {}

  loading(classes: string[], q: CropQuery): void {
    this.heading.textContent = describeCrops(classes, q);
    this.status.textContent = 'Loading…';
    this.list.replaceChildren();
    this.more.replaceChildren();
  }

  failed(message: string): void {
    this.status.textContent = message;
    this.list.replaceChildren();
  }

  show(classes: string[], q: CropQuery, crops: CropTile[], total: number, confidence: number): void {
    this.heading.textContent = describeCrops(classes, q);
    this.status.textContent = !crops.length
      ? `No boxes at confidence ${formatMetric(confidence)}.`
      : `${total > crops.length ? `The first ${crops.length} of ${plural(total, 'box', 'boxes')}` : plural(total, 'box', 'boxes')} at confidence ${formatMetric(confidence)}, most confident (misses: largest) first.`;
    const draw = (n: number) => {
      this.list.replaceChildren(...crops.slice(0, n).map((c) => this.item(classes, c)));
      this.more.replaceChildren(
        n < crops.length ? button(`Show all ${crops.length}`, () => draw(crops.length), { class: 'link' }) : '',
      );
    };
    draw(FIRST);
  }

  private item(classes: string[], c: CropTile): HTMLElement {
    const [x, y, w, h] = c.bbox;
    const pad = Math.max(8, 0.25 * Math.max(w, h));
    const view: [number, number, number, number] = [x - pad, y - pad, w + 2 * pad, h + 2 * pad];
    // The paired ground truth (thin) under the prediction, so a poor fit or a wrong class shows.
    const boxes: DrawnBox[] = [{ bbox: c.bbox, kind: c.kind }];
    if (c.truth) boxes.unshift({ bbox: c.truth.bbox, kind: 'gt' });
    const svg = boxesSvg(c.width, c.height, boxes, view);
    svg.setAttribute('class', 'crop-view'); // not the overlay's absolute placement: a crop stands alone
    svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
    svg.setAttribute('width', String(SIDE));
    svg.setAttribute('height', String(SIDE));
    const backdrop = document.createElementNS(SVG, c.src ? 'image' : 'rect');
    backdrop.setAttribute('x', '0');
    backdrop.setAttribute('y', '0');
    backdrop.setAttribute('width', String(c.width || 1));
    backdrop.setAttribute('height', String(c.height || 1));
    if (c.src) backdrop.setAttribute('href', c.src);
    else backdrop.setAttribute('class', 'blank');
    svg.prepend(backdrop);
    const what = [
      className(classes, c.label),
      c.score !== undefined ? formatMetric(c.score) : '',
      c.kind === 'fn' ? 'missed' : KIND_NAMES[c.kind],
      c.reason ?? '',
      c.truth && c.truth.label !== c.label ? `truth ${className(classes, c.truth.label)}` : '',
    ].filter(Boolean);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `${c.sampleId}: ${what.join(', ')}`);
    svg.removeAttribute('aria-hidden');
    const b = button('', () => this.open(c.index), { class: 'crop-open', title: `Open ${c.sampleId}` });
    b.append(svg);
    return el(
      'li',
      { class: 'crop' },
      b,
      el('div', { class: 'small', text: what.join(' · ') }),
      el('div', { class: 'muted small sample-id', text: c.sampleId, title: c.sampleId }),
    );
  }
}

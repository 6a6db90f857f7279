/**
 * One image, large: the original file (or a blank canvas of its size) with every box labelled by
 * class and score. A modal dialog: Escape or the close button closes it and gives the focus back to
 * the grid; the arrow keys step to the previous and next image of the browser.
 */
import type { ImageTile } from '../../src/shared/detection/contract';
import { button, el } from '../shared/dom';
import { drawnImage, fit } from './boxes';
import { longCounts, tileBoxes } from './labels';

export class ImageViewer {
  private readonly title = el('h2', { attrs: { id: 'viewer-title' } });
  private readonly body = el('div', { class: 'viewer-body' });
  private readonly facts = el('p', { class: 'muted small' });
  readonly root = el('div', {
    class: 'viewer',
    attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'viewer-title', tabindex: '-1' },
  });
  private tile: ImageTile | undefined;
  private classes: string[] = [];

  constructor(
    private readonly step: (delta: number) => void,
    private readonly closed: () => void,
  ) {
    const close = button('Close', () => this.close(), { class: 'close', attrs: { 'aria-label': 'Close (Escape)' } });
    const prev = button('‹ Previous', () => this.step(-1), { attrs: { 'aria-label': 'Previous image (left arrow)' } });
    const next = button('Next ›', () => this.step(1), { attrs: { 'aria-label': 'Next image (right arrow)' } });
    this.root.append(
      el('div', { class: 'viewer-head' }, this.title, el('div', { class: 'viewer-nav' }, prev, next, close)),
      this.facts,
      this.body,
      legend(),
    );
    this.root.hidden = true;
    this.root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
      else if (e.key === 'ArrowLeft') this.step(-1);
      else if (e.key === 'ArrowRight') this.step(1);
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    window.addEventListener('resize', () => this.tile && this.draw());
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  show(tile: ImageTile, classes: string[], position: number, total: number): void {
    this.tile = tile;
    this.classes = classes;
    this.title.textContent = tile.sampleId;
    this.facts.textContent = `Image ${position + 1} of ${total} · ${tile.width}×${tile.height} · ${longCounts(tile.counts)}${tile.src ? '' : ' · no image file: boxes on a blank canvas'}`;
    const wasOpen = this.isOpen;
    this.root.hidden = false;
    this.draw();
    if (!wasOpen) this.root.focus();
  }

  close(): void {
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.tile = undefined;
    this.closed();
  }

  private draw(): void {
    const t = this.tile!;
    const size = fit(t.width, t.height, window.innerWidth - 80, window.innerHeight - 190, 4);
    this.body.replaceChildren(
      drawnImage(
        { width: t.width, height: t.height, src: t.src, alt: t.sampleId },
        tileBoxes(t, this.classes),
        size,
        true,
      ),
    );
  }
}

/** What the line styles mean (shown under the large view and the grid). */
export function legend(): HTMLElement {
  const item = (kind: string, text: string) =>
    el(
      'span',
      { class: 'legend-item' },
      el('span', { class: `swatch ${kind}`, attrs: { 'aria-hidden': 'true' } }),
      text,
    );
  return el(
    'p',
    { class: 'box-legend small' },
    item('tp', 'true positive (solid)'),
    item('fp', 'false positive (dashed)'),
    item('fn', 'missed (dotted)'),
    item('gt', 'matched ground truth (thin)'),
  );
}

/**
 * One image, large: the original file (or a blank canvas of its size) with every box labelled by
 * class and score. A modal dialog: Escape or the close button closes it and gives the focus back to
 * where it was (the grid, a crop); from the grid, the arrow keys step to the previous and next image.
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
  private readonly nav: HTMLElement;
  private canStep = false;
  /** Where the focus was when the view opened; it goes back there on close. */
  private opener: HTMLElement | undefined;

  constructor(private readonly step: (delta: number) => void) {
    const close = button('Close', () => this.close(), { class: 'close', attrs: { 'aria-label': 'Close (Escape)' } });
    const prev = button('‹ Previous', () => this.step(-1), { attrs: { 'aria-label': 'Previous image (left arrow)' } });
    const next = button('Next ›', () => this.step(1), { attrs: { 'aria-label': 'Next image (right arrow)' } });
    this.nav = el('span', { class: 'viewer-nav' }, prev, next);
    this.root.append(
      el('div', { class: 'viewer-head' }, this.title, el('div', { class: 'viewer-nav' }, this.nav, close)),
      this.facts,
      this.body,
      legend(),
    );
    this.root.hidden = true;
    this.root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
      else if (e.key === 'ArrowLeft' && this.canStep) this.step(-1);
      else if (e.key === 'ArrowRight' && this.canStep) this.step(1);
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    window.addEventListener('resize', () => this.tile && this.draw());
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  /** `where` says which image it is ("Image 8 of 5000"); `canStep` when the arrows move through the browser. */
  show(tile: ImageTile, classes: string[], where: string, canStep: boolean): void {
    this.tile = tile;
    this.classes = classes;
    this.canStep = canStep;
    this.nav.hidden = !canStep;
    this.title.textContent = tile.sampleId;
    this.facts.textContent = `${where} · ${tile.width}×${tile.height} · ${longCounts(tile.counts)}${tile.src ? '' : ' · no image file: boxes on a blank canvas'}`;
    const wasOpen = this.isOpen;
    if (!wasOpen) this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    this.root.hidden = false;
    this.draw();
    if (!wasOpen) this.root.focus();
  }

  close(): void {
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.tile = undefined;
    this.opener?.focus();
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

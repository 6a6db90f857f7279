/**
 * The image browser: a virtualised grid (only the rows in view, and one row either side, are in
 * the DOM, so 5,000 images scroll as smoothly as 50). Images arrive from the host a chunk at a time
 * as rows come into view. Keyboard: arrows move the selection, Home/End and PageUp/PageDown jump,
 * Enter opens the image; the grid is one tab stop (aria-activedescendant names the selected cell).
 */
import type { ImageTile } from '../../src/shared/detection/contract';
import { el } from '../shared/dom';
import { drawnImage, fit } from './boxes';
import { longCounts, shortCounts, tileBoxes } from './labels';

const CELL_W = 196;
const CELL_H = 176;
const CAPTION_H = 40;
const GAP = 8;
const ROW_H = CELL_H + CAPTION_H + GAP;
/** Images asked for at a time; chunks start at multiples of it. */
export const CHUNK = 60;

export class ImageGrid {
  readonly scroller = el('div', {
    class: 'grid-scroller',
    attrs: { role: 'listbox', tabindex: '0', 'aria-label': 'Images', 'aria-multiselectable': 'false' },
  });
  private readonly spacer = el('div', { class: 'grid-spacer' });
  private total = 0;
  private cols = 1;
  private selected = 0;
  /** Tiles by position in the current query's order. */
  private tiles = new Map<number, ImageTile>();
  private asked = new Set<number>();
  private classes: string[] = [];
  /** Cells in the DOM by position, so a re-render keeps those still in view. */
  private cells = new Map<number, HTMLElement>();
  private frame = 0;

  constructor(
    private readonly request: (offset: number, limit: number) => void,
    private readonly open: (position: number) => void,
  ) {
    this.scroller.append(this.spacer);
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.scroller.addEventListener('keydown', (e) => this.key(e));
    this.scroller.addEventListener('click', (e) => {
      const cell = (e.target as HTMLElement).closest<HTMLElement>('.tile');
      if (!cell) return;
      this.select(Number(cell.dataset.pos));
      this.open(this.selected);
    });
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  /** A new query: nothing known yet but (perhaps) how many images match. */
  reset(classes: string[], total = 0): void {
    this.classes = classes;
    this.total = total;
    this.tiles = new Map();
    this.asked = new Set();
    for (const c of this.cells.values()) c.remove();
    this.cells.clear();
    this.scroller.scrollTop = 0;
    this.selected = 0;
    this.schedule();
  }

  /** Asks for the first chunk (the grid's size is unknown until it comes). */
  start(): void {
    this.asked.add(0);
    this.request(0, CHUNK);
  }

  setPage(offset: number, tiles: ImageTile[], total: number): void {
    this.total = total;
    tiles.forEach((t, i) => this.tiles.set(offset + i, t));
    for (let i = 0; i < tiles.length; i++) this.cells.get(offset + i)?.remove();
    for (let i = 0; i < tiles.length; i++) this.cells.delete(offset + i);
    this.schedule();
  }

  /** A thumbnail came: swap it into the tile and its cell if on screen. */
  setThumb(index: number, thumb: string): void {
    for (const [pos, t] of this.tiles)
      if (t.index === index) {
        t.thumb = thumb;
        const img = this.cells.get(pos)?.querySelector('img');
        if (img) img.src = thumb;
        else if (this.cells.has(pos)) {
          this.cells.get(pos)!.remove();
          this.cells.delete(pos);
          this.schedule();
        }
      }
  }

  tileAt(position: number): ImageTile | undefined {
    return this.tiles.get(position);
  }

  get count(): number {
    return this.total;
  }

  /** Moves the selection (clamped) and scrolls it into view. */
  select(position: number): void {
    if (!this.total) return;
    const prev = this.cells.get(this.selected);
    prev?.setAttribute('aria-selected', 'false');
    prev?.classList.remove('selected');
    this.selected = Math.max(0, Math.min(this.total - 1, position));
    const row = Math.floor(this.selected / this.cols);
    const top = row * ROW_H;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_H > this.scroller.scrollTop + this.scroller.clientHeight)
      this.scroller.scrollTop = top + ROW_H - this.scroller.clientHeight;
    this.render();
  }

  get selection(): number {
    return this.selected;
  }

  focus(): void {
    this.scroller.focus();
  }

  private key(e: KeyboardEvent): void {
    const rowsInView = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_H));
    const moves: Record<string, number> = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -this.cols,
      ArrowDown: this.cols,
      PageUp: -this.cols * rowsInView,
      PageDown: this.cols * rowsInView,
    };
    if (e.key in moves) this.select(this.selected + moves[e.key]);
    else if (e.key === 'Home') this.select(0);
    else if (e.key === 'End') this.select(this.total - 1);
    else if (e.key === 'Enter' || e.key === ' ') {
      if (this.total) this.open(this.selected);
    } else return;
    e.preventDefault();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const width = this.scroller.clientWidth;
    const cols = Math.max(1, Math.floor((width + GAP) / (CELL_W + GAP)));
    if (cols !== this.cols) {
      this.cols = cols;
      for (const c of this.cells.values()) c.remove();
      this.cells.clear();
    }
    const rows = Math.ceil(this.total / cols);
    this.spacer.style.height = `${rows * ROW_H}px`;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_H) - 1);
    const last = Math.min(rows - 1, Math.ceil((this.scroller.scrollTop + this.scroller.clientHeight) / ROW_H) + 1);
    const from = first * cols;
    const to = Math.min(this.total, (last + 1) * cols);
    for (const [pos, c] of this.cells)
      if (pos < from || pos >= to) {
        c.remove();
        this.cells.delete(pos);
      }
    for (let pos = from; pos < to; pos++) {
      const tile = this.tiles.get(pos);
      if (!tile) this.ask(pos);
      let cell = this.cells.get(pos);
      if (!cell || (tile && cell.dataset.ready !== '1')) {
        cell?.remove();
        cell = this.cell(pos, tile);
        cell.style.transform = `translate(${(pos % cols) * (CELL_W + GAP)}px, ${Math.floor(pos / cols) * ROW_H}px)`;
        this.cells.set(pos, cell);
        this.scroller.append(cell);
      }
      const on = pos === this.selected;
      cell.classList.toggle('selected', on);
      cell.setAttribute('aria-selected', String(on));
    }
    if (this.total) this.scroller.setAttribute('aria-activedescendant', `cell-${this.selected}`);
    else this.scroller.removeAttribute('aria-activedescendant');
    // For tests and the preview: how many cells are in the DOM.
    this.scroller.dataset.cells = String(this.cells.size);
  }

  private ask(pos: number): void {
    const chunk = Math.floor(pos / CHUNK) * CHUNK;
    if (this.asked.has(chunk)) return;
    this.asked.add(chunk);
    this.request(chunk, CHUNK);
  }

  private cell(pos: number, tile: ImageTile | undefined): HTMLElement {
    const cell = el('div', {
      class: 'tile',
      attrs: { role: 'option', id: `cell-${pos}`, 'data-pos': String(pos), 'aria-selected': 'false' },
    });
    if (!tile) {
      cell.setAttribute('aria-label', `Image ${pos + 1} (loading)`);
      cell.append(el('div', { class: 'cell-image loading' }), el('div', { class: 'caption muted small', text: '…' }));
      return cell;
    }
    cell.dataset.ready = '1';
    cell.setAttribute('aria-label', `${tile.sampleId}: ${longCounts(tile.counts)}`);
    const size = fit(tile.width, tile.height, CELL_W, CELL_H, Infinity);
    // The grid shows the thumbnail; until it comes, a blank canvas of the image's shape with the boxes.
    const img = drawnImage(
      {
        width: tile.width,
        height: tile.height,
        src: tile.thumb,
        alt: tile.sampleId,
        pending: !!tile.src && !tile.thumb,
      },
      tileBoxes(tile, this.classes),
      size,
    );
    cell.append(
      el('div', { class: 'cell-image' }, img),
      el(
        'div',
        { class: 'caption small' },
        el('div', { class: 'sample-id', text: tile.sampleId, title: tile.sampleId }),
        el('div', { class: 'muted', text: shortCounts(tile.counts) }),
      ),
    );
    return cell;
  }
}

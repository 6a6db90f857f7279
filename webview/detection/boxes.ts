/**
 * An image with its boxes drawn over it: the picture (or a blank canvas of the image's size when
 * the file is missing), an SVG of the boxes in the image's pixel coordinates, and optional labels.
 * TP, FP and FN differ in colour and in line style (solid, dashed, dotted; detection.css), so they
 * stay apart for colour-blind users and in high-contrast themes.
 */
import type { BoxXYWHLike, DrawnBox } from './labels';
import { el } from '../shared/dom';

const SVG = 'http://www.w3.org/2000/svg';

/** A box in the SVG, its stroke kept at screen width however the image is scaled. */
function rect(b: BoxXYWHLike, cls: string): SVGRectElement {
  const r = document.createElementNS(SVG, 'rect');
  r.setAttribute('x', String(b[0]));
  r.setAttribute('y', String(b[1]));
  r.setAttribute('width', String(Math.max(0, b[2])));
  r.setAttribute('height', String(Math.max(0, b[3])));
  r.setAttribute('vector-effect', 'non-scaling-stroke');
  r.setAttribute('class', cls);
  return r;
}

export function boxesSvg(width: number, height: number, boxes: DrawnBox[], viewBox?: BoxXYWHLike): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  const [x, y, w, h] = viewBox ?? [0, 0, width || 1, height || 1];
  svg.setAttribute('viewBox', `${x} ${y} ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'boxes');
  svg.setAttribute('aria-hidden', 'true');
  // Matched ground truth first, so predictions and misses draw on top of it.
  for (const b of [...boxes].sort((a, c) => Number(c.kind === 'gt') - Number(a.kind === 'gt'))) {
    const r = rect(b.bbox, `box ${b.kind}`);
    if (b.text) {
      const t = document.createElementNS(SVG, 'title');
      t.textContent = b.text;
      r.append(t);
    }
    svg.append(r);
  }
  return svg;
}

/**
 * The image at `size` pixels (width, height), its boxes over it. `src` absent: a blank canvas.
 * With `labels`, each box's class and score is written at its top-left corner. `pending`: the picture
 * is on its way (a thumbnail being made), not missing.
 */
export function drawnImage(
  image: { width: number; height: number; src?: string; alt: string; pending?: boolean },
  boxes: DrawnBox[],
  size: [number, number],
  labels = false,
): HTMLElement {
  const frame = el('div', { class: `frame${image.src ? '' : ' blank'}` });
  frame.style.width = `${size[0]}px`;
  frame.style.height = `${size[1]}px`;
  if (image.src)
    frame.append(el('img', { attrs: { src: image.src, alt: image.alt, draggable: 'false', decoding: 'async' } }));
  else if (!image.pending)
    frame.setAttribute(
      'aria-label',
      `${image.alt} (no image file: boxes on a blank ${image.width}×${image.height} canvas)`,
    );
  frame.append(boxesSvg(image.width, image.height, boxes));
  if (labels && image.width && image.height)
    for (const b of boxes) {
      if (!b.text || b.kind === 'gt') continue;
      const tag = el('span', { class: `box-label ${b.kind}`, text: b.text });
      tag.style.left = `${(b.bbox[0] / image.width) * 100}%`;
      tag.style.top = `${(b.bbox[1] / image.height) * 100}%`;
      frame.append(tag);
    }
  return frame;
}

/** The largest size of a w×h image inside a box of maxW×maxH (never enlarged beyond `grow` times). */
export function fit(w: number, h: number, maxW: number, maxH: number, grow = 1): [number, number] {
  if (!w || !h) return [maxW, maxH];
  const s = Math.min(maxW / w, maxH / h, grow);
  return [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
}

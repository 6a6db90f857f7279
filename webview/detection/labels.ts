/** How the detection page names classes, outcomes and counts, and which boxes of an image it draws. */
import type { BoxCounts, ImageTile } from '../../src/shared/detection/contract';
import { formatMetric } from '../../src/shared/format';

export type BoxXYWHLike = [number, number, number, number];

/** A box to draw: a prediction (tp, fp), a missed truth (fn), or a matched truth (gt, drawn faintly). */
export interface DrawnBox {
  bbox: BoxXYWHLike;
  kind: 'tp' | 'fp' | 'fn' | 'gt';
  text?: string;
}

export const plural = (n: number, word: string, words = `${word}s`): string => `${n} ${n === 1 ? word : words}`;

export const className = (classes: string[], i: number): string =>
  i === classes.length ? 'background' : (classes[i] ?? `#${i}`);

export const KIND_NAMES = { tp: 'true positive', fp: 'false positive', fn: 'missed' } as const;

/** "3 TP · 1 FP · 2 FN", for captions; the long form for screen readers. */
export const shortCounts = (c: BoxCounts) => `${c.tp} TP · ${c.fp} FP · ${c.fn} FN`;
export const longCounts = (c: BoxCounts) =>
  `${plural(c.tp, 'true positive')}, ${plural(c.fp, 'false positive')}, ${c.fn} missed`;

/** What the image browser draws of a tile: its predictions at the confidence, its misses, its matched truths. */
export function tileBoxes(tile: ImageTile, classes: string[]): DrawnBox[] {
  const out: DrawnBox[] = [];
  for (const t of tile.truths) {
    if (t.outcome === 'ignored') continue;
    const name = className(classes, t.label);
    out.push(
      t.outcome === 'fn'
        ? { bbox: t.bbox, kind: 'fn', text: `${name} · missed` }
        : { bbox: t.bbox, kind: 'gt', text: `${name} (ground truth)` },
    );
  }
  for (const p of tile.predictions) {
    if (p.outcome === 'ignored') continue;
    const why = p.outcome === 'fp' && p.reason ? ` · ${p.reason}` : '';
    out.push({ bbox: p.bbox, kind: p.outcome, text: `${className(classes, p.label)} ${formatMetric(p.score)}${why}` });
  }
  return out;
}

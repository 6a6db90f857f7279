// The lineage graph as markup. Pure (no 'vscode', no DOM): the page renders it, and the unit tests
// check the layout and the markup in plain Node.
import { formatBytes } from '../format';
import type { LineageGraph, LineageGraphNode } from './contract';

const W = 220;
const H = 58;
const GAP_X = 100; // room for an edge's label (a converter's id: onnx-fp16)
const GAP_Y = 18;
const PAD = 12;

export interface PlacedNode extends LineageGraphNode {
  x: number;
  y: number;
}

/** Generations left to right (roots first), siblings top to bottom in the order they were made. */
export function layoutLineage(l: LineageGraph): { nodes: PlacedNode[]; width: number; height: number } {
  const children = new Map<number, number[]>();
  const hasParent = new Set<number>();
  for (const e of [...l.edges].sort((a, b) => a.to - b.to)) {
    children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
    hasParent.add(e.to);
  }
  const depth = new Map<number, number>();
  const queue = l.nodes
    .filter((n) => !hasParent.has(n.id))
    .sort((a, b) => a.id - b.id)
    .map((n) => n.id);
  for (const id of queue) depth.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    for (const c of children.get(queue[i]) ?? []) {
      if (depth.has(c)) continue; // a graph, not always a tree: first path wins
      depth.set(c, depth.get(queue[i])! + 1);
      queue.push(c);
    }
  }
  const rows = new Map<number, number>();
  const nodes = queue.map((id) => {
    const n = l.nodes.find((x) => x.id === id)!;
    const d = depth.get(id)!;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    return { ...n, x: PAD + d * (W + GAP_X), y: PAD + row * (H + GAP_Y) };
  });
  const width = PAD * 2 + (Math.max(0, ...depth.values()) + 1) * (W + GAP_X) - GAP_X;
  const height = PAD * 2 + Math.max(1, ...rows.values()) * (H + GAP_Y) - GAP_Y;
  return { nodes, width, height };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The lineage as SVG: one focusable group per version (data-ref for the page's script), edges labelled by kind. */
export function lineageSvg(l: LineageGraph): string {
  const { nodes, width, height } = layoutLineage(l);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const edges = l.edges
    .filter((e) => at.has(e.from) && at.has(e.to))
    .map((e) => {
      const a = at.get(e.from)!;
      const b = at.get(e.to)!;
      const [x1, y1, x2, y2] = [a.x + W, a.y + H / 2, b.x, b.y + H / 2];
      const mid = (x1 + x2) / 2;
      // A conversion is labelled by its converter (onnx-fp16), anything else by its kind (clone, fine-tune).
      const label = e.kind === 'conversion' && e.converter ? e.converter : e.kind;
      const title = e.converter ? `${e.kind}: ${e.converter}` : e.kind;
      return `<path class="edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}"/><text class="edge-label" x="${mid}" y="${(y1 + y2) / 2 - 4}" text-anchor="middle"><title>${esc(title)}</title>${esc(cut(label, 16))}</text>`;
    });
  const boxes = nodes.map((n) => {
    const facts = [
      n.format ?? 'files',
      n.dtype,
      formatBytes(n.sizeBytes),
      n.commit ? n.commit.slice(0, 7) : 'no commit',
    ]
      .filter(Boolean)
      .join(' · ');
    const label = `${n.ref}${n.deleted ? ' (deleted)' : ''}, ${facts}${n.subject ? `, ${n.subject}` : ''}`;
    const cls = ['node', n.id === l.focus ? 'focus' : '', n.deleted ? 'deleted' : ''].filter(Boolean).join(' ');
    return `<g class="${cls}" data-ref="${esc(n.ref)}" data-commit="${n.commit ? 'yes' : ''}" tabindex="0" role="button" aria-label="${esc(label)}" transform="translate(${n.x},${n.y})">
<rect width="${W}" height="${H}" rx="4"/><text class="ref" x="10" y="18">${esc(cut(n.ref, 30))}${n.deleted ? ' (deleted)' : ''}</text>
<text class="facts" x="10" y="34">${esc(facts)}</text><text class="subject" x="10" y="49">${esc(cut(n.subject ?? '', 34))}</text></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="Lineage of ${esc(nodes.find((n) => n.id === l.focus)?.ref ?? '')}">${edges.join('')}${boxes.join('')}</svg>`;
}

/** What the page shows under its hint: the graph, with a note when it is a lone version or cut short. */
export function lineageMarkup(l: LineageGraph): string {
  const alone =
    l.nodes.length === 1
      ? '<p>No clones, conversions or fine-tunes of this version yet, and it was not made from another.</p>'
      : '';
  const cut = l.truncated ? '<p>Only the nearest 200 versions each way are shown.</p>' : '';
  return `${alone}${lineageSvg(l)}${cut}`;
}

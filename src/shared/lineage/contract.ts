/**
 * The lineage panel's contract, imported by the extension host and by the page (webview/lineage):
 * the graph it shows, its messages in the shared envelope, and their validator. Plain data only.
 */
import { envelope, isObj, isStr, type Message, type PageContract, type Ready } from '../messages';

/** A version as the graph draws it; core's LineageNode (registry/types) has these fields and more. */
export interface LineageGraphNode {
  id: number;
  ref: string;
  format: string | null;
  /** What its weights are stored as: fp16, int8… */
  dtype: string | null;
  sizeBytes: number;
  commit: string | null;
  subject: string | null;
  deleted: boolean;
}

/** What the page shows: the versions around `focus` and how each came from its parent (core's Lineage fits it). */
export interface LineageGraph {
  focus: number;
  nodes: LineageGraphNode[];
  /** parent → child, with how the child came from the parent (and the converter, for a conversion). */
  edges: { from: number; to: number; kind: string; converter?: string }[];
  /** The walk stopped at the node limit. */
  truncated: boolean;
}

/** Extension → page. */
export type ToLineagePage =
  Message<'lineage', { ref: string; lineage: LineageGraph }> | Message<'error', { message: string }>;

/** Page → extension: reveal a version in the tree, or open its commit. */
export type FromLineagePage = Ready | Message<'reveal', { ref: string }> | Message<'openCommit', { ref: string }>;

/** What the page keeps with vscode.setState, so the panel comes back after a reload. */
export interface LineageState {
  ref: string;
}

// A ref is "model@vN" (or an alias): short. The host still resolves it and acts only on versions that exist.
const isRef = (v: unknown): v is string => isStr(v, 300) && v.length > 0;

export function parseFromLineagePage(msg: unknown): FromLineagePage | undefined {
  const m = envelope(msg);
  if (!m) return undefined;
  const p = m.payload;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'reveal':
    case 'openCommit':
      return isObj(p) && isRef(p.ref) ? { type: m.type, payload: { ref: p.ref } } : undefined;
    default:
      return undefined;
  }
}

export function parseLineageState(state: unknown): LineageState | undefined {
  return isObj(state) && isRef(state.ref) ? { ref: state.ref } : undefined;
}

export const LINEAGE_PAGE: PageContract<FromLineagePage, LineageState> = {
  viewType: 'modelRegistry.lineage',
  bundle: 'lineage',
  title: 'Lineage',
  parse: parseFromLineagePage,
  parseState: parseLineageState,
};

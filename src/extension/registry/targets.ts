// What a command runs on, worked out once for every command, without 'vscode' (unit-tested).
// VS Code calls a tree row's command with (clicked row, selected rows), the palette and keybindings
// with nothing (the view's selection applies), and panels, tests and other extensions pass a version
// reference: 'resnet@v3' or { ref: 'resnet@v3' }.
import type { VersionRecord } from '../../core';
import { formatBytes } from '../../shared/format';
import { RegistryKey, TreeNode } from './treeNodes';

/** A row of a tree, or a version named by reference ('resnet@v3', 'resnet@production'). */
export type Target = { registry: RegistryKey; node: TreeNode } | { registry: RegistryKey; ref: string };

export interface Invocation {
  /** The registry a reference or an empty call means: the workspace's for most commands, the team's for Pull. */
  registry: RegistryKey;
  /** The rows selected in that registry's view: what an empty call (palette, keybinding) runs on. */
  selection: readonly TreeNode[];
  /** The command acts on every selected row (Compare, Push, Pull), not just one. */
  many?: boolean;
}

const NODE_KINDS = new Set<string>([
  'model',
  'version',
  'group',
  'evaluation',
  'related',
  'more',
  'file',
  'metric',
  'config',
  'fact',
  'message',
]);

function isNode(x: unknown): x is TreeNode {
  return typeof x === 'object' && x !== null && NODE_KINDS.has((x as { kind?: unknown }).kind as string);
}

function isRegistryKey(x: unknown): x is RegistryKey {
  return x === 'local' || x === 'team';
}

/**
 * The targets of a call, from its arguments:
 * - a row (clicked, selected): with `many`, every selected row; otherwise the row. A second argument
 *   that is not a list of rows is the command's own input (an alias name, options) and is ignored here;
 * - with `many`, (undefined, rows): those rows (Compare with Parent passes them so);
 * - 'model@v2' or { ref: 'model@v2', registry? }: that version, in the invocation's registry unless named;
 * - nothing: the selection (all of it with `many`, else its first row).
 * A row that does not say its registry (made by hand) is taken to be in the invocation's registry.
 */
export function resolveTargets(args: readonly unknown[], inv: Invocation): Target[] {
  const [first, second] = args;
  const row = (node: TreeNode): Target => ({
    registry: isRegistryKey(node.registry) ? node.registry : inv.registry,
    node,
  });
  const rows = Array.isArray(second) && second.length > 0 && second.every(isNode) ? (second as TreeNode[]) : undefined;
  if (inv.many && rows && (first === undefined || isNode(first))) return rows.map(row);
  if (isNode(first)) return [row(first)];
  if (typeof first === 'string') return first.trim() ? [{ registry: inv.registry, ref: first.trim() }] : [];
  if (typeof first === 'object' && first !== null && typeof (first as { ref?: unknown }).ref === 'string') {
    const { ref, registry } = first as { ref: string; registry?: unknown };
    return [{ registry: isRegistryKey(registry) ? registry : inv.registry, ref }];
  }
  if (first !== undefined) return []; // something else (an Explorer URI): not a registry target
  return (inv.many ? inv.selection : inv.selection.slice(0, 1)).map(row);
}

/**
 * The version a target names: a reference as given, or the version of a version row; with `under`,
 * also of any row under a version (its files, facts, metrics, config, evaluations).
 */
export function versionOf(t: Target, opts: { under?: boolean } = {}): VersionRecord | string | undefined {
  if ('ref' in t) return t.ref;
  const n = t.node;
  if (n.kind === 'version') return n.version;
  return opts.under && 'version' in n ? n.version : undefined;
}

/** The reference of the version a target names (see versionOf). */
export function refOf(t: Target, opts: { under?: boolean } = {}): string | undefined {
  const v = versionOf(t, opts);
  return typeof v === 'string' ? v : v?.ref;
}

/** The model a target is about: a model row, any row under a version, or the model part of a reference. */
export function modelOf(t: Target): string | undefined {
  if ('ref' in t) return t.ref.split('@')[0] || undefined;
  const n = t.node;
  if (n.kind === 'model') return n.model.name;
  return 'version' in n ? n.version.model : undefined;
}

/** The row of a target when it is of the given kind (file rows for Copy SHA-256, "Show more…"). */
export function nodeOf<K extends TreeNode['kind']>(t: Target, kind: K): Extract<TreeNode, { kind: K }> | undefined {
  return 'node' in t && t.node.kind === kind ? (t.node as Extract<TreeNode, { kind: K }>) : undefined;
}

/**
 * Whether a call asks which version (a QuickPick) instead of doing nothing: only when it named no
 * target (the palette, a keybinding) and the selection gives no version. Then `model` narrows the
 * choice to the model a selected row is about (a model row, or a row under a version without `under`).
 */
export function askScope(
  args: readonly unknown[],
  found: Target | undefined,
  opts: { under?: boolean } = {},
): { model?: string } | undefined {
  if (args[0] !== undefined) return undefined; // a row, a reference or an Explorer URI: never ask
  if (found && versionOf(found, opts) !== undefined) return undefined;
  return { model: found && modelOf(found) };
}

export interface VersionChoice {
  label: string;
  description: string;
  version: VersionRecord;
}

/** The "which version?" items: most recent first, `model@vN` with its aliases, format and size. */
export function versionChoices(versions: readonly VersionRecord[]): VersionChoice[] {
  return [...versions]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id)
    .map((v) => ({
      label: v.ref,
      description: [v.aliases.map((a) => `@${a}`).join(' '), v.format, formatBytes(v.sizeBytes)]
        .filter(Boolean)
        .join(' · '),
      version: v,
    }));
}

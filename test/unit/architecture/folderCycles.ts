/**
 * Folder-level cycles: dependency-cruiser's rules judge single imports, so "the folders of src/core
 * import each other in one direction only" is worked out here from its result. Each folder directly
 * under the root is one node (src/core/importers/walk.ts → src/core/importers); a file directly in
 * the root (src/core/errors.ts, src/core/index.ts) is a node of its own.
 */

/** The part of a cruise result this needs: each module's path and the paths it imports. */
export interface CruisedModule {
  source: string;
  dependencies: { resolved: string }[];
}

export interface FolderCycle {
  /** The folders (and root files) that reach each other, sorted. */
  folders: string[];
  /**
   * Every folder-to-folder import among them, the thinnest first: a cycle is usually broken by moving
   * what the one or two imports of a thin edge need, so that is where a reader should look.
   */
  edges: { from: string; to: string; imports: string[] }[];
}

/** The folder node a path belongs to under `root`, or undefined when it is outside the root. */
export function folderOf(file: string, root: string): string | undefined {
  const prefix = root.replace(/\/+$/, '') + '/';
  if (!file.startsWith(prefix)) return undefined;
  const rest = file.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? file : prefix + rest.slice(0, slash);
}

/** The groups of folders under `root` that import each other in a circle (strongly connected components). */
export function folderCycles(modules: CruisedModule[], root: string): FolderCycle[] {
  const edges = new Map<string, Map<string, string[]>>(); // from folder → to folder → the imports
  for (const m of modules) {
    const from = folderOf(m.source, root);
    if (!from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    for (const d of m.dependencies) {
      const to = folderOf(d.resolved, root);
      if (!to || to === from) continue;
      const byTarget = edges.get(from)!;
      byTarget.set(to, [...(byTarget.get(to) ?? []), `${m.source} → ${d.resolved}`]);
      if (!edges.has(to)) edges.set(to, new Map());
    }
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1)
    .map((group) => {
      const folders = [...group].sort();
      const edgesOf = (from: string) =>
        [...(edges.get(from) ?? [])]
          .filter(([to]) => group.includes(to))
          .map(([to, imports]) => ({ from, to, imports: [...imports].sort() }));
      const inside = folders
        .flatMap(edgesOf)
        .sort((a, b) => a.imports.length - b.imports.length || `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
      return { folders, edges: inside };
    })
    .sort((a, b) => a.folders[0].localeCompare(b.folders[0]));
}

/** Tarjan's algorithm: nodes that can each reach the others end up in one group. */
function stronglyConnected(edges: Map<string, Map<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      groups.push(group);
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return groups;
}

/** Imports listed per folder edge in a message; a thick edge is rarely the one to cut. */
const LISTED = 5;

/** One readable block per cycle, for an assertion message. */
export function describeFolderCycles(cycles: FolderCycle[]): string {
  return cycles
    .map((c) => {
      const edges = c.edges.map((e) => {
        const shown = e.imports.length > LISTED ? e.imports.slice(0, LISTED - 2) : e.imports;
        const more = e.imports.length - shown.length;
        return [
          `  ${e.from} → ${e.to} (${e.imports.length} import${e.imports.length === 1 ? '' : 's'}):`,
          ...shown.map((i) => `    ${i}`),
          ...(more ? [`    … and ${more} more`] : []),
        ].join('\n');
      });
      return [`folder cycle: ${c.folders.join(' ↔ ')}`, ...edges].join('\n');
    })
    .join('\n');
}

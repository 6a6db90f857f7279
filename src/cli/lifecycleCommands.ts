import { Command } from 'commander';
import { AliasMove, exportVersion, importArchive, Lineage, ObjectStore, Registry, VersionRecord } from '../core';
import { formatBytes } from '../shared/format';
import { addEngineExportOptions, engineExport, EngineExportOptions } from './engineCommands';
import { withProgress } from './progress';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;
/** A local or a team registry: for commands that touch only metadata. */
type WithAnyRegistry = <T>(fn: (r: Registry<ObjectStore>) => Promise<T>) => Promise<T>;

/** A model name, or a version reference (NAME@vN, NAME@alias): tags and descriptions apply to either. */
const isVersionRef = (target: string) => target.includes('@');

function moveLine(m: AliasMove): string {
  const what =
    m.from === null
      ? `set to v${m.to}`
      : m.to === null
        ? `removed from v${m.from}`
        : m.from === m.to
          ? `already on v${m.to}`
          : `moved v${m.from} → v${m.to}`;
  return `${m.model}@${m.alias} ${what}`;
}

/** One version per line, tab-separated, aliases as @badges; an import whose process died is "interrupted". */
export function versionLine(v: VersionRecord | Listed): string {
  const badges = [...v.aliases.map((a) => `@${a}`), ...(v.archivedAt ? ['archived'] : [])].join(' ');
  return `${v.ref}\t${v.interrupted ? 'interrupted' : v.status}\t${v.format ?? '-'}\t${formatBytes(v.sizeBytes)}\t${v.git?.commit.slice(0, 8) ?? '-'}\t${v.createdAt}${badges ? `\t${badges}` : ''}`;
}

/** The lineage as an indented tree from each root down, the asked-for version marked. */
function lineageLines(l: Lineage): string[] {
  const byId = new Map(l.nodes.map((n) => [n.id, n]));
  const children = new Map<number, { to: number; kind: string }[]>();
  for (const e of l.edges) children.set(e.from, [...(children.get(e.from) ?? []), e]);
  const hasParent = new Set(l.edges.map((e) => e.to));
  const lines: string[] = [];
  const walk = (id: number, depth: number, kind: string | null) => {
    const n = byId.get(id)!;
    const commit = n.commit ? `  ${n.commit.slice(0, 8)} ${n.subject ?? ''}` : '';
    lines.push(
      `${'  '.repeat(depth)}${kind ? `└─ ${kind}: ` : ''}${n.ref}${n.id === l.focus ? '  ◀' : ''}${n.deleted ? '  (deleted)' : ''}${commit}`,
    );
    for (const c of children.get(id) ?? []) walk(c.to, depth + 1, c.kind);
  };
  for (const n of l.nodes) if (!hasParent.has(n.id)) walk(n.id, 0, null);
  if (l.truncated) lines.push('… (more versions than shown)');
  return lines;
}

type Listed = Omit<VersionRecord, 'status'> & { status: 'interrupted' };

/**
 * What `list MODEL` shows: an import whose process died stays `importing` until gc or Clean up, so it
 * is left out unless asked for (--all), with one line saying so; a number that never became a version
 * is noise in a listing, but hiding it silently would hide that gc has work to do.
 */
export function listedVersions(
  versions: VersionRecord[],
  all: boolean | undefined,
): { shown: (VersionRecord | Listed)[]; note?: string } {
  // Shown, its status says what it is (in --json too): not "importing", which would say it is running.
  if (all) return { shown: versions.map((v) => (v.interrupted ? { ...v, status: 'interrupted' as const } : v)) };
  const shown = versions.filter((v) => !v.interrupted);
  const hidden = versions.length - shown.length;
  return {
    shown,
    note: hidden
      ? `${hidden} interrupted import${hidden === 1 ? '' : 's'} not shown (its process died): modelreg gc removes ${hidden === 1 ? 'it' : 'them'}; --all shows ${hidden === 1 ? 'it' : 'them'}`
      : undefined,
  };
}

export function registerLifecycleCommands(
  program: Command,
  withRegistry: WithRegistry,
  withAnyRegistry: WithAnyRegistry,
  print: (value: unknown) => void,
): void {
  const alias = program
    .command('alias')
    .description('point aliases (production, staging…) at versions; NAME@ALIAS then works anywhere');
  alias
    .command('set')
    .description("point ALIAS of the version's model at the version (moving it if needed)")
    .argument('<ref>', 'NAME@vN (or any reference)')
    .argument('<alias>')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, name: string, o: { json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const move = await r.setAlias(ref, name);
        if (o.json) print(move);
        else console.log(moveLine(move));
      }),
    );
  alias
    .command('rm')
    .description('remove an alias of a model')
    .argument('<model>')
    .argument('<alias>')
    .option('--json', 'machine-readable output')
    .action(async (model: string, name: string, o: { json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const move = await r.removeAlias(model, name);
        if (o.json) print(move);
        else console.log(moveLine(move));
      }),
    );
  alias
    .command('list')
    .description("a model's aliases, or with --history every move (who, when, from → to)")
    .argument('<model>')
    .option('--history', 'every move, newest first')
    .option('--json', 'machine-readable output')
    .action(async (model: string, o: { history?: boolean; json?: boolean }) =>
      withAnyRegistry(async (r) => {
        if (o.history) {
          const moves = await r.aliasHistory(model);
          if (o.json) return print(moves);
          for (const m of moves) console.log(`${m.at}\t${m.by}\t${moveLine(m)}`);
          return;
        }
        await r.requireModel(model);
        const list = await r.aliases(model);
        if (o.json) return print(list);
        if (list.length === 0)
          console.log(`${model} has no aliases. Set one with: modelreg alias set ${model}@vN production`);
        for (const a of list) console.log(`${a.alias}\tv${a.number}`);
      }),
    );

  program
    .command('tag')
    .description('add, remove or list the tags of a model (NAME) or a version (NAME@vN)')
    .argument('<target>', 'NAME or NAME@vN')
    .argument('[tags...]', 'tags to add')
    .option('--remove <tags...>', 'tags to remove')
    .option('--json', 'machine-readable output')
    .action(async (target: string, add: string[], o: { remove?: string[]; json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const current = isVersionRef(target) ? (await r.resolve(target)).tags : (await r.requireModel(target)).tags;
        const next = [...new Set([...current, ...add])].filter((t) => !(o.remove ?? []).includes(t));
        if (add.length || o.remove?.length) {
          if (isVersionRef(target)) await r.setVersionTags(target, next);
          else await r.setModelTags(target, next);
        }
        const tags = isVersionRef(target) ? (await r.resolve(target)).tags : (await r.requireModel(target)).tags;
        if (o.json) print(tags);
        else console.log(tags.length ? tags.join(', ') : `${target} has no tags`);
      }),
    );

  program
    .command('describe')
    .description('set the description of a model (NAME) or a version (NAME@vN)')
    .argument('<target>', 'NAME or NAME@vN')
    .argument('<text>', 'the description ("" clears it)')
    .action(async (target: string, text: string) =>
      withAnyRegistry(async (r) => {
        if (isVersionRef(target)) await r.setVersionDescription(target, text);
        else await r.setModelDescription(target, text);
      }),
    );

  program
    .command('clone')
    .description('copy a version into another model (new or existing) without copying bytes; lineage records it')
    .argument('<ref>')
    .argument('<model>', 'target model name')
    .option('--description <text>')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, model: string, o: { description?: string; json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const v = await r.cloneVersion(ref, model, { description: o.description });
        if (o.json) print(v);
        else
          console.log(
            `Cloned ${v.source.uri} to ${v.ref} (${v.fileCount} files, ${formatBytes(v.sizeBytes)}, no bytes copied)`,
          );
      }),
    );

  program
    .command('lineage')
    .description("a version's ancestors and descendants (clones, conversions, fine-tunes), each with its commit")
    .argument('<ref>')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, o: { json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const l = await r.lineage(ref);
        if (o.json) print(l);
        else for (const line of lineageLines(l)) console.log(line);
      }),
    );

  program
    .command('search')
    .description(
      'versions matching a search: words, name:, tag:, alias:/@, format:, commit:, archived:, metric comparisons (accuracy>0.9)',
    )
    .argument('<terms...>')
    .option('--limit <n>', 'at most this many', (s) => Number(s), 100)
    .option('--json', 'machine-readable output')
    .action(async (terms: string[], o: { limit: number; json?: boolean }) =>
      withAnyRegistry(async (r) => {
        const found = await r.search(terms.join(' '), { limit: o.limit });
        if (o.json) return print(found);
        if (found.length === 0) console.log(`${await r.explainNoMatch(terms.join(' '))}.`);
        for (const v of found) console.log(versionLine(v));
      }),
    );

  addEngineExportOptions(
    program
      .command('export')
      .description(
        'write a version to a .tar (.tar.gz, .tgz) or a new folder: files, metrics and a manifest with hashes and provenance; --as triton/kserve writes a model repository for Triton (and KServe) instead',
      )
      .argument('<ref>')
      .argument('<dest>', 'DEST.tar, DEST.tar.gz or a folder (with --as triton/kserve: the model repository folder)'),
  )
    .option('--json', 'machine-readable output')
    .action(async (ref: string, dest: string, o: EngineExportOptions) =>
      withRegistry((r) => {
        if (o.as !== 'archive') return engineExport(r, ref, dest, o, program.opts<{ store?: string }>().store, print);
        return withProgress('exporting', 'bytes', async (signal, onProgress) => {
          const out = await exportVersion(r, ref, dest, { signal, onProgress });
          if (o.json) print({ ref: out.version.ref, dest: out.dest, bytes: out.bytes });
          else
            console.log(
              `Exported ${out.version.ref} to ${out.dest} (${out.version.fileCount} files, ${formatBytes(out.bytes)})`,
            );
        });
      }),
    );

  program
    .command('import-archive')
    .description('register a version from an archive made by `export` (hashes checked; hostile archives refused)')
    .argument('<src>', 'a .tar, .tar.gz or an exported folder')
    .option('--model <name>', "model to add it to (default: the archive's model)")
    .option('--json', 'machine-readable output')
    .action(async (src: string, o: { model?: string; json?: boolean }) =>
      withRegistry((r) =>
        withProgress('importing', 'bytes', async (signal, onProgress) => {
          const v = await importArchive(r, src, { model: o.model, signal, onProgress });
          if (o.json) print(v);
          else
            console.log(
              `Imported ${v.ref} from ${src} (${v.fileCount} files, ${formatBytes(v.sizeBytes)}${v.git ? `, commit ${v.git.commit.slice(0, 8)}` : ''})`,
            );
        }),
      ),
    );

  program
    .command('archive')
    .description('hide a version from lists and NAME/@latest without deleting it (--undo brings it back)')
    .argument('<ref>')
    .option('--undo', 'unarchive')
    .option('--force', 'also remove the aliases pointing at it')
    .action(async (ref: string, o: { undo?: boolean; force?: boolean }) =>
      withAnyRegistry(async (r) => {
        if (o.undo) return void console.log(`Unarchived ${(await r.unarchiveVersion(ref)).ref}`);
        const { version, removedAliases } = await r.archiveVersion(ref, { force: o.force });
        console.log(
          `Archived ${version.ref}${removedAliases.length ? ` (removed alias ${removedAliases.join(', ')})` : ''}`,
        );
      }),
    );

  program
    .command('delete')
    .description('delete a version; its files stay until `modelreg gc`')
    .argument('<ref>')
    .option('--force', 'also remove the aliases pointing at it')
    .action(async (ref: string, o: { force?: boolean }) =>
      withAnyRegistry(async (r) => {
        const { version, removedAliases } = await r.deleteVersion(ref, { force: o.force });
        console.log(
          `Deleted ${version.ref}${removedAliases.length ? ` (removed alias ${removedAliases.join(', ')})` : ''}; run modelreg gc to free its files`,
        );
      }),
    );
}

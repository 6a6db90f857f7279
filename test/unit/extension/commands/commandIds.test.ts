// The command table (src/extension/commands/commandIds.ts) against package.json and the sources.
// Plain Node: the table does not import vscode.
import * as assert from 'assert';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { COMMANDS, INTERNAL_COMMANDS } from '../../../../src/extension/commands/commandIds';
import { repoRoot } from '../../helpers/paths';

const repo = repoRoot;
const table = new Set<string>(Object.values(COMMANDS));

interface Contributes {
  commands?: { command: string }[];
  menus?: Record<string, { command?: string }[]>;
  keybindings?: { command: string }[];
  viewsWelcome?: { contents: string }[];
  walkthroughs?: { steps?: { description?: string; completionEvents?: string[] }[] }[];
}

/** Every command id package.json names, with where it names it. */
function namedInPackageJson(c: Contributes): [string, string][] {
  const found: [string, string][] = [];
  for (const x of c.commands ?? []) found.push([x.command, 'commands']);
  for (const [menu, items] of Object.entries(c.menus ?? {}))
    for (const x of items) if (x.command) found.push([x.command, `menus.${menu}`]);
  for (const x of c.keybindings ?? []) found.push([x.command, 'keybindings']);
  const links = (text: string, where: string) => {
    for (const m of text.matchAll(/command:([\w.-]+)/g)) found.push([m[1], where]);
  };
  for (const x of c.viewsWelcome ?? []) links(x.contents, 'viewsWelcome');
  for (const w of c.walkthroughs ?? [])
    for (const s of w.steps ?? []) {
      links(s.description ?? '', 'walkthroughs');
      for (const e of s.completionEvents ?? [])
        if (e.startsWith('onCommand:')) found.push([e.slice(10), 'walkthroughs']);
    }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('command table', () => {
  const contributes: Contributes = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).contributes;

  it('has every command package.json contributes, names in a menu, binds to a key or links to', () => {
    const ours = namedInPackageJson(contributes).filter(([id]) => id.startsWith('modelRegistry.'));
    assert.ok(ours.length > 40, 'read the contributions');
    assert.deepStrictEqual(
      ours.filter(([id]) => !table.has(id)).map(([id, where]) => `${id} (${where})`),
      [],
    );
  });

  it('has only commands that package.json contributes, or that are marked internal', () => {
    const contributed = new Set((contributes.commands ?? []).map((c) => c.command));
    const internal = new Set<string>(INTERNAL_COMMANDS);
    assert.deepStrictEqual(
      [...table].filter((id) => !contributed.has(id) && !internal.has(id)),
      [],
    );
    assert.deepStrictEqual(
      [...internal].filter((id) => contributed.has(id)),
      [],
      'an internal command is not contributed',
    );
  });

  it('is the only place in src/extension that spells a command id', () => {
    const tableFile = path.join(repo, 'src/extension/commands/commandIds.ts');
    const offenders: string[] = [];
    for (const file of sources(path.join(repo, 'src/extension'))) {
      if (file === tableFile) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const where = `${path.relative(repo, file)}:${i + 1}: ${line.trim()}`;
          // A literal of the table, or any of ours registered or run by its literal (a new one not in the table).
          for (const m of line.matchAll(/['"`](modelRegistry\.[\w.]+)['"`]/g))
            if (table.has(m[1])) offenders.push(where);
          if (/(registerCommand|executeCommand)\(\s*['"`]modelRegistry\./.test(line)) offenders.push(where);
        });
    }
    assert.deepStrictEqual([...new Set(offenders)], []);
  });
});

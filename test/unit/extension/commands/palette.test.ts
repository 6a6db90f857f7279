// What package.json puts in the Command Palette, the Explorer's context menu and the sidebar
// (plain Node, read from package.json): commands are hidden from the palette only when they need a
// tree row, and the view-state commands show only when they apply.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import { COMMANDS, CONTEXT_KEYS } from '../../../../src/extension/commands/commandIds';
import { repoRoot } from '../../helpers/paths';

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}
const contributes = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).contributes as {
  commands: { command: string }[];
  menus: Record<string, MenuItem[]>;
  views: Record<string, { id: string; visibility?: string }[]>;
  viewsWelcome: { view: string; contents: string }[];
  configuration: { properties: Record<string, { scope?: string }> };
};

/** The commands that cannot run from the palette, and why: each needs a row the palette cannot name. */
const NEEDS_A_ROW: Partial<Record<keyof typeof COMMANDS, string>> = {
  importOutput: 'an Explorer folder or file (the palette has Import Training Output…, importOutputPick)',
  cleanUpImport: "an interrupted import's row",
  revealFile: 'a file row under a version',
  copySha256: 'a file row under a version',
  compareWith: 'the version row to compare with its parent (the palette has Compare Versions…)',
  showMore: 'the "Show more…" row at the end of a page',
  aliasHistory: 'a model row',
  openEvaluation: 'an evaluation row under a version',
  pushVersion: 'rows selected in the Models view',
  pullVersion: 'rows selected in the Team Registry view',
};

describe('Command Palette and menus (package.json)', () => {
  const palette = contributes.menus.commandPalette;
  const whenOf = (id: string) => palette.find((e) => e.command === id)?.when;

  it('hides a command from the palette only when it needs a tree row', () => {
    const hidden = palette.filter((e) => e.when === 'false').map((e) => e.command);
    const allowed = new Set<string>(Object.keys(NEEDS_A_ROW).map((k) => COMMANDS[k as keyof typeof COMMANDS]));
    assert.deepStrictEqual(
      hidden.filter((id) => !allowed.has(id)),
      [],
      'hidden from the palette without needing a row',
    );
    assert.deepStrictEqual(
      [...allowed].filter((id) => !hidden.includes(id)),
      [],
      'listed as needing a row but in the palette: take it off the list',
    );
    for (const k of ['setAlias', 'convertVersion', 'evaluateVersion', 'exportVersion', 'showLineage'] as const)
      assert.strictEqual(whenOf(COMMANDS[k]), undefined, `${k} is in the palette (it asks which version)`);
    for (const k of ['archiveVersion', 'deleteVersion', 'cloneVersion', 'removeAlias', 'unarchiveVersion'] as const)
      assert.strictEqual(whenOf(COMMANDS[k]), undefined, `${k} is in the palette (it asks which version)`);
  });

  it('shows Clear Filter, Show Archived and Hide Archived only when they apply', () => {
    assert.strictEqual(whenOf(COMMANDS.clearFilter), CONTEXT_KEYS.filtered);
    assert.strictEqual(whenOf(COMMANDS.showArchived), `!${CONTEXT_KEYS.showArchived}`);
    assert.strictEqual(whenOf(COMMANDS.hideArchived), CONTEXT_KEYS.showArchived);
    assert.strictEqual(whenOf(COMMANDS.clearTeamFilter), CONTEXT_KEYS.teamFiltered);
  });

  it('names in `when` clauses only context keys the extension sets', () => {
    const ours = new Set<string>(Object.values(CONTEXT_KEYS));
    const views = new Set(Object.values(contributes.views).flatMap((vs) => vs.map((v) => v.id)));
    const named = Object.values(contributes.menus)
      .flat()
      .flatMap((e) => [...(e.when ?? '').matchAll(/\bmodelRegistry\.[\w.]+/g)].map((m) => m[0]))
      .filter((k) => !views.has(k)); // `view == modelRegistry.models` names a view, not a key
    assert.deepStrictEqual([...new Set(named.filter((k) => !ours.has(k)))], []);
  });

  it("puts the Explorer items in a section of their own, not among VS Code's Rename and Delete", () => {
    const groups = contributes.menus['explorer/context'].map((e) => e.group?.split('@')[0]);
    assert.ok(groups.length >= 4);
    assert.deepStrictEqual([...new Set(groups)], ['7_modelRegistry']);
  });

  it('contributes the Runs, Deployments, Datasets and Team Registry panes collapsed; Models open', () => {
    const views = Object.fromEntries(contributes.views.modelRegistry.map((v) => [v.id, v.visibility]));
    assert.deepStrictEqual(views, {
      'modelRegistry.models': undefined,
      'modelRegistry.runs': 'collapsed',
      'modelRegistry.deployments': 'collapsed',
      'modelRegistry.datasets': 'collapsed',
      'modelRegistry.team': 'collapsed',
    });
  });

  it('writes welcome texts without Markdown emphasis (welcome views render links only)', () => {
    for (const w of contributes.viewsWelcome) assert.doesNotMatch(w.contents, /\*\*|__|(^|\s)\*\w/, w.view);
  });

  it('has no machine-scoped settings: the User tab of a remote window (code-server, SSH, WSL) leaves them out', () => {
    const props = Object.entries(contributes.configuration.properties);
    assert.ok(props.some(([k]) => k === 'modelRegistry.convert.profiles'));
    assert.deepStrictEqual(
      props.filter(([, p]) => p.scope === 'machine' || p.scope === 'machine-overridable').map(([k]) => k),
      [],
    );
  });
});

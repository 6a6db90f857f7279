// Every panel page: one folder under webview/, one contract in src/shared/<page>/, one strict HTML
// shell from the panel base (plain Node: pageHtml.ts and the contracts do not import vscode).
import * as assert from 'assert';
import { existsSync, readdirSync } from 'fs';
import { pageHtml } from '../../../../src/extension/panels/pageHtml';
import { parseFromLineagePage, parseLineageState } from '../../../../src/shared/lineage/contract';
import type { PageContract } from '../../../../src/shared/messages';
import { compiled, repoPath } from '../../helpers/paths';

/** The page folders esbuild.mjs builds: every folder under webview/ with a main.ts. */
const pages = readdirSync(repoPath('webview'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(repoPath('webview', d.name, 'main.ts')))
  .map((d) => d.name);

/** The PageContract a page's contract module exports. */
function contractOf(page: string): PageContract<{ type: string }, unknown> {
  const mod = require(compiled('src/shared', page, 'contract.js')) as Record<string, unknown>;
  const found = Object.values(mod).filter(
    (v): v is PageContract<{ type: string }, unknown> =>
      typeof v === 'object' && v !== null && 'bundle' in v && 'parse' in v,
  );
  assert.strictEqual(found.length, 1, `src/shared/${page}/contract.ts exports one PageContract`);
  return found[0];
}

/** Pages that do not come back after a window reload, and why. */
const NOT_RESTORED: Record<string, string> = {
  request: 'it sends to a server the window started, which stops with the window: after a reload there is none',
};

describe('panel pages', () => {
  it('finds the pages (a new folder joins these checks by itself)', () => {
    for (const known of ['compare', 'evaluation', 'lineage']) assert.ok(pages.includes(known), known);
  });

  for (const page of pages) {
    describe(page, () => {
      it('has its stylesheet and a contract naming its bundle and view type', () => {
        assert.ok(existsSync(repoPath('webview', page, `${page}.css`)), `webview/${page}/${page}.css`);
        const contract = contractOf(page);
        assert.strictEqual(contract.bundle, page);
        assert.match(contract.viewType, /^modelRegistry\.[a-z]+$/);
      });

      it('gets a strict shell: nonce script only, nothing remote, no eval, no wildcard', () => {
        const contract = contractOf(page);
        const html = pageHtml(contract, {
          cspSource: 'https://webview.test',
          dist: 'https://webview.test/dist/webview',
          nonce: 'n0nce==',
        });
        const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
        const directives = new Map(
          csp
            .split(';')
            .map((d) => d.trim())
            .filter(Boolean)
            .map((d) => [d.split(' ')[0], d] as const),
        );
        assert.strictEqual(directives.get('default-src'), "default-src 'none'");
        assert.strictEqual(directives.get('script-src'), "script-src 'nonce-n0nce=='");
        assert.ok(!/unsafe-eval|unsafe-inline|\*/.test(csp), csp);
        assert.ok(!/https?:\/\/(?!webview\.test)/.test(csp), csp);
        assert.deepStrictEqual(html.match(/<script[^>]*>/g), [
          `<script nonce="n0nce==" src="https://webview.test/dist/webview/${page}.js">`,
        ]);
      });

      it('ignores what is not its envelope', () => {
        const { parse } = contractOf(page);
        for (const bad of [null, 'ready', [], {}, { type: 7 }, { type: 'x'.repeat(41) }, { type: '__proto__' }])
          assert.strictEqual(parse(bad), undefined, JSON.stringify(bad));
        assert.deepStrictEqual(parse({ type: 'ready', payload: 'ignored' }), { type: 'ready' });
      });

      it('can be restored after a reload, from state it checks', () => {
        const { parseState } = contractOf(page);
        if (page in NOT_RESTORED) {
          assert.strictEqual(parseState, undefined, `${page} says it is not restored: ${NOT_RESTORED[page]}`);
          return;
        }
        assert.ok(parseState, 'the contract validates the state the page keeps');
        for (const bad of [undefined, null, 'x', [], {}, { evaluationId: -1, versionIds: 'x', ref: 4 }])
          assert.strictEqual(parseState(bad), undefined, JSON.stringify(bad));
      });
    });
  }
});

describe('lineage panel contract', () => {
  it('accepts reveal and openCommit of a ref, keeping only the ref', () => {
    assert.deepStrictEqual(parseFromLineagePage({ type: 'reveal', payload: { ref: 'net@v2', x: 1 } }), {
      type: 'reveal',
      payload: { ref: 'net@v2' },
    });
    assert.deepStrictEqual(parseFromLineagePage({ type: 'openCommit', payload: { ref: 'net@v1' } }), {
      type: 'openCommit',
      payload: { ref: 'net@v1' },
    });
  });

  it('rejects the old flat messages, unknown types and refs that are not short strings', () => {
    for (const bad of [
      { type: 'reveal', ref: 'net@v1' },
      { type: 'commit', payload: { ref: 'net@v1' } },
      { type: 'reveal', payload: { ref: '' } },
      { type: 'reveal', payload: { ref: 5 } },
      { type: 'openCommit', payload: { ref: 'x'.repeat(10_000) } },
      { type: 'openCommit', payload: null },
    ])
      assert.strictEqual(parseFromLineagePage(bad), undefined, JSON.stringify(bad).slice(0, 80));
  });

  it('validates restored state', () => {
    assert.deepStrictEqual(parseLineageState({ ref: 'net@v1', other: 1 }), { ref: 'net@v1' });
    for (const bad of [undefined, 'net@v1', { ref: 3 }, { ref: '' }])
      assert.strictEqual(parseLineageState(bad), undefined);
  });
});

import type { CodeComparison, ComparisonModel } from '../../src/shared/compare/contract';
import type { Context } from './context';
import { custom, el } from '../shared/dom';
import { badge, empty, formatDate, icon, section } from './widgets';

/** More files than this are summarised: the full list is one click away in the diff editor. */
const MAX_FILES = 200;

/** What changed in the code between the first version and each other one. */
export class CodeSection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly ctx: Context) {
    const s = section('Code', 'code');
    this.root = s.root;
    this.body = s.body;
  }

  update(model: ComparisonModel): void {
    if (model.code.length === 0) {
      this.body.replaceChildren(
        empty(model.versions.length < 2 ? 'Only one version: no code to compare.' : 'No code comparison available.'),
      );
      return;
    }
    this.body.replaceChildren(...model.code.map((c) => this.card(c)));
  }

  private card(c: CodeComparison): HTMLElement {
    const title = el('h3', {}, el('code', { text: c.baseRef }), ' → ', el('code', { text: c.headRef }));
    if (c.unavailable)
      return el('div', { class: 'code-card' }, title, el('p', { class: 'muted', text: c.unavailable }));
    const open = custom('vscode-button', { attrs: { secondary: '' } }, icon('diff'), ' Open Diff');
    open.addEventListener('click', () =>
      this.ctx.post({ type: 'openDiff', payload: { baseVersionId: c.baseVersionId, headVersionId: c.headVersionId } }),
    );
    const ins = c.files.reduce((n, f) => n + f.insertions, 0);
    const del = c.files.reduce((n, f) => n + f.deletions, 0);
    const stat = el(
      'p',
      { class: 'stat' },
      `${c.files.length} file${c.files.length === 1 ? '' : 's'} changed, `,
      el('span', { class: 'ins', text: `+${ins}` }),
      ' ',
      el('span', { class: 'del', text: `−${del}` }),
      ` · ${c.commits.length} commit${c.commits.length === 1 ? '' : 's'}`,
    );
    return el(
      'div',
      { class: 'code-card' },
      el('div', { class: 'code-head' }, title, open),
      stat,
      this.files(c),
      this.commits(c),
    );
  }

  private files(c: CodeComparison): HTMLElement {
    if (c.files.length === 0) return empty('No file changes.');
    const widest = Math.max(1, ...c.files.map((f) => f.insertions + f.deletions));
    const rows = c.files.slice(0, MAX_FILES).map((f) => {
      let bar: HTMLElement | null = null;
      if (!f.binary) {
        // Widths through CSSOM (allowed by the CSP, unlike style attributes).
        const plus = el('span', { class: 'bar-ins' });
        const minus = el('span', { class: 'bar-del' });
        plus.style.width = `${(f.insertions / widest) * 100}%`;
        minus.style.width = `${(f.deletions / widest) * 100}%`;
        bar = el('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } }, plus, minus);
      }
      return el(
        'tr',
        {},
        el('td', { class: 'path' }, el('code', { text: f.path, title: f.path })),
        f.binary
          ? el('td', { class: 'num' }, badge('binary'))
          : el(
              'td',
              { class: 'num' },
              el('span', { class: 'ins', text: `+${f.insertions}` }),
              ' ',
              el('span', { class: 'del', text: `−${f.deletions}` }),
            ),
        el('td', { class: 'bar-cell' }, bar),
      );
    });
    const table = el(
      'table',
      { class: 'grid files' },
      el('caption', { class: 'visually-hidden', text: `Files changed from ${c.baseRef} to ${c.headRef}` }),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'File', attrs: { scope: 'col' } }),
          el('th', { text: 'Lines', attrs: { scope: 'col' } }),
          el('th', { attrs: { scope: 'col' } }, el('span', { class: 'visually-hidden', text: 'Share of changes' })),
        ),
      ),
      el('tbody', {}, ...rows),
    );
    const more =
      c.files.length > MAX_FILES
        ? el('p', {
            class: 'muted',
            text: `and ${c.files.length - MAX_FILES} more files — open the diff to see them all.`,
          })
        : null;
    return el('div', { class: 'table-scroll' }, table, more);
  }

  private commits(c: CodeComparison): HTMLElement {
    if (c.commits.length === 0) return empty('No commits between these versions.');
    const items = c.commits.map((k) =>
      el(
        'li',
        {},
        el('code', { class: 'hash', text: k.hash.slice(0, 8), title: k.hash }),
        ' ',
        el('span', { class: 'subject', text: k.subject }),
        el('span', { class: 'muted', text: ` — ${k.author}, ${formatDate(k.date)}` }),
      ),
    );
    const details = el(
      'details',
      { class: 'commits' },
      el('summary', { text: `Commits (${c.commits.length})` }),
      el('ul', {}, ...items),
    );
    details.open = c.commits.length <= 20; // long histories start folded
    return details;
  }
}

import type { ComparisonModel, VersionColumn } from '../../src/shared/compare/contract';
import type { Context } from './context';
import { el } from '../shared/dom';
import { formatLabel, weightsLabel } from '../../src/shared/compare/labels';
import { badge, empty, formatBytes, formatDate, section, swatch } from './widgets';

type Cell = (v: VersionColumn) => Node | string;

/** One column per version: identity, artifact facts and the git commit it was trained from. */
export class SummarySection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly ctx: Context) {
    const s = section('Summary', 'summary');
    this.root = s.root;
    this.body = s.body;
  }

  update(model: ComparisonModel): void {
    if (model.versions.length === 0) {
      this.body.replaceChildren(empty('The compared versions no longer exist.'));
      return;
    }
    const rows: [string, Cell][] = [
      ['Model', (v) => v.model],
      ['Version', (v) => el('code', { text: v.ref })],
      ['Aliases & tags', (v) => this.labels(v)],
      ['Format', (v) => formatLabel(v.format, v.framework)],
      ['Size', (v) => formatBytes(v.sizeBytes)],
      // Not "Parameters": that is the section of hyperparameters below.
      ['Weights', (v) => weightsLabel(v.parameterCount)],
      ...(model.versions.some((v) => v.conversion)
        ? ([['Conversion', (v) => this.conversion(v)]] as [string, Cell][])
        : []),
      ['Created', (v) => formatDate(v.createdAt)],
      [
        'Source',
        (v) => el('span', { class: 'source', text: `${v.source.kind}: ${v.source.uri}`, title: v.source.uri }),
      ],
      ['Commit', (v) => this.commit(v)],
    ];
    const head = el(
      'tr',
      {},
      el('th', { class: 'corner', attrs: { scope: 'col' } }, el('span', { class: 'visually-hidden', text: 'Field' })),
      ...model.versions.map((v) =>
        el(
          'th',
          { attrs: { scope: 'col' } },
          swatch(v.color),
          v.ref,
          v.live && badge(v.live.running ? 'running' : 'ended', v.live.running ? 'running' : 'ended'),
        ),
      ),
    );
    // A live column is a training run, not a version yet: it has its output folder and nothing else to show.
    const liveCell = (name: string, v: VersionColumn, cell: Cell): Node | string =>
      !v.live || name === 'Source'
        ? cell(v)
        : name === 'Version'
          ? el('span', { class: 'muted', text: 'training…' })
          : el('span', { class: 'muted', text: '—' });
    const body = rows.map(([name, cell]) =>
      el(
        'tr',
        {},
        el('th', { text: name, attrs: { scope: 'row' } }),
        ...model.versions.map((v) => el('td', {}, liveCell(name, v, cell))),
      ),
    );
    this.body.replaceChildren(
      el(
        'div',
        { class: 'table-scroll' },
        el('table', { class: 'grid summary' }, el('thead', {}, head), el('tbody', {}, ...body)),
      ),
    );
  }

  private labels(v: VersionColumn): Node | string {
    if (v.aliases.length + v.tags.length === 0) return '—';
    return el(
      'span',
      { class: 'badges' },
      ...v.aliases.map((a) => badge(`@${a}`, 'alias')),
      ...v.tags.map((t) => badge(t, 'tag')),
    );
  }

  private conversion(v: VersionColumn): Node | string {
    const c = v.conversion;
    if (!c) return el('span', { class: 'muted', text: '—' });
    return el(
      'div',
      { class: 'conversion' },
      el('div', {}, el('code', { text: c.converter }), c.dtype ? ` · ${c.dtype}` : ''),
      c.from && el('div', { class: 'muted', text: `from ${c.from}` }),
      c.size && el('div', { text: c.size }),
      c.verification &&
        el('div', {
          class: c.verification === 'not verified' ? 'unverified' : 'verified',
          text: c.verification,
        }),
    );
  }

  private commit(v: VersionColumn): Node | string {
    const g = v.git;
    if (!g) return el('span', { class: 'muted', text: 'not from a git repository' });
    const link = el('button', { class: 'link commit-link', text: g.shortCommit, title: `Open commit ${g.commit}` });
    link.addEventListener('click', () => this.ctx.post({ type: 'openCommit', payload: { versionId: v.id } }));
    return el(
      'div',
      { class: 'commit' },
      el(
        'div',
        {},
        link,
        g.dirty && badge('dirty', 'warning'),
        g.branch && el('span', { class: 'muted branch', text: ` on ${g.branch}` }),
      ),
      el('div', { class: 'subject', text: g.subject, title: g.subject }),
      el('div', { class: 'muted', text: `${g.author} · ${formatDate(g.date)}` }),
    );
  }
}

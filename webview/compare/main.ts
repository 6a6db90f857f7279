import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { CompareState, ComparisonModel, Direction, ToWebview, XAxis } from '../../src/core/compare/contract';
import { applyHidden, applyWindow, ChartHost, renderCharts } from './charts';
import { custom, el, formatBytes, formatCount, formatNumber, section } from './dom';

declare function acquireVsCodeApi(): { postMessage(msg: unknown): void; setState(s: CompareState): void };
const vscode = acquireVsCodeApi();

/** UI state that survives live updates of the comparison. */
const ui = {
  baseline: 0 as number, // version id; 0 = first
  filter: '',
  sortBy: 'key' as 'key' | number,
  sortDesc: false,
  onlyDifferences: undefined as boolean | undefined,
  paramFilter: '',
};
let model: ComparisonModel | undefined;
let requestId = 0;
const host: ChartHost = { post: (m) => vscode.postMessage(m), hidden: new Set(), axis: 'step', nextRequestId: () => ++requestId };

const app = document.getElementById('app')!;
const banner = el('div', { class: 'banner' });
banner.hidden = true;
const toolbar = el('div', { class: 'toolbar' });
const summary = section('Summary', 'summary');
const metrics = section('Final metrics', 'metrics');
const curves = section('Curves', 'curves');
const params = section('Parameters', 'params');
const code = section('Code', 'code');
app.append(banner, toolbar, summary.root, metrics.root, curves.root, params.root, code.root);

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (msg.type === 'comparison') {
    model = msg.payload;
    vscode.setState({ versionIds: model.versions.map((v) => v.id) });
    render(model);
  } else if (msg.type === 'seriesWindow' && model) {
    applyWindow(model, msg.payload.requestId, msg.payload.key, msg.payload.series, host);
  } else if (msg.type === 'error') {
    banner.replaceChildren(el('span', { text: msg.payload.message }), closeButton());
    banner.hidden = false;
  }
});
vscode.postMessage({ type: 'ready' });

function closeButton(): HTMLElement {
  const b = el('button', { class: 'link-button', text: 'Dismiss' });
  b.addEventListener('click', () => (banner.hidden = true));
  return b;
}

function baselineIndex(m: ComparisonModel): number {
  return Math.max(0, m.versions.findIndex((v) => v.id === ui.baseline));
}

function render(m: ComparisonModel): void {
  const started = performance.now();
  if (!m.versions.some((v) => v.id === ui.baseline)) ui.baseline = m.versions[0]?.id ?? 0;
  renderToolbar(m);
  renderSummary(m);
  renderMetrics(m);
  renderParams(m);
  renderCode(m);
  renderCharts(curves.body, m, host);
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

function renderToolbar(m: ComparisonModel): void {
  const csv = custom('vscode-button', {}, 'Export CSV');
  const md = custom('vscode-button', { secondary: '' }, 'Export Markdown');
  csv.addEventListener('click', () => vscode.postMessage({ type: 'export', payload: { format: 'csv', baselineVersionId: ui.baseline } }));
  md.addEventListener('click', () => vscode.postMessage({ type: 'export', payload: { format: 'markdown', baselineVersionId: ui.baseline } }));
  const baseline = custom('vscode-single-select', { 'aria-label': 'Baseline version' });
  for (const v of m.versions) {
    const o = custom('vscode-option', { value: String(v.id) }, v.ref);
    if (v.id === ui.baseline) o.setAttribute('selected', '');
    baseline.append(o);
  }
  baseline.addEventListener('change', () => {
    ui.baseline = Number((baseline as HTMLSelectElement).value);
    renderMetrics(m);
  });
  const axis = custom('vscode-single-select', { 'aria-label': 'Chart x axis' });
  const hasTime = m.series.some((s) => s.relTimes);
  for (const [value, label] of [['step', 'x: step'], ['time', 'x: time']] as const) {
    const o = custom('vscode-option', { value }, label);
    if (value === host.axis) o.setAttribute('selected', '');
    if (value === 'time' && !hasTime) o.setAttribute('disabled', '');
    axis.append(o);
  }
  axis.addEventListener('change', () => {
    host.axis = (axis as HTMLSelectElement).value as XAxis;
    renderCharts(curves.body, m, host);
  });
  toolbar.replaceChildren(el('label', { text: 'Baseline' }), baseline, el('label', { text: 'Curves' }), axis, el('span', { class: 'spacer' }), csv, md);
}

function renderSummary(m: ComparisonModel): void {
  const table = el('table', { class: 'grid' });
  const head = el('tr', {}, el('th'));
  for (const v of m.versions) {
    const swatch = el('span', { class: 'swatch' });
    swatch.style.backgroundColor = v.color;
    head.append(el('th', {}, swatch, v.ref));
  }
  table.append(el('thead', {}, head));
  const body = el('tbody');
  const row = (label: string, cell: (v: ComparisonModel['versions'][number]) => Node | string) =>
    body.append(el('tr', {}, el('th', { text: label }), ...m.versions.map((v) => el('td', {}, cell(v)))));
  row('model', (v) => v.model);
  row('tags', (v) => {
    const span = el('span');
    for (const t of [...v.aliases, ...v.tags]) span.append(el('span', { class: 'badge', text: t }));
    return v.aliases.length + v.tags.length ? span : '—';
  });
  row('format', (v) => [v.format, v.framework].filter(Boolean).join(' / ') || '—');
  row('size', (v) => formatBytes(v.sizeBytes));
  row('parameters', (v) => formatCount(v.parameterCount));
  row('created', (v) => new Date(v.createdAt).toLocaleString());
  row('source', (v) => el('span', { class: 'path', text: `${v.source.kind}: ${v.source.uri}`, title: v.source.uri }));
  row('commit', (v) => {
    if (!v.git) return '—';
    const git = v.git;
    const link = el('a', { text: git.shortCommit, title: `Open commit ${git.commit}` });
    link.href = '#';
    link.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openCommit', payload: { versionId: v.id } });
    });
    const box = el('div', {}, link, git.dirty ? el('span', { class: 'badge warn', text: 'dirty' }) : '', el('div', { text: git.subject }));
    box.append(el('div', { class: 'muted', text: `${git.author} · ${new Date(git.date).toLocaleString()} · ${git.branch ?? 'detached'}` }));
    return box;
  });
  table.append(body);
  summary.body.replaceChildren(table);
}

const ARROW: Record<string, string> = { lower: '↓', higher: '↑', none: '?' };

function renderMetrics(m: ComparisonModel): void {
  if (m.metrics.length === 0) {
    metrics.body.replaceChildren(el('p', { class: 'empty', text: 'No metric logs in these versions.' }));
    return;
  }
  const b = baselineIndex(m);
  const filter = custom('vscode-textfield', { placeholder: 'Filter metrics', 'aria-label': 'Filter metrics', value: ui.filter });
  filter.addEventListener('input', () => {
    ui.filter = (filter as HTMLInputElement).value;
    fillRows();
  });
  const table = el('table', { class: 'grid metrics-table' });
  const head = el('tr');
  const sortHeader = (label: string, key: 'key' | number) => {
    const th = el('th', { class: 'sortable', text: label + (ui.sortBy === key ? (ui.sortDesc ? ' ▾' : ' ▴') : '') });
    th.tabIndex = 0;
    th.setAttribute('aria-sort', ui.sortBy === key ? (ui.sortDesc ? 'descending' : 'ascending') : 'none');
    const sort = () => {
      ui.sortDesc = ui.sortBy === key ? !ui.sortDesc : false;
      ui.sortBy = key;
      renderMetrics(m);
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && sort());
    return th;
  };
  head.append(sortHeader('metric', 'key'), el('th', { text: 'better' }), ...m.versions.map((v, i) => sortHeader(v.ref, i)));
  const body = el('tbody');
  table.append(el('thead', {}, head), body);

  function fillRows(): void {
    const rows = m.metrics.filter((r) => r.key.toLowerCase().includes(ui.filter.toLowerCase()));
    rows.sort((x, y) => {
      const c = ui.sortBy === 'key' ? x.key.localeCompare(y.key) : (x.values[ui.sortBy] ?? -Infinity) - (y.values[ui.sortBy] ?? -Infinity);
      return ui.sortDesc ? -c : c;
    });
    body.replaceChildren();
    for (const r of rows) {
      const dir = el('button', { class: 'direction', text: ARROW[r.direction ?? 'none'], title: directionTitle(r.direction, r.directionOverridden) });
      dir.addEventListener('click', () => vscode.postMessage({ type: 'setDirection', payload: { key: r.key, direction: nextDirection(r.direction) } }));
      const tr = el('tr', {}, el('th', { text: r.key }), el('td', {}, dir));
      tr.dataset.key = r.key;
      r.values.forEach((v, i) => {
        const td = el('td', { class: 'num' });
        td.append(el('span', { text: formatNumber(v) }));
        if (r.best.includes(i)) {
          td.classList.add('best');
          td.append(el('span', { class: 'best-mark', text: ' ★', title: 'best' }));
        }
        const base = r.values[b];
        if (i !== b && v !== null && base !== null) {
          const d = v - base;
          const pct = base !== 0 ? ` (${d >= 0 ? '+' : ''}${((100 * d) / Math.abs(base)).toFixed(1)}%)` : '';
          const better = r.direction && d !== 0 ? (r.direction === 'lower' ? d < 0 : d > 0) : undefined;
          td.append(el('div', { class: `delta ${better === undefined ? '' : better ? 'better' : 'worse'}`, text: `${d >= 0 ? '+' : ''}${formatNumber(d)}${pct}` }));
        }
        tr.append(td);
      });
      body.append(tr);
    }
  }
  fillRows();
  metrics.body.replaceChildren(filter, table);
}

function directionTitle(d: Direction | null, overridden: boolean): string {
  const what = d === 'lower' ? 'lower is better' : d === 'higher' ? 'higher is better' : 'direction unknown';
  return `${what}${overridden ? ' (set by you)' : ''} — click to change`;
}

function nextDirection(d: Direction | null): Direction | null {
  return d === 'lower' ? 'higher' : d === 'higher' ? null : 'lower';
}

function renderParams(m: ComparisonModel): void {
  if (m.params.length === 0) {
    params.body.replaceChildren(el('p', { class: 'empty', text: 'No parameter files in these versions.' }));
    return;
  }
  ui.onlyDifferences ??= m.params.length > 20;
  const only = custom('vscode-checkbox', { label: 'Only differences' });
  if (ui.onlyDifferences) only.setAttribute('checked', '');
  const filter = custom('vscode-textfield', { placeholder: 'Filter parameters', 'aria-label': 'Filter parameters', value: ui.paramFilter });
  const table = el('table', { class: 'grid' });
  table.append(el('thead', {}, el('tr', {}, el('th', { text: 'parameter' }), ...m.versions.map((v) => el('th', { text: v.ref })))));
  const body = el('tbody');
  table.append(body);
  const fill = () => {
    body.replaceChildren();
    for (const p of m.params) {
      if (ui.onlyDifferences && !p.differs) continue;
      if (!p.key.toLowerCase().includes(ui.paramFilter.toLowerCase())) continue;
      const tr = el('tr', { class: p.differs ? 'differs' : '' }, el('th', { text: p.key }), ...p.values.map((v) => el('td', { class: 'mono', text: v ?? '—' })));
      body.append(tr);
    }
  };
  only.addEventListener('change', () => {
    ui.onlyDifferences = (only as HTMLInputElement).checked;
    fill();
  });
  filter.addEventListener('input', () => {
    ui.paramFilter = (filter as HTMLInputElement).value;
    fill();
  });
  fill();
  params.body.replaceChildren(el('div', { class: 'row' }, filter, only), table);
}

function renderCode(m: ComparisonModel): void {
  code.body.replaceChildren();
  if (m.code.length === 0) code.body.append(el('p', { class: 'empty', text: 'Pick at least two versions to compare their code.' }));
  for (const c of m.code) {
    const block = el('div', { class: 'code-block' }, el('h3', { text: `${c.baseRef} → ${c.headRef}` }));
    if (c.unavailable) {
      block.append(el('p', { class: 'muted', text: c.unavailable }));
    } else {
      const open = custom('vscode-button', { secondary: '' }, 'Open Diff');
      open.addEventListener('click', () => vscode.postMessage({ type: 'openDiff', payload: { baseVersionId: c.baseVersionId, headVersionId: c.headVersionId } }));
      const stat = el('table', { class: 'grid stat' });
      const max = Math.max(1, ...c.files.map((f) => f.insertions + f.deletions));
      for (const f of c.files) {
        const bar = el('span', { class: 'bar' });
        const ins = el('span', { class: 'ins' });
        const del = el('span', { class: 'del' });
        ins.style.width = `${(60 * f.insertions) / max}px`;
        del.style.width = `${(60 * f.deletions) / max}px`;
        bar.append(ins, del);
        stat.append(el('tr', {}, el('td', { class: 'mono', text: f.path }), el('td', { class: 'num', text: f.binary ? 'binary' : `+${f.insertions} −${f.deletions}` }), el('td', {}, bar)));
      }
      const commits = el('ul', { class: 'commits' });
      for (const k of c.commits) commits.append(el('li', {}, el('code', { text: k.hash.slice(0, 8) }), ` ${k.subject} — ${k.author}, ${new Date(k.date).toLocaleDateString()}`));
      block.append(el('div', { class: 'row' }, el('span', { text: `${c.files.length} files changed, ${c.commits.length} commits` }), open), stat, commits);
    }
    code.body.append(block);
  }
}

// Charts read theme colours when drawn: redraw when VS Code switches the theme (body class changes).
new MutationObserver(() => {
  if (model) {
    renderCharts(curves.body, model, host);
    applyHidden(host);
  }
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

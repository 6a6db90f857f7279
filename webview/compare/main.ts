/**
 * Entry of the compare panel's page. It asks the extension for the comparison, renders it, and
 * re-renders on every new comparison while keeping what the user chose (see UiState).
 */
// Only the web components in use, to keep the bundle small.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { CompareState, ComparisonModel, FromWebview, ToWebview } from '../../src/shared/compare/contract';
import { applyLiveSeries } from '../../src/shared/compare/live';
import { AcrossSection } from './across';
import { ErrorBanner } from './banner';
import { ChartsSection } from './charts';
import { CodeSection } from './code';
import { initialUi, type Context } from './context';
import { el } from '../shared/dom';
import { panelApi } from '../shared/vscodeApi';
import { MetricsSection } from './metricsTable';
import { ParamsSection } from './params';
import { SummarySection } from './summary';
import { Toolbar } from './toolbar';

const vscode = panelApi<FromWebview, ToWebview, CompareState>();
let model: ComparisonModel | undefined;
const ctx: Context = { ui: initialUi(), post: (msg) => vscode.post(msg), model: () => model };

const banner = new ErrorBanner();
const summary = new SummarySection(ctx);
const metrics = new MetricsSection(ctx);
const charts = new ChartsSection(ctx);
const params = new ParamsSection(ctx);
const code = new CodeSection(ctx);
const across = new AcrossSection(ctx);
const toolbar = new Toolbar(ctx, () => metrics.render());
const loading = el('p', { class: 'empty', text: 'Loading the comparison…' });
// Across versions leads: in that mode it is what the user asked for; elsewhere it is hidden.
const sections = [across.root, summary.root, metrics.root, charts.root, params.root, code.root];

const app = document.getElementById('app') ?? document.body.appendChild(el('div'));
const heading = el('h1', { text: 'Compare versions' });
const head = el('header', { class: 'page-head' }, heading, toolbar.root);
app.append(head, banner.root, loading);
// The header stays on top while scrolling: whatever is scrolled or tabbed into view must land below
// it, however many lines the toolbar wraps to.
new ResizeObserver(() => {
  document.documentElement.style.scrollPaddingTop = `${head.offsetHeight}px`;
}).observe(head);

function render(next: ComparisonModel): void {
  model = next;
  heading.textContent = next.acrossModel ? `${next.acrossModel} across versions` : 'Compare versions';
  // Live columns are not restored with the panel: the Runs view adds them again.
  vscode.setState({ versionIds: next.versions.filter((v) => !v.live).map((v) => v.id), acrossModel: next.acrossModel });
  const ui = ctx.ui;
  if (!next.versions.some((v) => v.id === ui.baselineId)) ui.baselineId = next.versions[0]?.id ?? null;
  if (loading.isConnected) {
    loading.remove();
    app.append(el('main', {}, ...sections));
  }
  // Tables first: the charts are built afterwards, as their cards come into view.
  toolbar.update(next);
  summary.update(next);
  metrics.update(next);
  params.update(next);
  code.update(next);
  charts.update(next);
  across.update(next);
  // For tests driving the page: how many comparisons it has rendered.
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

vscode.listen((msg) => {
  try {
    switch (msg.type) {
      case 'comparison':
        performance.mark('compare:comparison');
        render(msg.payload);
        break;
      case 'seriesWindow':
        charts.applyWindow(msg.payload);
        break;
      case 'liveSeries': {
        // A running run's new points: appended to its lines, no re-render of the page.
        if (!model) break;
        const { newKeys } = applyLiveSeries(model, msg.payload);
        metrics.update(model);
        charts.appendLive(msg.payload, newKeys);
        break;
      }
      case 'error':
        banner.show(msg.payload.message);
        break;
    }
  } catch (e) {
    // A rendering bug should say so on the page rather than leave it blank.
    banner.show(`The page could not show this comparison: ${(e as Error).message}`);
    console.error(e);
  }
});

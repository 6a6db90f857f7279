/**
 * Entry of the evaluation panel's page: metric cards, per-class table, confusion matrix and a sample
 * browser. The extension sends the evaluation once; samples come on request (a cell, a class's errors).
 */
import type {
  EvaluationState,
  EvaluationView,
  HostMessage,
  PageMessage,
  SampleQuery,
} from '../../src/shared/evaluation/contract';
import { formatMetric } from '../../src/shared/format';
import { ClassTable } from './classTable';
import { button, el } from '../shared/dom';
import { panelApi } from '../shared/vscodeApi';
import { ConfusionMatrix } from './matrix';
import { SampleBrowser } from './samples';

const vscode = panelApi<PageMessage, HostMessage, EvaluationState>();
let view: EvaluationView | undefined;
/** The latest request; answers to older ones (the user clicked on meanwhile) are dropped. */
let request = 0;
let pending: SampleQuery | undefined;

function ask(q: SampleQuery): void {
  if (!view) return;
  pending = q;
  request++;
  matrix.select('label' in q ? q : undefined);
  samples.loading(view, q);
  if ('label' in q) vscode.post({ type: 'cell', payload: { request, label: q.label, prediction: q.prediction } });
  else if (q.kind === 'errors') vscode.post({ type: 'errors', payload: { request } });
  else vscode.post({ type: 'classErrors', payload: { request, cls: q.cls, kind: q.kind } });
}

const header = el('header', { class: 'page-head' }, el('h1', { text: 'Evaluation' }));
const banner = el('div', { class: 'banner', attrs: { role: 'alert' } });
banner.hidden = true;
const cards = el('section', { class: 'cards', attrs: { 'aria-label': 'Metrics' } });
const classTable = new ClassTable((q) => ask(q));
const matrix = new ConfusionMatrix((label, prediction) => ask({ label, prediction }));
const samples = new SampleBrowser((sampleId) => vscode.post({ type: 'openSample', payload: { sampleId } }));
const app = document.getElementById('app') ?? document.body.appendChild(el('div'));
app.append(header, banner, el('p', { class: 'empty', text: 'Loading the evaluation…' }));

function renderHeader(v: EvaluationView): void {
  const facts: (string | HTMLElement)[] = [
    `dataset ${v.dataset.name}@${v.dataset.manifestSha256.slice(0, 12)}`,
    v.dataset.split ? `split ${v.dataset.split}` : 'all splits',
    `evaluator ${v.evaluator}`,
    v.git
      ? el('span', {
          title: v.git.commit,
          text: `commit ${v.git.commit.slice(0, 10)}${v.git.dirty ? ' (uncommitted changes)' : ''}`,
        })
      : 'no git commit',
    v.finishedAt ? `finished ${new Date(v.finishedAt).toLocaleString()}` : v.status,
  ];
  const meta = el('p', { class: 'meta muted' });
  facts.forEach((f, i) => meta.append(...(i ? [' · ', f] : [f])));
  header.replaceChildren(el('h1', { text: `${v.ref} on ${v.dataset.name}` }), meta);
}

function card(label: string, ...values: [string, number | null][]): HTMLElement {
  return el(
    'div',
    { class: 'card' },
    el('div', { class: 'card-label', text: label }),
    ...values.map(([name, value]) =>
      el(
        'div',
        { class: 'card-value' },
        name ? el('span', { class: 'muted small', text: `${name} ` }) : null,
        formatMetric(value),
      ),
    ),
  );
}

function renderCards(v: EvaluationView): void {
  const m = v.metrics;
  const errors = el(
    'div',
    { class: 'card' },
    el('div', { class: 'card-label', text: 'Errors' }),
    el('div', { class: 'card-value', text: String(v.errorCount) }),
  );
  if (v.errorCount > 0) errors.append(button('Show errors', () => ask({ kind: 'errors' }), { class: 'link' }));
  cards.replaceChildren(
    card('Accuracy', ['', m.accuracy]),
    m.top3 !== null ? card('Top-3 accuracy', ['', m.top3]) : '',
    m.top5 !== null ? card('Top-5 accuracy', ['', m.top5]) : '',
    card('Macro avg', ['P', m.macroPrecision], ['R', m.macroRecall], ['F1', m.macroF1]),
    card('Weighted avg', ['P', m.weightedPrecision], ['R', m.weightedRecall], ['F1', m.weightedF1]),
    card('ECE', ['', m.ece]),
    card('Samples', ['', v.sampleCount]),
    errors,
  );
}

function render(next: EvaluationView): void {
  const first = !view;
  view = next;
  banner.hidden = true;
  renderHeader(next);
  renderCards(next);
  classTable.update(next);
  matrix.update(next);
  if (first) app.replaceChildren(header, banner, el('main', {}, cards, classTable.root, matrix.root, samples.root));
  // For tests driving the page: how many times it rendered.
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

vscode.listen((msg) => {
  try {
    switch (msg.type) {
      case 'init':
        vscode.setState({ evaluationId: msg.payload.id });
        render(msg.payload);
        break;
      case 'samples': {
        const answer = msg.payload;
        if (answer.request === request && view && pending)
          samples.show(view, answer.cell, answer.samples, answer.total);
        break;
      }
      case 'error':
        if (msg.payload.request !== undefined) {
          if (msg.payload.request === request) samples.failed(msg.payload.message);
        } else {
          banner.textContent = msg.payload.message;
          banner.hidden = false;
        }
        break;
    }
  } catch (e) {
    // A rendering bug should say so on the page rather than leave it blank.
    banner.textContent = `The page could not show this evaluation: ${(e as Error).message}`;
    banner.hidden = false;
    console.error(e);
  }
});

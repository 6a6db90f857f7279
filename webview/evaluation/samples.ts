import type { EvaluationView, SampleQuery, SampleView } from '../../src/shared/evaluation/contract';
import { formatMetric } from '../../src/shared/format';
import { button, el } from '../shared/dom';
import { className, plural } from './labels';

/** What a query lists, in words. */
function describe(view: EvaluationView, q: SampleQuery): string {
  const name = (i: number) => className(view.classes, i);
  if ('label' in q) return `Labelled ${name(q.label)}, predicted ${name(q.prediction)}`;
  if (q.kind === 'errors') return 'Samples that could not be evaluated';
  return q.kind === 'fp'
    ? `False positives of ${name(q.cls)} (predicted ${name(q.cls)}, labelled otherwise)`
    : `False negatives of ${name(q.cls)} (labelled ${name(q.cls)}, predicted otherwise)`;
}

/** The samples behind the chosen cell or class, most confident first. */
export class SampleBrowser {
  private readonly heading = el('h2', { text: 'Samples', attrs: { id: 'samples-title' } });
  // Announced to screen readers when a list arrives, as the focus stays on the cell.
  private readonly status = el('p', {
    class: 'muted',
    text: 'Choose a cell of the confusion matrix, or a class’s false positives or negatives.',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });
  private readonly list = el('ul', { class: 'samples' });
  readonly root = el(
    'section',
    { class: 'section', attrs: { 'aria-labelledby': 'samples-title' } },
    this.heading,
    this.status,
    this.list,
  );

  constructor(private readonly openSample: (sampleId: string) => void) {}

  loading(view: EvaluationView, q: SampleQuery): void {
    this.heading.textContent = describe(view, q);
    this.status.textContent = 'Loading…';
    this.list.replaceChildren();
  }

  failed(message: string): void {
    this.status.textContent = message;
    this.list.replaceChildren();
  }

  show(view: EvaluationView, q: SampleQuery, samples: SampleView[], total = samples.length): void {
    this.heading.textContent = describe(view, q);
    this.status.textContent = !samples.length
      ? 'No samples.'
      : total > samples.length
        ? `The ${samples.length} most confident of ${plural(total, 'sample')}.`
        : `${plural(samples.length, 'sample')}, most confident first.`;
    this.list.replaceChildren(...samples.map((s) => this.item(view, s)));
  }

  private item(view: EvaluationView, s: SampleView): HTMLElement {
    const label = className(view.classes, s.label);
    const prediction = className(view.classes, s.prediction);
    const outcome = el(
      'div',
      { class: 'outcome' },
      el('span', { text: label }),
      el('span', { class: 'muted', text: ' → ' }),
      el('span', { class: s.label !== null && s.label === s.prediction ? 'right' : 'wrong', text: prediction }),
      el('span', { class: 'muted score', text: s.score === null ? '' : ` · ${formatMetric(s.score)}` }),
    );
    let preview: HTMLElement;
    if (s.thumbnail) {
      const img = el('img', {
        attrs: { src: s.thumbnail, alt: `${s.sampleId}: labelled ${label}, predicted ${prediction}`, loading: 'lazy' },
      });
      preview = button('', () => this.openSample(s.sampleId), { class: 'thumb', title: `Open ${s.sampleId}` });
      preview.append(img);
    } else {
      preview = el('code', { class: 'snippet', text: s.text ?? s.sampleId });
    }
    return el(
      'li',
      { class: 'sample' },
      preview,
      s.thumbnail ? el('div', { class: 'sample-id muted small', text: s.sampleId, title: s.sampleId }) : null,
      outcome,
      s.error ? el('div', { class: 'error small', text: s.error }) : null,
    );
  }
}

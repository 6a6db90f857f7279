import type { ComparisonModel } from '../../src/shared/compare/contract';
import type { Context } from './context';
import { custom, el } from '../shared/dom';
import { paramLabel } from '../../src/shared/compare/labels';
import { empty, section, swatch } from './widgets';

/** Above this many rows the table starts with only the differing ones. */
const ONLY_DIFFERENCES_ABOVE = 20;

/** The union of parameter keys × versions, differing rows highlighted. */
export class ParamsSection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly filter: HTMLElement & { value: string };
  private readonly onlyDiffs: HTMLElement & { checked: boolean };
  private readonly count = el('span', { class: 'muted count', attrs: { 'aria-live': 'polite' } });

  constructor(private readonly ctx: Context) {
    const s = section('Parameters', 'params');
    this.root = s.root;
    this.body = s.body;
    this.onlyDiffs = custom('vscode-checkbox', { attrs: { label: 'Only differences' } });
    this.onlyDiffs.addEventListener('change', () => {
      ctx.ui.onlyDifferences = this.onlyDiffs.checked;
      this.render();
    });
    this.filter = custom('vscode-textfield', {
      attrs: { placeholder: 'Filter parameters', 'aria-label': 'Filter parameters by key' },
    });
    this.filter.addEventListener('input', () => {
      ctx.ui.paramFilter = this.filter.value;
      this.render();
    });
    s.controls.append(this.filter, this.onlyDiffs, this.count);
  }

  update(_model: ComparisonModel): void {
    if (this.filter.value !== this.ctx.ui.paramFilter) this.filter.value = this.ctx.ui.paramFilter;
    this.render();
  }

  private render(): void {
    const model = this.ctx.model();
    if (!model) return;
    const ui = this.ctx.ui;
    const only = ui.onlyDifferences ?? model.params.length > ONLY_DIFFERENCES_ABOVE;
    this.onlyDiffs.checked = only;
    if (model.params.length === 0) {
      this.count.textContent = '';
      this.body.replaceChildren(empty('No parameters recorded in these versions.'));
      return;
    }
    const needle = ui.paramFilter.trim().toLowerCase();
    const rows = model.params.filter((p) => (!only || p.differs) && p.key.toLowerCase().includes(needle));
    const differing = model.params.filter((p) => p.differs).length;
    this.count.textContent = `${rows.length} of ${model.params.length} shown · ${differing} differ`;
    if (rows.length === 0) {
      this.body.replaceChildren(
        empty(
          only && differing === 0 && !needle
            ? 'All parameters are the same in these versions.'
            : 'No parameter matches the filter.',
        ),
      );
      return;
    }
    const head = el(
      'tr',
      {},
      el('th', { text: 'Parameter', attrs: { scope: 'col' } }),
      ...model.versions.map((v) => el('th', { attrs: { scope: 'col' } }, swatch(v.color), v.ref)),
    );
    const body = rows.map((p) => {
      const label = paramLabel(p, model.params);
      return el(
        'tr',
        { class: p.differs ? 'differs' : '', attrs: { 'data-key': p.key } },
        el(
          'th',
          { class: 'key', title: label.title, attrs: { scope: 'row' } },
          p.differs &&
            el('span', { class: 'differs-mark', text: '≠ ', title: 'Differs', attrs: { 'aria-label': 'differs' } }),
          label.text,
          label.file && el('span', { class: 'muted param-file', text: ` ${label.file}` }),
        ),
        ...p.values.map((v) =>
          v === null
            ? el('td', { class: 'missing', text: '—', attrs: { 'aria-label': 'missing' } })
            : el('td', {}, el('code', { class: 'param-value', text: v, title: v })),
        ),
      );
    });
    this.body.replaceChildren(
      el(
        'div',
        { class: 'table-scroll' },
        el('table', { class: 'grid params' }, el('thead', {}, head), el('tbody', {}, ...body)),
      ),
    );
  }
}

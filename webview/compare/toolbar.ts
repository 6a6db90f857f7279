import type { ComparisonModel } from '../../src/shared/compare/contract';
import type { Context } from './context';
import { custom, el } from '../shared/dom';
import { icon } from './widgets';

/** Export buttons and the baseline picker at the top of the page. */
export class Toolbar {
  readonly root: HTMLElement;
  private readonly select: HTMLElement & { value: string };
  private optionIds = '';

  constructor(
    private readonly ctx: Context,
    onBaselineChange: () => void,
  ) {
    const csv = custom('vscode-button', { attrs: { secondary: '' } }, icon('table'), ' Export CSV');
    const md = custom('vscode-button', { attrs: { secondary: '' } }, icon('markdown'), ' Export Markdown');
    csv.addEventListener('click', () => this.export('csv'));
    md.addEventListener('click', () => this.export('markdown'));
    this.select = custom('vscode-single-select', { attrs: { id: 'baseline', 'aria-label': 'Baseline version' } });
    this.select.addEventListener('change', () => {
      const id = Number(this.select.value);
      if (!Number.isInteger(id) || id === ctx.ui.baselineId) return;
      ctx.ui.baselineId = id;
      onBaselineChange();
    });
    const label = el('label', { class: 'baseline-label', text: 'Baseline', attrs: { for: 'baseline' } });
    this.root = el(
      'div',
      { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Comparison actions' } },
      csv,
      md,
      el('span', { class: 'spacer' }),
      label,
      this.select,
    );
  }

  private export(format: 'csv' | 'markdown'): void {
    const model = this.ctx.model();
    if (!model || model.versions.length === 0) return;
    this.ctx.post({
      type: 'export',
      payload: { format, baselineVersionId: this.ctx.ui.baselineId ?? model.versions[0].id },
    });
  }

  update(model: ComparisonModel): void {
    // Rebuild the options only when the versions changed, so an open dropdown is not disturbed.
    const ids = model.versions.map((v) => `${v.id}:${v.ref}`).join(',');
    if (ids !== this.optionIds) {
      this.optionIds = ids;
      this.select.replaceChildren(
        ...model.versions.map((v) => {
          const o = custom('vscode-option', { text: v.ref, attrs: { value: String(v.id) } });
          if (v.id === this.ctx.ui.baselineId) o.setAttribute('selected', '');
          return o;
        }),
      );
    }
    if (this.ctx.ui.baselineId !== null) this.select.value = String(this.ctx.ui.baselineId);
  }
}

import { Chart } from 'chart.js';
import { buildAcrossPlot, defaultAcrossMetric, type AcrossPlot } from '../../src/shared/compare/across';
import type { ComparisonModel } from '../../src/shared/compare/contract';
import { el } from '../shared/dom';
import type { Context } from './context';
import { onThemeChange, readTheme } from './theme';
import { empty, formatNumber, section } from './widgets';

type Point = { x: number; y: number };

/**
 * Plot Metric Across Versions: one metric's final value per version of a model (x = version), the
 * best marked by the metric's goal, and the same numbers as a table. Shown only in that mode.
 * (charts.ts registers the line chart parts with chart.js.)
 */
export class AcrossSection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly picker = el('select', { attrs: { 'aria-label': 'Metric to plot across versions' } });
  private readonly canvas = el('canvas', { attrs: { role: 'img' } });
  private readonly caption = el('p', { class: 'muted small across-caption', attrs: { 'aria-live': 'polite' } });
  private readonly table = el('div', { class: 'table-scroll' });
  private chart: Chart<'line', Point[]> | undefined;
  /** The metric the user picked; kept across live updates. */
  private key: string | undefined;

  constructor(private readonly ctx: Context) {
    const s = section('Across versions', 'across');
    this.root = s.root;
    this.body = s.body;
    s.controls.append(el('label', { class: 'control-label', text: 'Metric' }), this.picker);
    this.picker.addEventListener('change', () => {
      this.key = this.picker.value;
      this.render();
    });
    onThemeChange(() => {
      this.chart?.destroy();
      this.chart = undefined;
      this.render();
    });
  }

  update(model: ComparisonModel): void {
    this.root.hidden = !model.acrossModel;
    if (!model.acrossModel) return;
    const keys = model.metrics.map((m) => m.key);
    if (!this.key || !keys.includes(this.key)) this.key = defaultAcrossMetric(model);
    this.picker.replaceChildren(
      ...keys.map((k) => el('option', { text: k, attrs: { value: k, ...(k === this.key ? { selected: '' } : {}) } })),
    );
    if (this.key) this.picker.value = this.key;
    this.render();
  }

  private render(): void {
    const model = this.ctx.model();
    if (!model?.acrossModel) return;
    const plot = this.key ? buildAcrossPlot(model, this.key) : undefined;
    if (!plot || plot.points.length === 0) {
      this.chart?.destroy();
      this.chart = undefined;
      this.body.replaceChildren(
        empty(plot ? `No version of ${model.acrossModel} has a final ${plot.key}.` : 'No metrics in these versions.'),
      );
      return;
    }
    if (!this.canvas.isConnected)
      this.body.replaceChildren(el('div', { class: 'chart-box across-box' }, this.canvas), this.caption, this.table);
    this.caption.textContent = caption(plot);
    this.canvas.setAttribute('aria-label', `${plot.key} per version of ${model.acrossModel}`);
    this.table.replaceChildren(table(plot));
    this.draw(plot);
  }

  private draw(plot: AcrossPlot): void {
    const t = readTheme();
    const data = plot.points.map((p) => ({ x: p.number, y: p.value }));
    const best = plot.points.map((p) => p.best);
    const dataset = {
      label: plot.key,
      data,
      borderColor: '#4e79a7',
      backgroundColor: '#4e79a7',
      borderWidth: 1.5,
      // The best version is a larger star, so it reads without colour.
      pointStyle: best.map((b) => (b ? 'star' : 'circle')),
      pointRadius: best.map((b) => (b ? 8 : 3)),
      pointBorderColor: best.map((b) => (b ? t.foreground : '#4e79a7')),
    };
    if (this.chart) {
      this.chart.data.datasets = [dataset];
      this.chart.update('none');
      return;
    }
    this.chart = new Chart<'line', Point[]>(this.canvas, {
      type: 'line',
      data: { datasets: [dataset] },
      options: {
        animation: false,
        parsing: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            type: 'linear',
            offset: true,
            title: { display: true, text: 'Version', color: t.muted },
            grid: { color: t.grid },
            ticks: {
              stepSize: 1,
              color: t.muted,
              callback: (v) => (Number.isInteger(Number(v)) ? `v${v}` : ''),
            },
          },
          y: {
            type: 'linear',
            grace: '5%',
            grid: { color: t.grid },
            ticks: { color: t.muted, callback: (v) => formatNumber(Number(v)) },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: t.tooltipBackground,
            titleColor: t.tooltipForeground,
            bodyColor: t.tooltipForeground,
            callbacks: {
              title: (items) => plot.points[items[0]?.dataIndex ?? 0]?.ref ?? '',
              label: (item) => `${this.key}: ${formatNumber(item.parsed.y)}`,
            },
          },
        },
      },
    });
  }
}

function caption(plot: AcrossPlot): string {
  const best = plot.points.filter((p) => p.best).map((p) => `v${p.number}`);
  const goal =
    plot.goal === 'lower' || plot.goal === 'higher'
      ? `Best (${plot.goal} is better): ${best.join(', ')} ★`
      : 'Not a goal: no best version.';
  const missing = plot.missing.length ? ` Without ${plot.key}: ${plot.missing.join(', ')}.` : '';
  return `${goal}${missing}`;
}

function table(plot: AcrossPlot): HTMLElement {
  return el(
    'table',
    { class: 'grid across' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { text: 'Version', attrs: { scope: 'col' } }),
        el('th', { text: plot.key, attrs: { scope: 'col' } }),
      ),
    ),
    el(
      'tbody',
      {},
      ...plot.points.map((p) =>
        el(
          'tr',
          { class: p.best ? 'best' : '' },
          el('th', { text: p.ref, attrs: { scope: 'row' } }),
          el('td', { text: `${formatNumber(p.value)}${p.best ? ' ★' : ''}` }),
        ),
      ),
    ),
  );
}

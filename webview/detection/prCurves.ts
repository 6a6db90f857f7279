/** Precision–recall curves at IoU 0.5, one line per class; clicking a legend entry hides or shows it (chart.js). */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { DetectionView } from '../../src/shared/detection/contract';
import { el } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** A distinct hue per class (golden-angle steps), readable on light and dark backgrounds. */
const colour = (i: number) => `hsl(${Math.round((i * 137.508) % 360)}, 65%, 50%)`;

export class PrCurves {
  private readonly canvas = el('canvas', { attrs: { role: 'img', 'aria-label': 'Precision–recall curves per class' } });
  readonly root = el(
    'section',
    { class: 'section', attrs: { 'aria-labelledby': 'pr-title' } },
    el('h2', { text: 'Precision–recall at IoU 0.5', attrs: { id: 'pr-title' } }),
    el('div', { class: 'chart-box' }, this.canvas),
  );
  private chart: Chart<'line', { x: number; y: number | null }[]> | undefined;

  update(v: DetectionView): void {
    const cs = getComputedStyle(document.body);
    const fg = cs.getPropertyValue('--vscode-foreground').trim() || '#808080';
    const grid = cs.getPropertyValue('--vscode-panel-border').trim() || 'rgba(128,128,128,0.3)';
    const datasets = v.prCurves.map((c, i) => ({
      label: c.class,
      data: c.recall.map((x, j) => ({ x, y: c.precision[j] ?? null })),
      borderColor: colour(i),
      backgroundColor: colour(i),
      borderWidth: 1.5,
      pointRadius: 0,
      spanGaps: false,
    }));
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: {
            type: 'linear',
            min: 0,
            max: 1,
            title: { display: true, text: 'recall', color: fg },
            ticks: { color: fg },
            grid: { color: grid },
          },
          y: {
            type: 'linear',
            min: 0,
            max: 1,
            title: { display: true, text: 'precision', color: fg },
            ticks: { color: fg },
            grid: { color: grid },
          },
        },
        plugins: {
          legend: { position: 'right', labels: { color: fg, boxWidth: 12 } },
          tooltip: { mode: 'nearest', intersect: false },
        },
      },
    });
  }
}

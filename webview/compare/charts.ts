import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import type { ComparisonModel, SeriesData, XAxis } from '../../src/core/compare/contract';
import { el, formatNumber } from './dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend, zoomPlugin);

export interface ChartHost {
  post(msg: unknown): void;
  /** Versions hidden through any chart's legend: shared by all charts. */
  hidden: Set<number>;
  axis: XAxis;
  nextRequestId(): number;
}

interface Card {
  key: string;
  chart: Chart<'line'>;
  overview: SeriesData[];
  pendingRequest?: number;
}

const cards = new Map<string, Card>();

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function points(s: SeriesData, axis: XAxis): { x: number; y: number | null }[] {
  const xs = axis === 'time' && s.relTimes ? s.relTimes : s.steps;
  return xs.map((x, i) => ({ x, y: Number.isFinite(s.values[i]) ? s.values[i] : null }));
}

function datasets(model: ComparisonModel, series: SeriesData[], host: ChartHost) {
  return model.versions.flatMap((v) => {
    const s = series.find((x) => x.versionId === v.id);
    if (!s) return [];
    return [{ label: v.ref, data: points(s, host.axis), borderColor: v.color, backgroundColor: v.color, borderWidth: 1.5, pointRadius: 0, spanGaps: false, hidden: host.hidden.has(v.id), versionId: v.id }];
  });
}

/** One chart card per metric key with series; replaces any previous charts. */
export function renderCharts(container: HTMLElement, model: ComparisonModel, host: ChartHost): void {
  for (const c of cards.values()) c.chart.destroy();
  cards.clear();
  container.replaceChildren();
  const keys = [...new Set(model.series.map((s) => s.key))].sort();
  if (keys.length === 0) {
    container.append(el('p', { class: 'empty', text: 'No metric curves in these versions.' }));
    return;
  }
  for (const key of keys) {
    const overview = model.series.filter((s) => s.key === key);
    const canvas = el('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${key} curves of ${model.versions.map((v) => v.ref).join(', ')}`);
    const status = el('span', { class: 'status' });
    const reset = el('button', { class: 'link-button', text: 'Reset zoom' });
    const copy = el('button', { class: 'link-button', text: 'Copy as PNG' });
    const card = el('div', { class: 'chart-card' }, el('div', { class: 'chart-head' }, el('h3', { text: key }), reset, copy, status), el('div', { class: 'chart-box' }, canvas));
    container.append(card);
    const grid = themeColor('--vscode-panel-border', '#8884');
    const fg = themeColor('--vscode-foreground', '#888');
    const chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: datasets(model, overview, host) as never },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: host.axis === 'time' ? 'seconds' : 'step', color: fg }, grid: { color: grid }, ticks: { color: fg } },
          y: { type: 'linear', grid: { color: grid }, ticks: { color: fg } },
        },
        plugins: {
          legend: {
            labels: { color: fg, boxWidth: 12 },
            onClick: (_e, item) => {
              const id = (chart.data.datasets[item.datasetIndex!] as unknown as { versionId: number }).versionId;
              if (host.hidden.has(id)) host.hidden.delete(id);
              else host.hidden.add(id);
              applyHidden(host);
            },
          },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatNumber(c.parsed.y)}` } },
          zoom: {
            zoom: { wheel: { enabled: true }, drag: { enabled: true, modifierKey: 'shift' }, pinch: { enabled: true }, mode: 'x', onZoomComplete: ({ chart: ch }) => requestWindow(key, ch, host) },
            pan: { enabled: true, mode: 'x', onPanComplete: ({ chart: ch }) => requestWindow(key, ch, host) },
          },
        },
      },
    });
    const entry: Card = { key, chart, overview };
    cards.set(key, entry);
    reset.addEventListener('click', () => {
      entry.pendingRequest = undefined;
      chart.data.datasets = datasets(model, overview, host) as never;
      chart.resetZoom();
      chart.update('none');
    });
    copy.addEventListener('click', () => void copyPng(key, canvas, status, host));
  }
}

function requestWindow(key: string, chart: Chart, host: ChartHost): void {
  const card = cards.get(key);
  if (!card) return;
  const { min, max } = chart.scales.x;
  card.pendingRequest = host.nextRequestId();
  host.post({ type: 'requestWindow', payload: { requestId: card.pendingRequest, key, axis: host.axis, min, max } });
}

/** A finer window arrived from the extension: swap the data, keep the zoom. */
export function applyWindow(model: ComparisonModel, requestId: number, key: string, series: SeriesData[], host: ChartHost): void {
  const card = cards.get(key);
  if (!card || card.pendingRequest !== requestId) return; // a newer zoom superseded it
  const { min, max } = card.chart.scales.x;
  card.chart.data.datasets = datasets(model, series, host) as never;
  card.chart.options.scales!.x!.min = min;
  card.chart.options.scales!.x!.max = max;
  card.chart.update('none');
}

export function applyHidden(host: ChartHost): void {
  for (const c of cards.values()) {
    c.chart.data.datasets.forEach((d, i) => c.chart.setDatasetVisibility(i, !host.hidden.has((d as unknown as { versionId: number }).versionId)));
    c.chart.update('none');
  }
}

async function copyPng(key: string, canvas: HTMLCanvasElement, status: HTMLElement, host: ChartHost): Promise<void> {
  try {
    const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no image'))), 'image/png'));
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    status.textContent = 'Copied';
  } catch {
    // Webviews often have no clipboard access: let the extension save the image instead.
    host.post({ type: 'savePng', payload: { key, dataUrl: canvas.toDataURL('image/png') } });
    status.textContent = 'Saving…';
  }
  setTimeout(() => (status.textContent = ''), 2000);
}

export function chartCount(): number {
  return cards.size;
}

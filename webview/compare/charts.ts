import { Chart, Interaction, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { ChartDataset, InteractionItem, InteractionModeFunction, Plugin } from 'chart.js';
import { getRelativePosition } from 'chart.js/helpers';
import zoomPlugin from 'chartjs-plugin-zoom';
import { visibleYRange } from '../../src/shared/compare/chartRange';
import type { ComparisonModel, LiveSeriesUpdate, SeriesData, XAxis } from '../../src/shared/compare/contract';
import type { Context } from './context';
import { custom, el } from '../shared/dom';
import { empty, formatCount, formatDuration, formatNumber, icon, section, swatch } from './widgets';
import { copyChartPng } from './exporting';
import { onThemeChange, readTheme, type Theme } from './theme';

type Point = { x: number; y: number | null };
type LineChart = Chart<'line', Point[]>;

declare module 'chart.js' {
  interface InteractionModeMap {
    xPerDataset: InteractionModeFunction;
  }
}

// Tree-shaken chart.js: only what line charts on linear axes need.
Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend, zoomPlugin);

/**
 * Hover/tooltip mode: for each visible line, the point nearest the pointer's x. Versions log at
 * different steps, so chart.js's "index" mode would pair unrelated points of different lines.
 */
Interaction.modes.xPerDataset = (chart, e) => {
  const pos = getRelativePosition(e, chart as never);
  const area = chart.chartArea;
  const scale = chart.scales.x;
  if (!scale || pos.x < area.left || pos.x > area.right || pos.y < area.top || pos.y > area.bottom) return [];
  const x = scale.getValueForPixel(pos.x) ?? NaN;
  const slack = Math.abs((scale.getValueForPixel(pos.x + 6) ?? x) - x); // 6 px in data units
  const items: InteractionItem[] = [];
  for (const meta of chart.getSortedVisibleDatasetMetas()) {
    const data = chart.data.datasets[meta.index].data as Point[];
    if (data.length === 0 || x < data[0].x - slack || x > data[data.length - 1].x + slack) continue; // a shorter run does not "hold" its last value
    const i = nearest(data, x);
    if (data[i].y !== null && meta.data[i]) items.push({ element: meta.data[i], datasetIndex: meta.index, index: i });
  }
  return items;
};

/** Takes the tooltip and the hover marks off a chart. */
function hideTooltip(chart: LineChart | undefined): void {
  if (!chart || (chart.getActiveElements().length === 0 && !chart.tooltip?.getActiveElements().length)) return;
  chart.setActiveElements([]);
  chart.tooltip?.setActiveElements([], { x: 0, y: 0 });
  chart.update('none');
}

/** Index of the point with x nearest to the given value (points sorted by x). */
function nearest(data: Point[], x: number): number {
  let lo = 0;
  let hi = data.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (data[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && x - data[lo - 1].x <= data[lo].x - x ? lo - 1 : lo;
}

const DURATION_STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800,
];

function durationTicks(min: number, max: number, count: number): { value: number }[] {
  const range = max - min;
  if (!(range > 0)) return [{ value: min }];
  const step = DURATION_STEPS.find((d) => range / d <= count) ?? Math.ceil(range / count / 86400) * 86400;
  const ticks: { value: number }[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push({ value: Number(v.toPrecision(12)) });
  return ticks;
}

interface Card {
  key: string;
  root: HTMLElement;
  canvas: HTMLCanvasElement;
  status: HTMLElement;
  /** Says which versions the chart cannot show (no wall times on the time axis). */
  note: HTMLElement;
  reset: HTMLButtonElement;
  chart?: LineChart;
  /** The overview series of this key (what the comparison carried). */
  overview: SeriesData[];
  /** Version id per dataset index, to map legend clicks to the shared hidden set. */
  versionIds: number[];
  /** The window request whose answer this chart waits for; older answers are dropped. */
  pendingRequest?: number;
  windowTimer?: ReturnType<typeof setTimeout>;
}

let requestCounter = 0;
let firstChartMarked = false;

/** One line chart per metric key, lines coloured per version; shared x-axis choice and hidden set. */
export class ChartsSection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly grid = el('div', { class: 'chart-grid' });
  private readonly legend = el('div', {
    class: 'legend',
    attrs: { role: 'group', 'aria-label': 'Versions shown in the charts' },
  });
  private readonly axisGroup: HTMLElement;
  /** The "X axis" label and its Step/Time choice: hidden when no series has wall times. */
  private readonly axisControl: HTMLElement;
  private readonly timeRadio: HTMLElement & { checked: boolean };
  private readonly stepRadio: HTMLElement & { checked: boolean };
  private readonly cards = new Map<string, Card>();
  private readonly observer: IntersectionObserver;
  private model: ComparisonModel | undefined;
  private theme: Theme | undefined;
  /** The axis the charts currently show (the user's choice unless no series has wall times). */
  private shownAxis: XAxis = 'step';

  constructor(private readonly ctx: Context) {
    const s = section('Curves', 'curves');
    this.root = s.root;
    this.body = s.body;
    this.stepRadio = custom('vscode-radio', { attrs: { label: 'Step', value: 'step', name: 'x-axis' } });
    this.timeRadio = custom('vscode-radio', { attrs: { label: 'Time', value: 'time', name: 'x-axis' } });
    this.axisGroup = custom(
      'vscode-radio-group',
      { attrs: { 'aria-label': 'X axis' } },
      this.stepRadio,
      this.timeRadio,
    );
    this.axisGroup.addEventListener('change', () => {
      const axis: XAxis = this.timeRadio.checked ? 'time' : 'step';
      if (axis === this.ctx.ui.axis) return;
      this.ctx.ui.axis = axis;
      // Rebuilding every chart must leave the page where the reader is.
      const top = document.scrollingElement?.scrollTop ?? 0;
      if (this.model) this.update(this.model); // switches every chart and resets their zoom
      if (document.scrollingElement) document.scrollingElement.scrollTop = top;
    });
    const hint = el('span', {
      class: 'muted small hint',
      text: 'Drag to zoom · Ctrl+wheel to zoom · Shift+drag to pan · double-click to reset',
    });
    this.axisControl = el(
      'span',
      { class: 'axis-control' },
      el('span', { class: 'control-label', text: 'X axis' }),
      this.axisGroup,
    );
    s.controls.append(this.axisControl, this.legend, hint);
    // Charts are built when their card scrolls near the viewport: the first one draws sooner.
    // The root is this document's own viewport: with the default root (the top window's viewport)
    // the webview's iframe clips the cards first and the margin never applies, so in VS Code a
    // chart was only built once it was already on screen and showed as an empty box meanwhile.
    this.observer = new IntersectionObserver((entries) => this.onVisible(entries), {
      root: document,
      rootMargin: '400px 0px',
    });
    onThemeChange(() => this.applyTheme());
  }

  update(model: ComparisonModel): void {
    this.model = model;
    const hasTimes = model.series.some((s) => s.relTimes !== null && s.relTimes.length > 0);
    // Without wall times the time axis could only show empty charts: offer no choice at all.
    this.axisControl.hidden = !hasTimes;
    this.timeRadio.title = 'Seconds since each run’s first logged point';
    const axis: XAxis = this.ctx.ui.axis === 'time' && hasTimes ? 'time' : 'step';
    this.stepRadio.checked = axis === 'step';
    this.timeRadio.checked = axis === 'time';
    const axisChanged = axis !== this.shownAxis;
    this.shownAxis = axis;
    this.renderLegend(model);

    // Keys in the order of the metrics table, then any key that only has curves.
    const withSeries = new Set(model.series.map((s) => s.key));
    const keys = [
      ...model.metrics.map((m) => m.key).filter((k) => withSeries.has(k)),
      ...[...withSeries].filter((k) => !model.metrics.some((m) => m.key === k)).sort(),
    ];
    for (const [key, card] of this.cards) if (!withSeries.has(key)) this.destroy(card);
    if (keys.length === 0) {
      this.body.replaceChildren(
        empty(
          model.metrics.length
            ? 'No metric curves in these versions (final values only).'
            : 'No metric logs in these versions.',
        ),
      );
      return;
    }
    if (this.grid.parentElement !== this.body) this.body.replaceChildren(this.grid);
    for (const key of keys) {
      const overview = model.series.filter((s) => s.key === key);
      let card = this.cards.get(key);
      if (!card) {
        card = this.createCard(key, overview);
        this.cards.set(key, card);
        this.observer.observe(card.root);
      } else {
        card.overview = overview;
        if (card.chart) this.refresh(card, axisChanged);
      }
      this.grid.append(card.root); // appending in order also reorders existing cards
    }
  }

  /**
   * A live column's new points (already applied to the model): appended to the built charts' lines.
   * A zoomed chart keeps its window; the points show when its zoom is reset. A key never seen
   * before needs a card, which update() makes.
   */
  appendLive(update: LiveSeriesUpdate, newKeys: boolean): void {
    if (newKeys && this.model) {
      this.update(this.model);
      return;
    }
    for (const chunk of update.series) {
      const card = this.cards.get(chunk.key);
      if (!card || !this.model) continue;
      card.overview = this.model.series.filter((s) => s.key === chunk.key);
      const chart = card.chart;
      if (!chart || chart.isZoomedOrPanned()) continue;
      const i = card.versionIds.indexOf(update.versionId);
      const xs = this.shownAxis === 'time' ? chunk.relTimes : chunk.steps;
      const data = i === -1 ? undefined : chart.data.datasets[i].data;
      if (!data || !xs || chunk.from > data.length) this.setData(card, card.overview);
      else {
        data.length = chunk.from;
        xs.forEach((x, j) => {
          const y = chunk.values[j];
          data.push({ x, y: Number.isFinite(y) ? y : null });
        });
      }
      chart.update('none');
    }
  }

  /** A finer series for a zoomed chart arrived: show it, keeping the zoom. */
  applyWindow(payload: { requestId: number; key: string; axis: XAxis; series: SeriesData[] }): void {
    const card = this.cards.get(payload.key);
    if (!card?.chart || card.pendingRequest !== payload.requestId || payload.axis !== this.shownAxis) return; // superseded
    if (!card.chart.isZoomedOrPanned()) return; // reset meanwhile
    card.pendingRequest = undefined;
    this.setData(card, payload.series);
    this.fitY(card);
  }

  private createCard(key: string, overview: SeriesData[]): Card {
    const canvas = el('canvas', { attrs: { role: 'img', 'aria-label': `${key} over training` } });
    const status = el('span', { class: 'status muted small', attrs: { role: 'status' } });
    const reset = el(
      'button',
      { class: 'text-button', title: 'Show the whole run again' },
      icon('zoom-out'),
      ' Reset zoom',
    );
    const copy = el(
      'button',
      { class: 'text-button', title: 'Copy this chart as a PNG image' },
      icon('copy'),
      ' Copy as PNG',
    );
    const box = el('div', { class: 'chart-box' }, canvas);
    const note = el('p', { class: 'chart-note muted small' });
    const root = el(
      'article',
      { class: 'chart-card', attrs: { 'aria-label': `${key} chart` } },
      el('div', { class: 'chart-head' }, el('h3', { text: key }), status, reset, copy),
      box,
      note,
    );
    reset.disabled = true;
    const card: Card = { key, root, canvas, status, note, reset, overview, versionIds: [] };
    reset.addEventListener('click', () => this.resetZoom(card));
    canvas.addEventListener('dblclick', () => this.resetZoom(card));
    // A drag that ends over the axes or outside the chart would leave the tooltip standing there.
    canvas.addEventListener('mouseleave', () => hideTooltip(card.chart));
    // Over the axes chart.js keeps the last tooltip (it leaves the outside of the plot to the page).
    canvas.addEventListener('mousemove', (e) => {
      const a = card.chart?.chartArea;
      const r = canvas.getBoundingClientRect();
      const [x, y] = [e.clientX - r.left, e.clientY - r.top];
      if (a && (x < a.left || x > a.right || y < a.top || y > a.bottom)) hideTooltip(card.chart);
    });
    copy.addEventListener('click', () => {
      if (card.chart) void copyChartPng(key, canvas, this.theme?.background ?? '#ffffff', status, this.ctx.post);
    });
    return card;
  }

  private onVisible(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const card = [...this.cards.values()].find((c) => c.root === entry.target);
      if (!card || card.chart) continue;
      this.observer.unobserve(card.root);
      this.createChart(card);
    }
  }

  private createChart(card: Card): void {
    this.theme ??= readTheme();
    const t = this.theme;
    Chart.defaults.font.family = t.fontFamily;
    Chart.defaults.font.size = t.fontSize;
    const firstDraw: Plugin<'line'> = {
      id: 'firstDraw',
      afterRender: () => {
        if (firstChartMarked) return;
        firstChartMarked = true;
        performance.mark('compare:first-chart');
      },
    };
    let titleX: number | undefined;
    const chart: LineChart = new Chart<'line', Point[]>(card.canvas, {
      type: 'line',
      data: { datasets: [] },
      plugins: [firstDraw],
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'xPerDataset', intersect: false },
        elements: { point: { radius: 0, hoverRadius: 3, hitRadius: 0 }, line: { borderWidth: 1.5 } },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: '' },
            ticks: {
              maxRotation: 0,
              // A zoomed axis starts at a fraction of a step: "15.19", not "15.185921421889617".
              callback: (v) =>
                this.shownAxis === 'time'
                  ? formatDuration(Number(v))
                  : Number.isInteger(Number(v))
                    ? formatCount(Number(v))
                    : formatNumber(Number(v)),
            },
            // Time ticks at round durations (1 min, 15 min, 2 h...) rather than round numbers of seconds.
            afterBuildTicks: (scale) => {
              if (this.shownAxis === 'time')
                scale.ticks = durationTicks(scale.min, scale.max, Math.max(2, Math.floor(scale.width / 90)));
            },
          },
          y: { type: 'linear', ticks: { callback: (v) => formatNumber(Number(v)) } },
        },
        plugins: {
          decimation: { enabled: false }, // the extension already downsampled (min/max per bucket)
          legend: {
            position: 'bottom',
            labels: { boxWidth: 12, boxHeight: 2 },
            onClick: (_e, item) => {
              const id = card.versionIds[item.datasetIndex ?? -1];
              if (id !== undefined) this.toggle(id);
            },
          },
          tooltip: {
            callbacks: {
              // The title gives the x of the first line; lines logged elsewhere say where their point is.
              title: (items) => {
                titleX = items[0]?.parsed.x ?? undefined;
                return titleX === undefined ? '' : this.xLabel(titleX);
              },
              label: (item) => {
                const at = item.parsed.x === titleX ? '' : ` (at ${this.xLabel(item.parsed.x ?? 0)})`;
                return `${item.dataset.label}: ${formatNumber(item.parsed.y)}${at}`;
              },
            },
          },
          zoom: {
            limits: { x: { min: 'original', max: 'original' } },
            zoom: {
              mode: 'x',
              wheel: { enabled: true, modifierKey: 'ctrl' }, // plain wheel keeps scrolling the page
              drag: { enabled: true, borderWidth: 1 },
              pinch: { enabled: true },
              onZoomComplete: () => this.onRangeChange(card),
            },
            pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: () => this.onRangeChange(card) },
          },
        },
      },
    });
    card.chart = chart;
    card.root.dataset.chart = 'ready'; // lets tests wait for lazily built charts
    Object.defineProperty(card.canvas, '__chart', { value: chart }); // and read its scales (compare.e2e.ts)
    this.styleChart(chart);
    this.setData(card, card.overview);
    chart.update('none');
  }

  /** New overview data for a built chart; a zoomed chart keeps its zoom and asks for fresh detail. */
  private refresh(card: Card, axisChanged: boolean): void {
    const chart = card.chart!;
    if (axisChanged) {
      this.resetZoom(card);
      return;
    }
    this.setData(card, card.overview);
    if (chart.isZoomedOrPanned()) {
      this.fitY(card);
      this.requestWindow(card);
    } else chart.update('none');
  }

  private resetZoom(card: Card): void {
    if (!card.chart) return;
    clearTimeout(card.windowTimer);
    card.pendingRequest = undefined;
    this.setData(card, card.overview);
    this.styleChart(card.chart);
    const y = card.chart.options.scales!.y!;
    y.min = undefined; // back to chart.js's own fit of the whole run
    y.max = undefined;
    card.chart.resetZoom('none');
  }

  /**
   * A zoomed chart's y axis spans what the lines reach in the visible x range, padded: chart.js
   * would fit only the points inside it, clipping the segments that enter from either side and
   * the extremes at the very edge of the plot.
   */
  private fitY(card: Card): void {
    const chart = card.chart;
    if (!chart) return;
    const y = chart.options.scales!.y!;
    const x = chart.scales.x;
    const lines = chart.data.datasets.filter((_, i) => chart.isDatasetVisible(i)).map((d) => d.data);
    const range = chart.isZoomedOrPanned() && x ? visibleYRange(lines, x.min, x.max) : null;
    y.min = range?.min;
    y.max = range?.max;
    chart.update('none');
  }

  /** Zoom or pan ended (or the zoom was reset): ask for the visible range in full detail. */
  private onRangeChange(card: Card): void {
    const chart = card.chart;
    if (!chart) return;
    clearTimeout(card.windowTimer);
    card.reset.disabled = !chart.isZoomedOrPanned();
    hideTooltip(chart); // it showed the point under the drag's start, which moved
    this.fitY(card);
    if (!chart.isZoomedOrPanned()) {
      card.pendingRequest = undefined;
      return;
    }
    // Wheel zooming fires once per notch: wait for the gesture to settle.
    card.windowTimer = setTimeout(() => this.requestWindow(card), 150);
  }

  private requestWindow(card: Card): void {
    const scale = card.chart?.scales.x;
    if (!scale || !Number.isFinite(scale.min) || !Number.isFinite(scale.max)) return;
    card.pendingRequest = ++requestCounter;
    this.ctx.post({
      type: 'requestWindow',
      payload: { requestId: card.pendingRequest, key: card.key, axis: this.shownAxis, min: scale.min, max: scale.max },
    });
  }

  /** Builds one dataset per version that has this key, in version order. */
  private setData(card: Card, series: SeriesData[]): void {
    const chart = card.chart!;
    const model = this.model!;
    const axis = this.shownAxis;
    const datasets: ChartDataset<'line', Point[]>[] = [];
    const untimed: string[] = [];
    card.versionIds = [];
    for (const v of model.versions) {
      const s = series.find((x) => x.versionId === v.id);
      if (!s) continue;
      if (axis === 'time' && !s.relTimes) {
        untimed.push(v.ref); // a log without wall times cannot be placed on the time axis
        continue;
      }
      const xs = axis === 'time' ? s.relTimes! : s.steps;
      let gaps = false;
      const data: Point[] = new Array(xs.length);
      for (let i = 0; i < xs.length; i++) {
        const y = s.values[i];
        // NaN (or null after JSON) breaks the line rather than being bridged.
        const ok = typeof y === 'number' && Number.isFinite(y);
        if (!ok) gaps = true;
        data[i] = { x: xs[i], y: ok ? y : null };
      }
      datasets.push({
        label: v.ref,
        data,
        borderColor: v.color,
        backgroundColor: v.color,
        // A run still training is dashed: its curve is not a result yet.
        borderDash: v.live ? [5, 3] : [],
        // spanGaps lets chart.js skip line segmentation (faster); only series with gaps need it off.
        spanGaps: !gaps,
        hidden: this.ctx.ui.hidden.has(v.id),
      });
      card.versionIds.push(v.id);
    }
    chart.data.datasets = datasets;
    // On the time axis a log without wall times has nothing to draw: say so instead of empty axes.
    const nothing = axis === 'time' && datasets.length === 0;
    card.root.classList.toggle('untimed', nothing);
    card.note.textContent = nothing
      ? `No wall times in this metric's logs (${untimed.join(', ')}): it can only be shown by step.`
      : untimed.length
        ? `No wall times: ${untimed.join(', ')}`
        : '';
    chart.canvas.setAttribute(
      'aria-label',
      `${card.key} by ${axis === 'time' ? 'time' : 'step'} for ${datasets.map((d) => d.label).join(', ')}`,
    );
  }

  private xLabel(x: number): string {
    return this.shownAxis === 'time' ? formatDuration(x) : `step ${x}`;
  }

  private toggle(versionId: number): void {
    const hidden = this.ctx.ui.hidden;
    if (hidden.has(versionId)) hidden.delete(versionId);
    else hidden.add(versionId);
    for (const card of this.cards.values()) {
      if (!card.chart) continue;
      card.versionIds.forEach((id, i) => card.chart!.setDatasetVisibility(i, !hidden.has(id)));
      this.fitY(card); // a zoomed chart fits the lines still shown
    }
    if (this.model) this.renderLegend(this.model);
  }

  /** Keyboard-accessible toggles mirroring the chart legends. */
  private renderLegend(model: ComparisonModel): void {
    const focused =
      document.activeElement instanceof HTMLElement ? document.activeElement.dataset.versionId : undefined;
    this.legend.replaceChildren(
      ...model.versions.map((v) => {
        const shown = !this.ctx.ui.hidden.has(v.id);
        const b = el(
          'button',
          {
            class: `legend-item${shown ? '' : ' off'}`,
            title: shown ? `Hide ${v.ref} in all charts` : `Show ${v.ref} in all charts`,
            attrs: { 'aria-pressed': String(shown), 'data-version-id': String(v.id) },
          },
          swatch(v.color),
          v.ref,
        );
        b.addEventListener('click', () => this.toggle(v.id));
        return b;
      }),
    );
    if (focused) this.legend.querySelector<HTMLElement>(`[data-version-id="${focused}"]`)?.focus();
  }

  /** Theme colours and the axis title; called on creation, axis switch and theme change. */
  private styleChart(chart: LineChart): void {
    const t = (this.theme ??= readTheme());
    const o = chart.options;
    const x = o.scales!.x!;
    const y = o.scales!.y!;
    for (const s of [x, y]) {
      s.grid = { color: t.grid };
      s.border = { color: t.axis };
      s.ticks!.color = t.muted;
    }
    if (x.type === 'linear')
      x.title = { display: true, text: this.shownAxis === 'time' ? 'time since start' : 'step', color: t.muted };
    o.plugins!.legend!.labels!.color = t.foreground;
    Object.assign(o.plugins!.tooltip!, {
      backgroundColor: t.tooltipBackground,
      titleColor: t.tooltipForeground,
      bodyColor: t.tooltipForeground,
      borderColor: t.tooltipBorder,
      borderWidth: 1,
    });
    const drag = o.plugins!.zoom!.zoom!.drag!;
    drag.backgroundColor = t.dragFill;
    drag.borderColor = t.dragBorder;
  }

  private applyTheme(): void {
    this.theme = readTheme();
    Chart.defaults.font.family = this.theme.fontFamily;
    for (const card of this.cards.values()) {
      if (!card.chart) continue;
      this.styleChart(card.chart);
      card.chart.update('none');
    }
  }

  private destroy(card: Card): void {
    clearTimeout(card.windowTimer);
    this.observer.unobserve(card.root);
    card.chart?.destroy();
    card.root.remove();
    this.cards.delete(card.key);
  }
}

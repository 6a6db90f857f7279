/**
 * Entry of the detection review page. The host sends the evaluation once; the counts at the
 * slider's confidence, the images a chunk at a time and the crops come on request, each request
 * numbered so answers to older ones (the slider moved on) are dropped.
 */
import type {
  BoxKind,
  CropQuery,
  DetectionState,
  DetectionView,
  HostMessage,
  ImageSort,
  ImagesQuery,
  PageMessage,
  StatsView,
} from '../../src/shared/detection/contract';
import { formatMetric } from '../../src/shared/format';
import { el } from '../shared/dom';
import { panelApi } from '../shared/vscodeApi';
import { CropsView } from './crops';
import { ImageGrid } from './grid';
import { plural } from './labels';
import { ConfusionMatrix } from './matrix';
import { PrCurves } from './prCurves';
import { ClassTable, renderCards } from './summary';
import { ImageViewer, legend } from './viewer';

const vscode = panelApi<PageMessage, HostMessage, DetectionState>();
/** The slider waits this long after the last move before asking the host again. */
const DEBOUNCE_MS = 150;

let view: DetectionView | undefined;
let stats: StatsView | undefined;
let query: ImagesQuery = { confidence: 0.25, cls: null, outcome: null, sort: 'index' };
let request = 0;
let statsRequest = -1;
/** Image requests of the current query; answers to others are dropped. */
let imageRequests = new Set<number>();
let cropRequest = -1;
let cropQuery: CropQuery | undefined;
let imageRequest = -1;

const header = el('header', { class: 'page-head' }, el('h1', { text: 'Detection evaluation' }));
const banner = el('div', { class: 'banner', attrs: { role: 'alert' } });
banner.hidden = true;
const cards = el('section', { class: 'metrics', attrs: { 'aria-label': 'Metrics' } });
const classTable = new ClassTable((cls, outcome) => askCrops({ cls, outcome }));
const matrix = new ConfusionMatrix((truth, predicted) => askCrops({ truth, predicted }));
const curves = new PrCurves();
const crops = new CropsView((index) => askImage(index));
const grid = new ImageGrid(
  (offset, limit) => askImages(offset, limit),
  (pos) => openViewer(pos),
);
const viewer = new ImageViewer((delta) => openViewer(grid.selection + delta));

// ---- the controls ----------------------------------------------------------------------------
const slider = el('input', {
  attrs: { type: 'range', min: '0', max: '1', step: '0.01', id: 'confidence', 'aria-describedby': 'confidence-value' },
});
const sliderValue = el('output', { attrs: { id: 'confidence-value', for: 'confidence' } });
const classSelect = el('select', { attrs: { id: 'class-filter' } });
const outcomeSelect = el(
  'select',
  { attrs: { id: 'outcome-filter' } },
  ...(
    [
      ['', 'any box'],
      ['tp', 'a true positive'],
      ['fp', 'a false positive'],
      ['fn', 'a missed object'],
    ] as const
  ).map(([value, text]) => el('option', { text, attrs: { value } })),
);
const sortSelect = el(
  'select',
  { attrs: { id: 'sort' } },
  ...(
    [
      ['index', 'dataset order'],
      ['fp-score', 'most confident false positive'],
      ['fn-area', 'largest missed object'],
    ] as const
  ).map(([value, text]) => el('option', { text, attrs: { value } })),
);
const found = el('span', { class: 'muted', attrs: { role: 'status', 'aria-live': 'polite' } });
const label = (text: string, target: string, control: HTMLElement) =>
  el('label', { class: 'control', attrs: { for: target } }, el('span', { text }), control);
const toolbar = el(
  'div',
  { class: 'toolbar', attrs: { role: 'group', 'aria-label': 'Image browser filters' } },
  el(
    'span',
    { class: 'control' },
    el('label', { text: 'Confidence', attrs: { for: 'confidence' } }),
    slider,
    sliderValue,
  ),
  label('Class', 'class-filter', classSelect),
  label('Images with', 'outcome-filter', outcomeSelect),
  label('Sort by', 'sort', sortSelect),
  found,
);
const browser = el(
  'section',
  { class: 'section', attrs: { 'aria-labelledby': 'browser-title' } },
  el('h2', { text: 'Images', attrs: { id: 'browser-title' } }),
  toolbar,
  legend(),
  grid.scroller,
);

let debounce: ReturnType<typeof setTimeout> | undefined;
slider.addEventListener('input', () => {
  sliderValue.textContent = formatMetric(Number(slider.value));
  clearTimeout(debounce);
  debounce = setTimeout(() => changeQuery({ confidence: Number(slider.value) }), DEBOUNCE_MS);
});
classSelect.addEventListener('change', () =>
  changeQuery({ cls: classSelect.value === '' ? null : Number(classSelect.value) }),
);
outcomeSelect.addEventListener('change', () =>
  changeQuery({ outcome: outcomeSelect.value === '' ? null : (outcomeSelect.value as BoxKind) }),
);
sortSelect.addEventListener('change', () => changeQuery({ sort: sortSelect.value as ImageSort }));

// ---- asking the host -------------------------------------------------------------------------
function changeQuery(change: Partial<ImagesQuery>): void {
  const confidenceChanged = change.confidence !== undefined && change.confidence !== query.confidence;
  query = { ...query, ...change };
  imageRequests = new Set();
  grid.reset(view?.classes ?? []);
  grid.start();
  if (confidenceChanged) {
    askStats();
    if (cropQuery) askCrops(cropQuery);
  }
}

function askStats(): void {
  statsRequest = ++request;
  vscode.post({ type: 'stats', payload: { request: statsRequest, confidence: query.confidence } });
}

function askImages(offset: number, limit: number): void {
  const r = ++request;
  imageRequests.add(r);
  vscode.post({ type: 'images', payload: { request: r, query, offset, limit } });
}

function askCrops(q: CropQuery): void {
  if (!view) return;
  cropQuery = q;
  cropRequest = ++request;
  matrix.select('truth' in q ? q : undefined);
  crops.loading(view.classes, q);
  vscode.post({ type: 'crops', payload: { request: cropRequest, confidence: query.confidence, query: q } });
  crops.root.scrollIntoView({ block: 'nearest' });
}

function openViewer(position: number): void {
  if (!view || !grid.count) return;
  const pos = Math.max(0, Math.min(grid.count - 1, position));
  grid.select(pos);
  const tile = grid.tileAt(pos);
  if (tile) viewer.show(tile, view.classes, `Image ${pos + 1} of ${grid.count}`, true);
}

/** A crop's whole image, from the host (it need not be among the images the browser has loaded). */
function askImage(index: number): void {
  imageRequest = ++request;
  vscode.post({ type: 'image', payload: { request: imageRequest, confidence: query.confidence, index } });
}

// ---- rendering -------------------------------------------------------------------------------
const app = document.getElementById('app') ?? document.body.appendChild(el('div'));
app.append(header, banner, el('p', { class: 'empty', text: 'Loading the evaluation…' }));

function renderHeader(v: DetectionView): void {
  const facts = [
    `dataset ${v.dataset.name}@${v.dataset.manifestSha256.slice(0, 12)}`,
    v.dataset.split ? `split ${v.dataset.split}` : 'all splits',
    `evaluator ${v.evaluator}`,
    plural(v.imageCount, 'image'),
    v.git ? `commit ${v.git.commit.slice(0, 10)}${v.git.dirty ? ' (uncommitted changes)' : ''}` : 'no git commit',
    v.finishedAt ? `finished ${new Date(v.finishedAt).toLocaleString()}` : v.status,
  ];
  header.replaceChildren(
    el('h1', { text: `${v.ref} on ${v.dataset.name}` }),
    el('p', { class: 'meta muted', text: facts.join(' · ') }),
    v.imagesMissing
      ? el('p', {
          class: 'muted small',
          text: 'The dataset was registered without its images: boxes are drawn on blank canvases.',
        })
      : '',
  );
}

function renderNumbers(): void {
  if (!view) return;
  renderCards(cards, view, stats);
  classTable.update(view, stats);
  matrix.update(view, stats);
}

function init(next: DetectionView): void {
  const first = !view;
  view = next;
  banner.hidden = true;
  renderHeader(next);
  if (first) {
    query = { ...query, confidence: next.confidence };
    slider.value = String(next.confidence);
    sliderValue.textContent = formatMetric(next.confidence);
    classSelect.replaceChildren(
      el('option', { text: 'all classes', attrs: { value: '' } }),
      ...next.classes.map((c, i) => el('option', { text: c, attrs: { value: String(i) } })),
    );
    app.replaceChildren(
      header,
      banner,
      el('main', {}, cards, classTable.root, curves.root, matrix.root, crops.root, browser),
      viewer.root,
    );
  }
  renderNumbers();
  curves.update(next);
  askStats();
  imageRequests = new Set();
  grid.reset(next.classes);
  grid.start();
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

// Enter/Escape on the page: Escape closes the large view wherever the focus is.
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && viewer.isOpen) viewer.close();
});

vscode.listen((msg) => {
  try {
    switch (msg.type) {
      case 'init':
        vscode.setState({ evaluationId: msg.payload.id });
        init(msg.payload);
        break;
      case 'stats':
        if (msg.payload.request !== statsRequest) break;
        stats = msg.payload.stats;
        renderNumbers();
        break;
      case 'images': {
        const { request: r, offset, images, total } = msg.payload;
        if (!imageRequests.has(r)) break;
        grid.setPage(offset, images, total);
        found.textContent = `${plural(total, 'image')} at confidence ${formatMetric(query.confidence)}`;
        break;
      }
      case 'thumbs':
        for (const t of msg.payload.thumbs) grid.setThumb(t.index, t.thumb);
        break;
      case 'image':
        if (msg.payload.request === imageRequest && view)
          viewer.show(
            msg.payload.image,
            view.classes,
            `Image ${msg.payload.image.index + 1} of ${view.imageCount}`,
            false,
          );
        break;
      case 'crops':
        if (msg.payload.request === cropRequest && view)
          crops.show(view.classes, msg.payload.query, msg.payload.crops, msg.payload.total, query.confidence);
        break;
      case 'error':
        if (msg.payload.request !== undefined) {
          if (msg.payload.request === cropRequest) crops.failed(msg.payload.message);
          else if (imageRequests.has(msg.payload.request) || msg.payload.request === statsRequest) {
            banner.textContent = msg.payload.message;
            banner.hidden = false;
          }
        } else {
          banner.textContent = msg.payload.message;
          banner.hidden = false;
        }
        break;
    }
  } catch (e) {
    banner.textContent = `The page could not show this evaluation: ${(e as Error).message}`;
    banner.hidden = false;
    console.error(e);
  }
});

// Detection evaluation benchmark (not a test): cocoEvaluate on a generated set the size of COCO
// val2017 (5,000 images, 36,000 ground-truth boxes over 80 categories, 100 detections an image),
// against JSON.parse of the same two files, the least any evaluation of them has to do. Goal: the
// whole evaluation (parse included) under 2 s; pycocotools takes tens of seconds on this size. Each
// evaluation runs in its own process, so its peak RSS is its own. BENCH_DETECTION_IMAGES scales the
// set (default 5000; boxes and detections scale with it).
import { execFileSync } from 'child_process';
import os from 'os';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const IMAGES = Number(process.env.BENCH_DETECTION_IMAGES ?? 5000);
const BOXES = Math.round(IMAGES * 7.2);
const DETS_PER_IMAGE = 100;
const RUNS = 3;
const dir = path.join(repo, '.cache', `bench-detection-2-${IMAGES}`); // bump when the generator changes
const gtFile = path.join(dir, 'instances.json');
const dtFile = path.join(dir, 'detections.json');

function rng(seed) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

// COCO's 80 category ids (1…90 with gaps), weighted unevenly as in COCO (one class, person, holds nearly a
// third of the boxes; the rest fall off roughly as 1 / rank).
const CATEGORY_IDS = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28],
  ...[31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55],
  ...[56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84],
  ...[85, 86, 87, 88, 89, 90],
];
const IMAGE_SIZES = [
  [640, 480],
  [640, 427],
  [480, 640],
  [640, 426],
  [500, 375],
  [640, 360],
  [427, 640],
  [375, 500],
];

/** A cumulative-weight picker: pick(u) for u uniform in [0, 1) returns an index by weight. */
function picker(weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  let s = 0;
  const cum = weights.map((w) => (s += w / total));
  return (u) => {
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

const round2 = (v) => Math.round(v * 100) / 100;
function clip([x, y, w, h], W, H) {
  const x0 = Math.max(0, Math.min(W - 1, x));
  const y0 = Math.max(0, Math.min(H - 1, y));
  const x1 = Math.max(x0 + 1, Math.min(W, x + w));
  const y1 = Math.max(y0 + 1, Math.min(H, y + h));
  return [round2(x0), round2(y0), round2(x1 - x0), round2(y1 - y0)];
}

/** The ground truth and the detections as COCO JSON text (instances file, results list). */
function generate(seed) {
  const r = rng(seed);
  const pickCategory = picker(CATEGORY_IDS.map((_, i) => (i === 0 ? 7 : 1 / (1 + i * 0.15))));
  // Images get boxes unevenly (exponential weights): many with a few, some crowded, a few with none.
  const images = [];
  for (let i = 0; i < IMAGES; i++) {
    const [width, height] = IMAGE_SIZES[Math.floor(r() * IMAGE_SIZES.length)];
    images.push({ id: 100000 + i * 97 + Math.floor(r() * 97), width, height, file_name: `${i}.jpg` });
  }
  const pickImage = picker(images.map(() => -Math.log(1 - r())));
  const byImage = images.map(() => []);
  const annotations = [];
  for (let n = 0; n < BOXES; n++) {
    const im = pickImage(r());
    const { width: W, height: H } = images[im];
    // COCO's size mix by area: ~41% small (< 32²), ~34% medium, ~25% large (> 96²).
    const u = r();
    const [lo, hi] = u < 0.41 ? [4, 32] : u < 0.75 ? [32, 96] : [96, 400];
    const side = lo * (hi / lo) ** r();
    const aspect = 3 ** (2 * r() - 1);
    const w = Math.min(W, side * Math.sqrt(aspect));
    const h = Math.min(H, side / Math.sqrt(aspect));
    const bbox = clip([r() * (W - w), r() * (H - h), w, h], W, H);
    const box = {
      id: n + 1,
      image_id: images[im].id,
      category_id: CATEGORY_IDS[pickCategory(r())],
      bbox,
      // A segmentation covers part of its box; its area decides the size class, as in COCO.
      area: round2(bbox[2] * bbox[3] * (0.5 + 0.4 * r())),
      iscrowd: r() < 0.01 ? 1 : 0,
    };
    annotations.push(box);
    byImage[im].push(box);
  }
  const detections = [];
  images.forEach((image, im) => {
    const { width: W, height: H } = image;
    const dets = [];
    // Near a ground-truth box: jittered by up to ~15% of its size, mostly the right class.
    for (const g of byImage[im]) {
      const copies = r() < 0.8 ? 1 + Math.floor(r() * 3) : 0;
      for (let c = 0; c < copies && dets.length < DETS_PER_IMAGE; c++) {
        const [x, y, w, h] = g.bbox;
        const j = () => (2 * r() - 1) * 0.15;
        const bbox = clip([x + j() * w, y + j() * h, w * (1 + j()), h * (1 + j())], W, H);
        const category_id = r() < 0.85 ? g.category_id : CATEGORY_IDS[pickCategory(r())];
        dets.push({ image_id: image.id, category_id, bbox, score: round2(r()) });
      }
    }
    // The rest anywhere, any size, any class.
    while (dets.length < DETS_PER_IMAGE) {
      const w = 4 + r() * (W - 4);
      const h = 4 + r() * (H - 4);
      const bbox = clip([r() * (W - w), r() * (H - h), w, h], W, H);
      dets.push({ image_id: image.id, category_id: CATEGORY_IDS[pickCategory(r())], bbox, score: round2(r()) });
    }
    detections.push(...dets);
  });
  const categories = CATEGORY_IDS.map((id) => ({ id, name: `class-${id}`, supercategory: 'thing' }));
  return { gt: JSON.stringify({ images, annotations, categories }), dt: JSON.stringify(detections) };
}

if (!existsSync(dtFile)) {
  mkdirSync(dir, { recursive: true });
  const { gt, dt } = generate(2017);
  writeFileSync(gtFile, gt);
  writeFileSync(dtFile + '.tmp', dt);
  renameSync(dtFile + '.tmp', dtFile);
}

// One evaluation in a fresh process: read both files (not timed), then JSON.parse (the reference)
// and cocoEvaluate on what it gave, timed apart; the evaluation is the two together. Then, in the
// same process, what `modelreg evaluate --predictions` makes the user wait for: readCocoResults of
// the results text and summarizeDetections (COCO's numbers and everything else) against the images
// as the registered dataset holds them (built from the instances file as the COCO reader would, not timed).
const evaluateScript = `
const { readFileSync } = require('fs');
const { cocoEvaluate } = require(${JSON.stringify(path.join(repo, 'out/src/core/evaluate/detection/cocoEval.js'))});
const gt = readFileSync(process.argv[1], 'utf8');
const dt = readFileSync(process.argv[2], 'utf8');
const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
const cpu = () => Object.values(process.cpuUsage()).reduce((a, b) => a + b) / 1000; // user + system
const c0 = cpu();
const t0 = performance.now();
const truth = JSON.parse(gt);
let detections = JSON.parse(dt);
const t1 = performance.now();
const c1 = cpu();
let result = cocoEvaluate(truth, detections);
const t2 = performance.now();
const c2 = cpu();
const cocoMaxRssMiB = process.resourceUsage().maxRSS / 1024;
const stats = result.stats;
detections = result = null; // what follows starts as a user's process would, without them (and their garbage)
global.gc();

const { readCocoResults } = require(${JSON.stringify(path.join(repo, 'out/src/core/evaluate/detection/record.js'))});
const { summarizeDetections } = require(${JSON.stringify(path.join(repo, 'out/src/core/evaluate/detection/summary.js'))});
const categoryIds = truth.categories.map((c) => c.id);
const classOf = new Map(categoryIds.map((id, i) => [id, i]));
const samples = new Map(truth.images.map((im) => [im.id, { id: im.file_name, label: -1, split: null, image: { id: im.id, width: im.width, height: im.height }, boxes: [] }]));
for (const a of truth.annotations)
  samples.get(a.image_id).boxes.push({ id: a.id, label: classOf.get(a.category_id), bbox: a.bbox, area: a.area, ...(a.iscrowd ? { iscrowd: true } : {}) });
const manifest = { kind: 'detection', classes: truth.categories.map((c) => c.name), splits: [], samples: [...samples.values()], files: [], detection: { source: 'coco', categoryIds } };
const images = manifest.samples.map((s) => ({ imageId: s.image.id, sampleId: s.id, width: s.image.width, height: s.image.height, truths: s.boxes })); // record.ts's toDetectionImage
const c3 = cpu();
const t3 = performance.now();
const read = readCocoResults(dt, process.argv[2], manifest, images);
const t4 = performance.now();
const c4 = cpu();
const summary = summarizeDetections(manifest.classes, images, read.predictions);
const t5 = performance.now();
const c5 = cpu();
console.log(JSON.stringify({ parse: t1 - t0, ms: t2 - t0, parseCpu: c1 - c0, evalCpu: c2 - c1, rssBeforeMiB, cocoMaxRssMiB,
  readMs: t4 - t3, summaryMs: t5 - t4, readCpu: c4 - c3, summaryCpu: c5 - c4, maxRssMiB: process.resourceUsage().maxRSS / 1024,
  stats, metrics: summary.metrics }));`;

const gtText = readFileSync(gtFile, 'utf8');
const dtText = readFileSync(dtFile, 'utf8');
const rows = [];
for (let i = 0; i < RUNS; i++)
  rows.push(
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', evaluateScript, gtFile, dtFile]).toString()),
  );
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const evalMs = median(rows.map((r) => r.ms));
const refMs = median(rows.map((r) => r.parse));
const gt = JSON.parse(gtText);
const mib = (s) => (Buffer.byteLength(s) / 2 ** 20).toFixed(0);
console.log(
  `\nDetection: COCO evaluation of ${gt.images.length.toLocaleString('en')} images, ${gt.annotations.length.toLocaleString('en')} boxes (${gt.annotations.filter((a) => a.iscrowd).length} crowd), ${(IMAGES * DETS_PER_IMAGE).toLocaleString('en')} detections, 80 classes (${mib(gtText)} + ${mib(dtText)} MiB of JSON); median of ${RUNS}; reference = JSON.parse of both`,
);
console.log(
  `  cocoEvaluate(JSON.parse …) ${evalMs.toFixed(0).padStart(6)} ms   JSON.parse alone ${refMs.toFixed(0).padStart(5)} ms   ${(evalMs / refMs).toFixed(1)}×   ${evalMs < 2000 ? 'met' : 'NOT met'} (< 2 s; cocoEvaluate itself ${median(rows.map((r) => r.ms - r.parse)).toFixed(0)} ms)`,
);
// On a shared machine the CPU time (this process's, all threads) says more than the wall clock.
console.log(
  `  CPU time: JSON.parse ${median(rows.map((r) => r.parseCpu)).toFixed(0)} ms, cocoEvaluate ${median(rows.map((r) => r.evalCpu)).toFixed(0)} ms; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
);
console.log(
  `  peak RSS ${Math.max(...rows.map((r) => r.cocoMaxRssMiB)).toFixed(0)} MB (${median(rows.map((r) => r.rssBeforeMiB)).toFixed(0)} MB before, with the JSON text read)   AP ${rows[0].stats.AP.toFixed(3)}  AP50 ${rows[0].stats.AP50.toFixed(3)}  AR100 ${rows[0].stats.AR100.toFixed(3)}`,
);
// What the user waits for: the results file read into predictions, then the whole summary.
const wholeMs = median(rows.map((r) => r.readMs + r.summaryMs));
const m = rows[0].metrics;
console.log(
  `  readCocoResults + summarizeDetections ${wholeMs.toFixed(0).padStart(6)} ms   ${(wholeMs / refMs).toFixed(1)}× JSON.parse   ${wholeMs < 2000 ? 'met' : 'NOT met'} (< 2 s; read ${median(rows.map((r) => r.readMs)).toFixed(0)} ms, summary ${median(rows.map((r) => r.summaryMs)).toFixed(0)} ms)`,
);
console.log(
  `  CPU time: readCocoResults ${median(rows.map((r) => r.readCpu)).toFixed(0)} ms, summarizeDetections ${median(rows.map((r) => r.summaryCpu)).toFixed(0)} ms (${(median(rows.map((r) => r.readCpu + r.summaryCpu)) / median(rows.map((r) => r.parseCpu))).toFixed(1)}× JSON.parse's CPU); peak RSS of the process ${Math.max(...rows.map((r) => r.maxRssMiB)).toFixed(0)} MB   AP ${m.AP.toFixed(3)}  VOC_AP50 ${m.VOC_AP50.toFixed(3)}  mAP50-95 ${m['mAP50-95'].toFixed(3)}  F1 ${m.F1.toFixed(3)}`,
);

/**
 * Reading dataset samples as model inputs: images (decode, resize, normalise), table rows (feature
 * vectors) and array rows (.npy / .npz).
 */
import { statSync, promises as fsp } from 'fs';
import * as path from 'path';
import { realPathWithinSync } from '../util/paths';
import { parse as parseCsv } from 'csv-parse/sync';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { inflateSync } from 'zlib';
import * as CRC32 from 'crc-32';
import { InputError } from '../errors';
import { checkJsonText } from '../util/json';
import { NpyArray, openNpzArray, toFloat32 } from './npy';
import { DatasetKind, DatasetManifest, DatasetSample, ImagePreprocess } from './types';

/** Absolute path of a manifest file: table and npz datasets are rooted at the file itself, the others at a folder. */
export function sampleFilePath(root: string, kind: DatasetKind, file: string): string {
  if (kind === 'table') return root;
  if (kind === 'arrays' && statSync(root).isFile()) return root;
  // The manifest names files under root, but a file may have become a link since it was registered.
  return realPathWithinSync(path.join(root, ...file.split('/')), root);
}

// ---------------------------------------------------------------- images

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Rgba {
  width: number;
  height: number;
  /** 4 bytes a pixel, row-major. */
  data: Uint8Array;
}

/** Decodes by content, not extension (a .jpg that is really a PNG is common in scraped datasets). */
export function decodeImage(file: string, bytes: Buffer): Rgba {
  const bad = (why: string) => new InputError(file, `not a readable PNG/JPEG image (${why})`);
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_MAGIC)) {
    // Checked first: pngjs' sync reader can return a damaged deflate stream as pixels taken from
    // uninitialised memory (seen: 7 of 8 decodes of one corrupt file "succeed"), and otherwise reports
    // most damage as "unrecognised content at end of stream".
    const damage = pngDamage(bytes);
    if (damage) throw bad(`corrupt PNG: ${damage}`);
    try {
      // pngjs expands grayscale, palette and 16-bit images to 8-bit RGBA.
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, data: png.data };
    } catch {
      throw bad('corrupt PNG: its image data does not match the size and colour type its header declares');
    }
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    try {
      // jpeg-js fails on truncated files ("marker was not found"), so they do not pass as grey images.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw bad(
        /memory|resolution/i.test(msg)
          ? 'JPEG too large to decode (over 512 MB of pixels)'
          : 'corrupt JPEG: its data is damaged or cut short',
      );
    }
  }
  throw bad(bytes.length === 0 ? 'empty file' : 'unknown format');
}

/** What is wrong with a PNG's structure, in our words (undefined when its chunks and compressed data are sound). */
function pngDamage(bytes: Buffer): string | undefined {
  const idat: Buffer[] = [];
  let pos = 8;
  for (let first = true; ; first = false) {
    if (pos + 12 > bytes.length) return 'the file ends early (truncated)';
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    if (first && type !== 'IHDR') return 'it does not start with an IHDR header chunk';
    if (pos + 12 + len > bytes.length) return 'the file ends early (truncated)';
    if (CRC32.buf(bytes.subarray(pos + 4, pos + 8 + len)) >>> 0 !== bytes.readUInt32BE(pos + 8 + len)) {
      return `a chunk's checksum does not match its data (${JSON.stringify(type)} at byte ${pos})`;
    }
    if (type === 'IDAT') idat.push(bytes.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
    if (type === 'IEND') break;
  }
  try {
    inflateSync(Buffer.concat(idat));
  } catch {
    return 'its compressed image data cannot be decompressed';
  }
  return undefined;
}

/**
 * Reads an image as a model input of length 3*h*w: decode, drop alpha, resize to pre.size, then
 * per channel (x*scale - mean) / std, in pre.channelOrder and pre.layout.
 */
export async function loadImage(file: string, pre: ImagePreprocess): Promise<Float32Array> {
  return preprocessImageBytes(file, await fsp.readFile(file), pre);
}

/** loadImage on bytes already read (an upload); `file` names them in errors. */
export function preprocessImageBytes(file: string, bytes: Buffer, pre: ImagePreprocess): Float32Array {
  const img = decodeImage(file, bytes);
  if (!img.width || !img.height) throw new InputError(file, 'not a readable PNG/JPEG image (zero size)');
  return preprocessRgba(img, pre);
}

/** The shape of one image as the preprocessing makes it: [3, h, w] (NCHW) or [h, w, 3] (NHWC). */
export function imageShape(pre: ImagePreprocess): number[] {
  const [h, w] = pre.size;
  return pre.layout === 'NCHW' ? [3, h, w] : [h, w, 3];
}

/**
 * Where an image of width × height lands in the model's input: input = original * scale + pad, per
 * axis. A plain resize stretches each axis on its own; a letterbox scales both by the same factor and
 * centres the result, with Ultralytics' rounding (LetterBox and scale_boxes), so boxes map back as
 * Ultralytics maps them.
 */
export interface InputGeometry {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  /** The size the image itself is resized to inside the input (the input size without letterbox). */
  resizedW: number;
  resizedH: number;
}

export function inputGeometry(width: number, height: number, pre: ImagePreprocess): InputGeometry {
  const [outH, outW] = pre.size;
  if (!pre.letterbox)
    return { scaleX: outW / width, scaleY: outH / height, padX: 0, padY: 0, resizedW: outW, resizedH: outH };
  const gain = Math.min(outH / height, outW / width);
  const resizedW = Math.round(width * gain);
  const resizedH = Math.round(height * gain);
  // Ultralytics pads round(d - 0.1) before and round(d + 0.1) after, d being half the spare room.
  const padX = Math.max(0, Math.round((outW - resizedW) / 2 - 0.1));
  const padY = Math.max(0, Math.round((outH - resizedH) / 2 - 0.1));
  return { scaleX: gain, scaleY: gain, padX, padY, resizedW, resizedH };
}

/** The grey Ultralytics fills a letterbox's border with, in 0..255 pixel values (normalised like the image). */
export const LETTERBOX_PAD = 114;

/** The preprocessing part of loadImage, on decoded RGBA pixels (exported for tests and callers that decode themselves). */
export function preprocessRgba(img: Rgba, pre: ImagePreprocess): Float32Array {
  const [outH, outW] = pre.size;
  const g = inputGeometry(img.width, img.height, pre);
  const planes = [0, 1, 2].map((c) => {
    const p = new Float32Array(img.width * img.height);
    for (let i = 0; i < p.length; i++) p[i] = img.data[i * 4 + c];
    const resized = resizePlane(p, img.width, img.height, g.resizedW, g.resizedH);
    if (!pre.letterbox) return resized;
    const padded = new Float32Array(outW * outH).fill(LETTERBOX_PAD);
    for (let y = 0; y < g.resizedH; y++)
      padded.set(resized.subarray(y * g.resizedW, (y + 1) * g.resizedW), (y + g.padY) * outW + g.padX);
    return padded;
  });
  const out = new Float32Array(3 * outH * outW);
  const hw = outH * outW;
  for (let c = 0; c < 3; c++) {
    const src = planes[pre.channelOrder === 'BGR' ? 2 - c : c];
    // (x * scale - mean) / std as one multiply-add, the layout decided outside the hot loop.
    const a = pre.scale / pre.std[c];
    const b = -pre.mean[c] / pre.std[c];
    if (pre.layout === 'NCHW') for (let i = 0, o = c * hw; i < hw; i++) out[o + i] = src[i] * a + b;
    else for (let i = 0; i < hw; i++) out[i * 3 + c] = src[i] * a + b;
  }
  return out;
}

/** A JPEG of the image at most `side` pixels on its longer side (never enlarged). */
export function thumbnailJpeg(file: string, bytes: Buffer, side: number): Buffer {
  const img = decodeImage(file, bytes);
  if (!img.width || !img.height) throw new InputError(file, 'not a readable PNG/JPEG image (zero size)');
  const scale = Math.min(1, side / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const out = Buffer.alloc(w * h * 4, 255);
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(img.width * img.height);
    for (let i = 0; i < plane.length; i++) plane[i] = img.data[i * 4 + c];
    const small = resizePlane(plane, img.width, img.height, w, h);
    for (let i = 0; i < small.length; i++) out[i * 4 + c] = Math.min(255, Math.max(0, Math.round(small[i])));
  }
  return Buffer.from(jpeg.encode({ data: out, width: w, height: h }, 80).data);
}

/**
 * Bilinear resize with the half-pixel convention (align_corners=false), computed the way PIL (and
 * so torchvision's Resize) does: a separable triangle filter centred at (i + 0.5) * in/out. When
 * enlarging this is exactly textbook bilinear interpolation with edge clamping; when shrinking the
 * filter widens by the ratio (antialiasing), as PIL does, so that e.g. a 4×4 → 2×2 pixel averages its
 * neighbourhood instead of sampling between two pixels.
 */
export function resizePlane(src: Float32Array, inW: number, inH: number, outW: number, outH: number): Float32Array {
  if (inW === outW && inH === outH) return src;
  const wx = filterWeights(inW, outW);
  const wy = filterWeights(inH, outH);
  // Horizontal pass: inH rows of outW.
  const tmp = new Float32Array(outW * inH);
  for (let y = 0; y < inH; y++) {
    for (let x = 0; x < outW; x++) {
      const { start, w } = wx[x];
      let s = 0;
      for (let k = 0; k < w.length; k++) s += src[y * inW + start + k] * w[k];
      tmp[y * outW + x] = s;
    }
  }
  // Vertical pass.
  const out = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const { start, w } = wy[y];
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let k = 0; k < w.length; k++) s += tmp[(start + k) * outW + x] * w[k];
      out[y * outW + x] = s;
    }
  }
  return out;
}

/** PIL's precompute_coeffs for the bilinear (triangle, support 1) filter. */
function filterWeights(inSize: number, outSize: number): { start: number; w: number[] }[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const result: { start: number; w: number[] }[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w: number[] = [];
    let total = 0;
    for (let j = start; j < end; j++) {
      const v = Math.max(0, 1 - Math.abs((j - center + 0.5) / filterScale));
      w.push(v);
      total += v;
    }
    result.push({ start, w: w.map((v) => (total ? v / total : 0)) });
  }
  return result;
}

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
const DEFAULT_SIZE: [number, number] = [224, 224];

/**
 * Image preprocessing for a version. Its config.json may hold a "preprocessing" object; every key is
 * optional and falls back to the default shown:
 *
 *   "preprocessing": {
 *     "size": [224, 224],            // [height, width] or one number for a square; "resize" is an alias.
 *                                    // Default: from the ONNX input shape, else 224×224.
 *     "scale": 0.00392156862745098,  // multiplier applied to 0..255 pixel values first (default 1/255)
 *     "mean": [0.485, 0.456, 0.406], // subtracted per channel, in channel_order order (one number = all channels)
 *     "std": [0.229, 0.224, 0.225],  // divided per channel, after mean (one number = all channels)
 *     "channel_order": "RGB",        // or "BGR" (Caffe/OpenCV-trained models)
 *     "layout": "NCHW",              // or "NHWC"; default from the input shape ([N,H,W,3] → NHWC), else NCHW
 *     "letterbox": false             // true: keep the aspect ratio and pad with grey 114 (Ultralytics YOLO)
 *   }
 *
 * Defaults are the ImageNet ones torchvision models use.
 */
export function preprocessFromConfig(config: unknown, inputShape: (number | string)[] | undefined): ImagePreprocess {
  const where = 'config.json';
  const raw = isObject(config) ? config.preprocessing : undefined;
  if (raw !== undefined && !isObject(raw)) throw new InputError(where, '"preprocessing" must be an object');
  const p: Record<string, unknown> = raw ?? {};

  const layoutFromShape = shapeLayout(inputShape);
  let layout: ImagePreprocess['layout'] = layoutFromShape ?? 'NCHW';
  if (p.layout !== undefined) {
    const l = String(p.layout).toUpperCase();
    if (l !== 'NCHW' && l !== 'NHWC')
      throw new InputError(where, `preprocessing.layout must be "NCHW" or "NHWC", not ${JSON.stringify(p.layout)}`);
    layout = l;
  }

  let channelOrder: ImagePreprocess['channelOrder'] = 'RGB';
  if (p.channel_order !== undefined) {
    const c = String(p.channel_order).toUpperCase();
    if (c !== 'RGB' && c !== 'BGR')
      throw new InputError(
        where,
        `preprocessing.channel_order must be "RGB" or "BGR", not ${JSON.stringify(p.channel_order)}`,
      );
    channelOrder = c;
  }

  const sizeRaw = p.size ?? p.resize;
  let size: [number, number] = shapeSize(inputShape, layout) ?? DEFAULT_SIZE;
  if (sizeRaw !== undefined) {
    const key = p.size !== undefined ? 'size' : 'resize';
    if (typeof sizeRaw === 'number' && positiveInt(sizeRaw)) size = [sizeRaw, sizeRaw];
    else if (Array.isArray(sizeRaw) && sizeRaw.length === 2 && sizeRaw.every(positiveInt))
      size = [sizeRaw[0], sizeRaw[1]];
    else
      throw new InputError(
        where,
        `preprocessing.${key} must be [height, width] or one number, not ${JSON.stringify(sizeRaw)}`,
      );
  }

  let scale = 1 / 255;
  if (p.scale !== undefined) {
    if (typeof p.scale !== 'number' || !Number.isFinite(p.scale))
      throw new InputError(where, `preprocessing.scale must be a number, not ${JSON.stringify(p.scale)}`);
    scale = p.scale;
  }

  if (p.letterbox !== undefined && typeof p.letterbox !== 'boolean')
    throw new InputError(where, `preprocessing.letterbox must be true or false, not ${JSON.stringify(p.letterbox)}`);

  return {
    size,
    scale,
    mean: triple(p.mean, IMAGENET_MEAN, 'mean', false),
    std: triple(p.std, IMAGENET_STD, 'std', true),
    channelOrder,
    layout,
    ...(p.letterbox ? { letterbox: true } : {}),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function triple(
  v: unknown,
  fallback: [number, number, number],
  key: string,
  nonZero: boolean,
): [number, number, number] {
  if (v === undefined) return fallback;
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && (!nonZero || x !== 0);
  if (ok(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every(ok)) return [v[0], v[1], v[2]];
  throw new InputError(
    'config.json',
    `preprocessing.${key} must be three${nonZero ? ' non-zero' : ''} numbers or one number, not ${JSON.stringify(v)}`,
  );
}

/** [N,3,H,W] → NCHW, [N,H,W,3] → NHWC; undefined when the shape does not say. */
function shapeLayout(shape: (number | string)[] | undefined): ImagePreprocess['layout'] | undefined {
  if (!shape || shape.length !== 4) return undefined;
  if (shape[1] === 3) return 'NCHW';
  if (shape[3] === 3) return 'NHWC';
  return undefined;
}

function shapeSize(
  shape: (number | string)[] | undefined,
  layout: ImagePreprocess['layout'],
): [number, number] | undefined {
  if (!shape || shape.length !== 4) return undefined;
  const [h, w] = layout === 'NCHW' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return positiveInt(h) && positiveInt(w) ? [h, w] : undefined;
}

// ---------------------------------------------------------------- tables

export interface ParsedTable {
  columns: string[];
  /** Data rows; cells are strings (CSV) or JSON values (JSONL), undefined where a JSONL row lacks the key. */
  rows: unknown[][];
  /** 1-based source line of each data row, for messages. */
  lines: number[];
}

export const isJsonl = (file: string) => /\.(jsonl|ndjson)$/i.test(file);

/** Parses a whole CSV (header row required) or JSONL file; malformed input → InputError naming the line. */
export async function readTable(file: string): Promise<ParsedTable> {
  const text = await fsp.readFile(file, 'utf8');
  return isJsonl(file) ? parseJsonl(file, text) : parseCsvTable(file, text);
}

function parseCsvTable(file: string, text: string): ParsedTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, { bom: true, info: true, trim: true, skip_empty_lines: true }) as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (e) {
    const err = e as { code?: string; lines?: number; message?: string; record?: unknown[] };
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      throw new InputError(
        file,
        `line ${err.lines}: ${err.record?.length ?? '?'} fields where the header has ${records0Length(text)}; every row needs the same number of fields`,
      );
    }
    throw new InputError(file, `${err.lines ? `line ${err.lines}: ` : ''}malformed CSV (${err.message ?? String(e)})`);
  }
  if (!records.length) throw new InputError(file, 'empty CSV: a header row and data rows are needed');
  const columns = records[0].record;
  checkColumns(file, columns);
  return { columns, rows: records.slice(1).map((r) => r.record), lines: records.slice(1).map((r) => r.info.lines) };
}

/** Header width for the ragged-row message (csv-parse's error does not carry it). */
function records0Length(text: string): number | string {
  try {
    const first = parseCsv(text, { bom: true, to_line: 1, relax_column_count: true }) as string[][];
    return first[0]?.length ?? '?';
  } catch {
    return '?';
  }
}

function checkColumns(file: string, columns: string[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c === '') throw new InputError(file, `column ${i + 1} has no name in the header`);
    if (seen.has(c)) throw new InputError(file, `column "${c}" appears twice in the header`);
    seen.add(c);
  });
}

function parseJsonl(file: string, text: string): ParsedTable {
  const columns: string[] = [];
  const index = new Map<string, number>();
  const objects: Record<string, unknown>[] = [];
  const lines: number[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      let v: unknown;
      try {
        checkJsonText(line, file, `line ${i + 1}`);
        v = JSON.parse(line);
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(file, `line ${i + 1}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
      if (!isObject(v)) throw new InputError(file, `line ${i + 1}: expected a JSON object per line`);
      for (const k of Object.keys(v)) {
        if (!index.has(k)) index.set(k, columns.push(k) - 1);
      }
      objects.push(v);
      lines.push(i + 1);
    });
  if (!objects.length) throw new InputError(file, 'no rows: expected one JSON object per line');
  return { columns, rows: objects.map((o) => columns.map((c) => o[c])), lines };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A cell as a finite number, or undefined (empty, text, NaN, objects). */
export function cellNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    return NUMBER.test(s) ? Number(s) : undefined;
  }
  return undefined;
}

/** A cell as label/split text: '' when missing. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

interface TableData {
  /** rows × features, row-major. */
  features: Float32Array;
  width: number;
  rows: number;
  texts?: string[];
}

/**
 * Feature vectors of a table dataset's samples (manifest.table.featureColumns order). Each file is
 * parsed once and kept as a float matrix.
 */
export class TableReader {
  private readonly cache = new Map<string, Promise<TableData>>();

  constructor(
    private readonly root: string,
    private readonly manifest: DatasetManifest,
  ) {
    if (!manifest.table) throw new Error('TableReader needs a table dataset');
  }

  async features(sample: DatasetSample): Promise<Float32Array> {
    const data = await this.load(sample.file);
    const row = this.row(sample, data);
    return data.features.slice(row * data.width, (row + 1) * data.width);
  }

  /** The text column's value, when the dataset has one. */
  async text(sample: DatasetSample): Promise<string> {
    const data = await this.load(sample.file);
    if (!data.texts) throw new Error('the dataset has no text column');
    return data.texts[this.row(sample, data)];
  }

  private row(sample: DatasetSample, data: TableData): number {
    const row = sample.row ?? -1;
    if (!Number.isInteger(row) || row < 0 || row >= data.rows) {
      throw new InputError(
        sampleFilePath(this.root, 'table', sample.file),
        `no row ${sample.row}: the file changed since the dataset was registered`,
      );
    }
    return row;
  }

  private load(file: string): Promise<TableData> {
    let p = this.cache.get(file);
    if (!p) {
      p = this.parse(sampleFilePath(this.root, 'table', file));
      p.catch(() => this.cache.delete(file)); // a failed parse is retried, not remembered
      this.cache.set(file, p);
    }
    return p;
  }

  private async parse(abs: string): Promise<TableData> {
    const t = this.manifest.table!;
    const table = await readTable(abs);
    const idx = t.featureColumns.map((c) => {
      const i = table.columns.indexOf(c);
      if (i === -1)
        throw new InputError(abs, `column "${c}" is gone: the file changed since the dataset was registered`);
      return i;
    });
    const width = idx.length;
    const features = new Float32Array(table.rows.length * width);
    table.rows.forEach((r, row) => {
      idx.forEach((ci, k) => {
        const v = cellNumber(r[ci]);
        if (v === undefined)
          throw new InputError(
            abs,
            `line ${table.lines[row]}: column "${t.featureColumns[k]}" is not a number: ${JSON.stringify(r[ci] ?? null)}`,
          );
        features[row * width + k] = v;
      });
    });
    const textIdx = t.textColumn ? table.columns.indexOf(t.textColumn) : -1;
    return {
      features,
      width,
      rows: table.rows.length,
      texts: textIdx >= 0 ? table.rows.map((r) => cellText(r[textIdx])) : undefined,
    };
  }
}

// ---------------------------------------------------------------- arrays

/** Rows of an arrays dataset's inputs as float32, read one row at a time from the .npy / .npz. */
export class ArrayReader {
  private opened?: Promise<NpyArray>;

  constructor(
    private readonly root: string,
    private readonly manifest: DatasetManifest,
  ) {
    if (!manifest.arrays) throw new Error('ArrayReader needs an arrays dataset');
  }

  async row(index: number): Promise<Float32Array> {
    const arr = await this.open();
    if (index < 0 || index >= arr.rows)
      throw new InputError(
        arr.where,
        `no row ${index} (${arr.rows} rows): the file changed since the dataset was registered`,
      );
    return toFloat32(await arr.readRows(index), arr.header.dtype);
  }

  /** Row for a sample (its `row`). */
  sample(s: DatasetSample): Promise<Float32Array> {
    return this.row(s.row ?? -1);
  }

  async close(): Promise<void> {
    const p = this.opened;
    this.opened = undefined;
    if (p)
      await p.then(
        (a) => a.close(),
        () => undefined,
      );
  }

  private open(): Promise<NpyArray> {
    if (!this.opened) {
      const a = this.manifest.arrays!;
      const isNpz = statSync(this.root).isFile();
      this.opened = (
        isNpz ? openNpzArray(this.root, a.inputs) : NpyArray.openFile(path.join(this.root, a.inputs))
      ).then(async (arr) => {
        if (arr.rowShape.join(',') !== a.shape.join(',')) {
          await arr.close();
          throw new InputError(
            arr.where,
            `rows are (${arr.rowShape.join(', ')}), registered as (${a.shape.join(', ')}): the file changed since the dataset was registered`,
          );
        }
        return arr;
      });
      this.opened.catch(() => (this.opened = undefined));
    }
    return this.opened;
  }
}

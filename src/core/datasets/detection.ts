/**
 * Detection datasets: COCO instances JSON, YOLO data.yaml and Pascal VOC folders, read into one
 * manifest of images (id, size) and boxes in pixels ([x, y, w, h], COCO's convention). Input is
 * checked box by box: what is unusable is dropped, what is doubtful is kept, and both are reported
 * in the record's details (`problems`, with the file and the annotation id or line), so one bad box
 * does not refuse a dataset of thousands. Registration fails only when nothing usable is left.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { imageSize } from 'image-size';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors';
import { checkValueDepth, MAX_JSON_DEPTH, parseJsonBounded } from '../util/json';
import { isInside, realPathWithin } from '../util/paths';
import { Built, checkCancel, cmp, hashAll, listDir, RegisterDatasetOptions, sortSplits, ToHash } from './build';
import { BoxXYWH, DatasetManifest, DatasetSample, DetectionBox } from './types';

const IMAGE_EXT = /\.(jpe?g|png)$/i;
/** V8's longest string is ~512 MiB; COCO's train2017 instances file is 448 MB. */
const MAX_COCO_BYTES = 512 << 20;
const MAX_SMALL_FILE_BYTES = 16 << 20;
/** Enough for the header of any JPEG or PNG, EXIF thumbnails included (image-size reads no further). */
const IMAGE_HEADER_BYTES = 512 << 10;
const MAX_YAML_ALIASES = 100;
/** Problems stored in the record's details; beyond this only their counts. */
export const MAX_STORED_PROBLEMS = 200;
/** Boxes within this many pixels of the image's edge are inside it (YOLO's normalised numbers round). */
const EDGE_TOLERANCE = 1e-6;

/** One thing wrong with the input, named by file and, where there is one, annotation id, image id or line. */
export interface DetectionProblem {
  file: string;
  annotationId?: number;
  imageId?: number;
  line?: number;
  problem: string;
}

/** Kinds of problem, counted in details.problemCounts. */
export type ProblemKind =
  | 'bad-category'
  | 'duplicate-category-id'
  | 'bad-image'
  | 'duplicate-image-id'
  | 'duplicate-file-name'
  | 'bad-annotation'
  | 'annotation-id-0'
  | 'duplicate-annotation-id'
  | 'unknown-image'
  | 'unknown-category'
  | 'box-not-finite'
  | 'box-empty'
  | 'box-outside'
  | 'box-partly-outside'
  | 'class-out-of-range'
  | 'malformed-line'
  | 'unknown-xml'
  | 'image-missing'
  | 'image-unreadable'
  | 'image-size-differs'
  | 'duplicate-split';

/** Collects problems: every one counted, the first MAX_STORED_PROBLEMS kept. */
class Problems {
  readonly list: DetectionProblem[] = [];
  readonly counts: Partial<Record<ProblemKind, number>> = {};
  total = 0;
  add(kind: ProblemKind, p: DetectionProblem): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.total++;
    if (this.list.length < MAX_STORED_PROBLEMS) this.list.push(p);
  }
  details(): Record<string, unknown> {
    return this.total
      ? { problemCount: this.total, problemCounts: this.counts, problems: this.list }
      : { problemCount: 0 };
  }
}

type Where = Omit<DetectionProblem, 'problem'>;

/** A box in a message: 6 significant digits, so 0.45·256 reads 115.2. */
const boxText = (b: number[]) => `[${b.map((v) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v)).join(', ')}]`;

/**
 * Checks a box against its image: non-finite numbers, w ≤ 0 or h ≤ 0, and boxes entirely outside
 * are dropped (undefined); boxes partly outside are kept as given and reported.
 */
function checkBox(
  bbox: number[],
  width: number,
  height: number,
  where: Where,
  problems: Problems,
): BoxXYWH | undefined {
  const [x, y, w, h] = bbox;
  if (!bbox.every(Number.isFinite)) {
    problems.add('box-not-finite', {
      ...where,
      problem: `box ${boxText(bbox)} has a number that is not finite; dropped`,
    });
    return undefined;
  }
  if (w <= 0 || h <= 0) {
    problems.add('box-empty', { ...where, problem: `box ${boxText(bbox)} has no area (w or h ≤ 0); dropped` });
    return undefined;
  }
  const e = EDGE_TOLERANCE;
  if (x >= width - e || y >= height - e || x + w <= e || y + h <= e) {
    problems.add('box-outside', {
      ...where,
      problem: `box ${boxText(bbox)} lies entirely outside the ${width}×${height} image; dropped`,
    });
    return undefined;
  }
  if (x < -e || y < -e || x + w > width + e || y + h > height + e) {
    problems.add('box-partly-outside', {
      ...where,
      problem: `box ${boxText(bbox)} reaches outside the ${width}×${height} image; kept as given`,
    });
  }
  return [x, y, w, h];
}

/** Reads a text file after checking its size, so a huge file is refused by name rather than by V8. */
async function readText(file: string, limit: number, what: string): Promise<string> {
  const st = await fsp.stat(file);
  if (st.size > limit)
    throw new InputError(file, `${what} is ${st.size} bytes, more than the ${limit >> 20} MiB read; not read`);
  return (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, '');
}

/** Width and height from a JPEG or PNG header (by content); undefined when it is neither or unreadable. */
async function readImageSize(file: string): Promise<{ width: number; height: number } | undefined> {
  const handle = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(IMAGE_HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, IMAGE_HEADER_BYTES, 0);
    const s = imageSize(buf.subarray(0, bytesRead));
    // Stored size, not EXIF-rotated: the evaluator decodes the pixels as stored.
    if ((s.type === 'jpg' || s.type === 'png') && s.width > 0 && s.height > 0)
      return { width: s.width, height: s.height };
    return undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Where a path is in the manifest: '/'-separated, relative to root. */
const relTo = (root: string, abs: string) => path.relative(root, abs).split(path.sep).join('/');

/** A file to hash, with its size. */
async function toHash(abs: string, rel: string): Promise<ToHash> {
  return { abs, rel, size: (await fsp.stat(abs)).size };
}

function manifestOf(
  source: 'coco' | 'yolo' | 'voc',
  classes: string[],
  categoryIds: number[],
  samples: DatasetSample[],
  files: DatasetManifest['files'],
  imagesMissing: boolean,
): DatasetManifest {
  samples.sort((a, b) => cmp(a.file, b.file));
  return {
    format: 'modelreg-dataset',
    formatVersion: 1,
    kind: 'detection',
    classes,
    splits: sortSplits(samples.flatMap((s) => (s.split === null ? [] : [s.split]))),
    samples,
    files,
    detection: { source, categoryIds, ...(imagesMissing ? { imagesMissing: true } : {}) },
  };
}

/** Refuses a dataset with no image or no box left, naming what was dropped. */
function requireUsable(file: string, samples: DatasetSample[], problems: Problems): void {
  const boxes = samples.reduce((a, s) => a + (s.boxes?.length ?? 0), 0);
  if (samples.length && boxes) return;
  const why = problems.total
    ? `; ${problems.total} problems, first: ${problems.list[0].file}${problems.list[0].line ? ` line ${problems.list[0].line}` : ''}${problems.list[0].annotationId !== undefined ? ` annotation ${problems.list[0].annotationId}` : ''}: ${problems.list[0].problem}`
    : '';
  throw new InputError(file, `no usable ${samples.length ? 'boxes' : 'images'} left${why}`);
}

function counts(samples: DatasetSample[]): { images: number; boxes: number } {
  return { images: samples.length, boxes: samples.reduce((a, s) => a + (s.boxes?.length ?? 0), 0) };
}

// ---------------------------------------------------------------- COCO

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Whether a parsed JSON value is a COCO instances file (the three lists). */
export function isCocoInstances(v: unknown): boolean {
  return isObject(v) && Array.isArray(v.images) && Array.isArray(v.annotations) && Array.isArray(v.categories);
}

/**
 * A COCO instances JSON. Classes are the category names in id order, and categoryIds their ids
 * (sparse ids such as COCO's 1..90 stay as given). COCO has no splits: one file is one split.
 */
export async function buildCoco(file: string, opts: RegisterDatasetOptions): Promise<Built> {
  const base = path.basename(file);
  const doc = parseJsonBounded(await readText(file, MAX_COCO_BYTES, 'the annotations file'), file, {
    what: 'COCO annotations',
  });
  if (!isCocoInstances(doc))
    throw new InputError(file, 'not a COCO instances file: expected "images", "annotations" and "categories" lists');
  const { images, annotations, categories } = doc as Record<string, unknown[]>;
  const problems = new Problems();
  checkCancel(opts.signal);

  const cats = new Map<number, string>();
  categories.forEach((c, i) => {
    if (!isObject(c) || !isId(c.id) || typeof c.name !== 'string')
      return problems.add('bad-category', {
        file: base,
        problem: `categories[${i}] needs an integer id and a name; skipped`,
      });
    if (cats.has(c.id))
      return problems.add('duplicate-category-id', {
        file: base,
        problem: `category id ${c.id} appears twice; the first is kept`,
      });
    cats.set(c.id, c.name);
  });
  const categoryIds = [...cats.keys()].sort((a, b) => a - b);
  const classIndex = new Map(categoryIds.map((id, i) => [id, i]));

  const byId = new Map<number, DatasetSample>();
  const fileNames = new Set<string>();
  images.forEach((im, i) => {
    const bad = (why: string) =>
      problems.add('bad-image', {
        file: base,
        ...(isObject(im) && isId(im.id) ? { imageId: im.id } : {}),
        problem: `images[${i}] ${why}; skipped`,
      });
    if (!isObject(im) || !isId(im.id)) return bad('has no integer id');
    if (byId.has(im.id))
      return problems.add('duplicate-image-id', {
        file: base,
        imageId: im.id,
        problem: `image id ${im.id} appears twice; the first is kept`,
      });
    const name = im.file_name;
    if (typeof name !== 'string' || !safeRelative(name)) return bad('needs a file_name relative to the images folder');
    if (!isId(im.width) || !isId(im.height) || im.width <= 0 || im.height <= 0)
      return bad('needs a positive integer width and height');
    if (fileNames.has(name))
      return problems.add('duplicate-file-name', {
        file: base,
        imageId: im.id,
        problem: `file_name ${name} appears twice; the first is kept`,
      });
    fileNames.add(name);
    byId.set(im.id, {
      id: name,
      file: name,
      label: -1,
      split: null,
      image: { id: im.id, width: im.width, height: im.height },
      boxes: [],
    });
  });

  const annIds = new Set<number>();
  annotations.forEach((a, i) => {
    if (!isObject(a) || !isId(a.id))
      return problems.add('bad-annotation', { file: base, problem: `annotations[${i}] has no integer id; skipped` });
    const where = { file: base, annotationId: a.id, ...(isId(a.image_id) ? { imageId: a.image_id } : {}) };
    if (annIds.has(a.id))
      return problems.add('duplicate-annotation-id', {
        ...where,
        problem: `annotation id ${a.id} appears twice; the first is kept`,
      });
    annIds.add(a.id);
    // pycocotools counts a detection matched to ground truth 0 as unmatched; kept as COCO gives it.
    if (a.id === 0)
      problems.add('annotation-id-0', {
        ...where,
        problem: 'annotation id 0: pycocotools cannot match it; kept as given',
      });
    const sample = isId(a.image_id) ? byId.get(a.image_id) : undefined;
    if (!sample)
      return problems.add('unknown-image', {
        ...where,
        problem: `image_id ${String(a.image_id)} is not in "images"; dropped`,
      });
    const label = isId(a.category_id) ? classIndex.get(a.category_id) : undefined;
    if (label === undefined)
      return problems.add('unknown-category', {
        ...where,
        problem: `category_id ${String(a.category_id)} is not in "categories"; dropped`,
      });
    const raw = a.bbox;
    if (!Array.isArray(raw) || raw.length !== 4 || !raw.every((n) => typeof n === 'number'))
      return problems.add('box-not-finite', { ...where, problem: 'bbox must be 4 numbers [x, y, w, h]; dropped' });
    const bbox = checkBox(raw as number[], sample.image!.width, sample.image!.height, where, problems);
    if (!bbox) return;
    // COCO's area (the segment's) decides small/medium/large; without one, the box's.
    const area = typeof a.area === 'number' && Number.isFinite(a.area) && a.area >= 0 ? a.area : bbox[2] * bbox[3];
    sample.boxes!.push({
      id: a.id,
      label,
      bbox,
      area,
      ...(a.iscrowd === 1 || a.iscrowd === true ? { iscrowd: true } : {}),
    });
  });
  const samples = [...byId.values()];
  requireUsable(file, samples, problems);

  const toHashList: ToHash[] = [await toHash(file, base)];
  const warnings: string[] = [];
  let imagesDir: string | undefined;
  if (opts.images === undefined) {
    warnings.push('registered without images (no images folder given): metrics need only the boxes');
  } else {
    const given = path.resolve(opts.images);
    // The user named this folder: links inside it may not lead out of it (nor out of the boundary, when there is one).
    imagesDir = await realPathWithin(given, opts.boundary ?? given);
    if (!(await fsp.stat(imagesDir)).isDirectory()) throw new InputError(given, 'the images folder is not a folder');
    const found = await findCocoImages(imagesDir, samples, base, problems, opts);
    if (found.length === samples.length) toHashList.push(...found);
    else {
      warnings.push(
        `${samples.length - found.length} of ${samples.length} images are not under ${given}; registered without images: metrics need only the boxes`,
      );
      imagesDir = undefined;
    }
  }
  const files = await hashAll(toHashList, opts);
  const manifest = manifestOf(
    'coco',
    categoryIds.map((id) => cats.get(id)!),
    categoryIds,
    samples,
    files,
    !imagesDir,
  );
  return {
    root: file,
    manifest,
    details: {
      ...counts(samples),
      ...(imagesDir ? { imagesDir } : { imagesMissing: true }),
      ...(warnings.length ? { warnings } : {}),
      ...problems.details(),
    },
  };
}

/** A file_name that names a file under the images folder: relative, no '..'. */
function safeRelative(name: string): boolean {
  const parts = name.split(/[\\/]/);
  return name !== '' && !path.isAbsolute(name) && !/^[A-Za-z]:/.test(name) && !parts.includes('..');
}

/** The images found under dir, to hash; missing ones and sizes that differ from the JSON are reported. */
async function findCocoImages(
  dir: string,
  samples: DatasetSample[],
  base: string,
  problems: Problems,
  opts: RegisterDatasetOptions,
): Promise<ToHash[]> {
  const found: ToHash[] = [];
  for (const s of samples) {
    checkCancel(opts.signal);
    const where = { file: s.file, imageId: s.image!.id };
    // A missing image is reported; a link out of the folder is refused.
    const real = await realPathWithin(path.join(dir, ...s.file.split('/')), dir).catch((e: unknown) => {
      if (e instanceof InputError && e.problem.startsWith('no such')) return undefined;
      throw e;
    });
    const st = real && (await fsp.stat(real));
    if (!real || !st || !st.isFile()) {
      problems.add('image-missing', { ...where, problem: `not found under the images folder (named in ${base})` });
      continue;
    }
    const size = await readImageSize(real);
    if (size && (size.width !== s.image!.width || size.height !== s.image!.height))
      problems.add('image-size-differs', {
        ...where,
        problem: `the image is ${size.width}×${size.height}, ${base} says ${s.image!.width}×${s.image!.height}; the JSON's size is used`,
      });
    found.push({ abs: real, rel: s.file, size: st.size });
  }
  return found;
}

// ---------------------------------------------------------------- YOLO

const YOLO_SPLITS = ['train', 'val', 'test'] as const;

/** Whether a parsed data.yaml looks like YOLO's: a `names` list or map. */
function yoloNames(doc: Record<string, unknown>, file: string): string[] {
  const names = doc.names;
  if (Array.isArray(names) && names.length && names.every((n) => typeof n === 'string' || typeof n === 'number'))
    return names.map(String);
  if (isObject(names)) {
    const keys = Object.keys(names);
    const list = keys.map((_, i) => names[String(i)]);
    if (keys.length && list.every((n) => typeof n === 'string' || typeof n === 'number')) return list.map(String);
  }
  throw new InputError(file, '"names" must be a list of class names, or a map {0: name, 1: name, …} numbered from 0');
}

async function readYaml(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file, MAX_SMALL_FILE_BYTES, 'data.yaml');
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES, logLevel: 'error' });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    if (/call stack/i.test(msg))
      throw new InputError(file, `YAML is nested more than ${MAX_JSON_DEPTH} levels deep; not read`);
    throw new InputError(file, `invalid YAML: ${msg}`);
  }
  checkValueDepth(doc, file, 'YAML');
  if (!isObject(doc)) throw new InputError(file, 'expected a mapping with "names" and "train"/"val"/"test"');
  return doc;
}

/**
 * A YOLO dataset from its data.yaml: `path` (relative to the yaml's folder; default that folder),
 * `train`/`val`/`test` each an image folder, a .txt list of images, or a list of those, and
 * `names`. Each image's labels are at its path with the last /images/ made /labels/ and the
 * extension .txt (Ultralytics' rule). The root is the deepest folder holding every file used.
 */
export async function buildYolo(yamlFile: string, opts: RegisterDatasetOptions): Promise<Built> {
  const boundary = opts.boundary ?? path.dirname(yamlFile);
  const realBoundary = await fsp.realpath(boundary);
  const doc = await readYaml(yamlFile);
  const classes = yoloNames(doc, yamlFile);
  // The real path of p, undefined when it does not exist; refused when it leads out of the boundary.
  const within = async (p: string, what: string): Promise<string | undefined> => {
    const real = await fsp.realpath(p).catch(() => undefined);
    if (real !== undefined && !isInside(realBoundary, real))
      throw new InputError(
        yamlFile,
        `${what} ${p} is outside ${boundary}; refused (a dataset's files must stay inside the folder it is registered from)`,
      );
    return real;
  };
  const needed = async (p: string, what: string) => {
    const real = await within(p, what);
    if (real === undefined) throw new InputError(yamlFile, `${what} ${p} does not exist`);
    return real;
  };
  if (doc.path !== undefined && doc.path !== null && typeof doc.path !== 'string')
    throw new InputError(yamlFile, '"path" must be a folder');
  const base = await needed(
    path.resolve(path.dirname(yamlFile), typeof doc.path === 'string' ? doc.path : '.'),
    '"path"',
  );

  const problems = new Problems();
  // Image (real path) → split; an image in two splits stays in the first.
  const images = new Map<string, string>();
  const lists: string[] = [];
  for (const split of YOLO_SPLITS) {
    const v = doc[split];
    if (v === undefined || v === null) continue;
    const entries = Array.isArray(v) ? v : [v];
    for (const e of entries) {
      if (typeof e !== 'string')
        throw new InputError(yamlFile, `"${split}" must be a folder, a .txt list, or a list of those`);
      const p = path.resolve(base, e);
      const real = await needed(p, `"${split}"`);
      const st = await fsp.stat(real);
      const add = (img: string, where: Where) => {
        const first = images.get(img);
        if (first === undefined) images.set(img, split);
        else if (first !== split)
          problems.add('duplicate-split', {
            ...where,
            problem: `${relTo(base, img)} is in ${first} and ${split}; kept in ${first}`,
          });
      };
      if (st.isDirectory()) {
        for (const img of await walkImageFiles(real, real)) add(img, { file: relTo(base, img) });
      } else if (/\.txt$/i.test(real)) {
        lists.push(real);
        const lines = (await readText(real, MAX_SMALL_FILE_BYTES, 'the image list')).split(/\r?\n/);
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i].trim();
          if (!line) continue;
          const where = { file: relTo(base, real), line: i + 1 };
          // Relative lines are relative to the list's folder (Ultralytics: "./" ones are).
          const img = await within(path.resolve(path.dirname(real), line), 'image');
          if (img) add(img, where);
          else problems.add('image-missing', { ...where, problem: `${line}: no such image; skipped` });
        }
      } else
        throw new InputError(
          real,
          `"${split}" in ${path.basename(yamlFile)} must be a folder of images or a .txt list of images`,
        );
    }
  }
  if (!images.size) throw new InputError(yamlFile, 'no images: "train", "val" and "test" name no image');
  checkCancel(opts.signal);

  const used: string[] = [yamlFile, ...lists];
  const found: { img: string; split: string; label?: string; size: { width: number; height: number } }[] = [];
  for (const [img, split] of images) {
    checkCancel(opts.signal);
    const size = await readImageSize(img);
    if (!size) {
      problems.add('image-unreadable', { file: relTo(base, img), problem: 'not a readable JPEG or PNG; skipped' });
      continue;
    }
    const label = await within(yoloLabelPath(img), 'label file');
    found.push({ img, split, label, size });
  }
  const root = commonFolder([
    path.dirname(yamlFile),
    ...found.flatMap((f) => [f.img, ...(f.label ? [f.label] : [])]),
    ...lists,
  ]);
  found.sort((a, b) => cmp(relTo(root, a.img), relTo(root, b.img)));

  let nextBox = 1;
  const samples: DatasetSample[] = [];
  for (const [i, f] of found.entries()) {
    const rel = relTo(root, f.img);
    const boxes: DetectionBox[] = [];
    if (f.label) {
      used.push(f.label);
      const text = await readText(f.label, MAX_SMALL_FILE_BYTES, 'the label file');
      for (const box of yoloBoxes(text, relTo(root, f.label), classes.length, f.size, problems))
        boxes.push({ id: nextBox++, ...box });
    }
    samples.push({ id: rel, file: rel, label: -1, split: f.split, image: { id: i + 1, ...f.size }, boxes });
    used.push(f.img);
  }
  requireUsable(yamlFile, samples, problems);
  const files = await hashAll(await Promise.all(used.map((abs) => toHash(abs, relTo(root, abs)))), opts);
  const manifest = manifestOf(
    'yolo',
    classes,
    classes.map((_, i) => i),
    samples,
    files,
    false,
  );
  return { root, manifest, details: { ...counts(samples), ...problems.details() } };
}

/** Ultralytics' img2label_paths: the last /images/ becomes /labels/, the extension .txt. */
export function yoloLabelPath(img: string): string {
  const sa = `${path.sep}images${path.sep}`;
  const i = img.lastIndexOf(sa);
  const swapped = i === -1 ? img : `${img.slice(0, i)}${path.sep}labels${path.sep}${img.slice(i + sa.length)}`;
  return swapped.replace(/\.[^./\\]*$/, '') + '.txt';
}

/**
 * Boxes of one label file: `class cx cy w h` normalised to 0..1; a line with more values is a
 * polygon `class x1 y1 x2 y2 …`, whose bounding box is used (as Ultralytics does).
 */
function yoloBoxes(
  text: string,
  file: string,
  classCount: number,
  size: { width: number; height: number },
  problems: Problems,
): Omit<DetectionBox, 'id'>[] {
  const out: Omit<DetectionBox, 'id'>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (!t) continue;
    const where = { file, line: i + 1 };
    const parts = t.split(/\s+/);
    const nums = parts.map(Number);
    const polygon = parts.length >= 7 && parts.length % 2 === 1;
    if (!(parts.length === 5 || polygon) || parts.some((p) => !/^[-+0-9.eE]+$/.test(p) || Number.isNaN(Number(p)))) {
      problems.add('malformed-line', {
        ...where,
        problem: `expected "class cx cy w h" (or a polygon "class x1 y1 x2 y2 …"), got "${t.slice(0, 80)}"; dropped`,
      });
      continue;
    }
    const cls = nums[0];
    if (!Number.isInteger(cls) || cls < 0 || cls >= classCount) {
      problems.add('class-out-of-range', {
        ...where,
        problem: `class ${parts[0]} is not one of 0..${classCount - 1}; dropped`,
      });
      continue;
    }
    let bbox: number[];
    if (polygon) {
      const xs = nums
        .slice(1)
        .filter((_, j) => j % 2 === 0)
        .map((v) => v * size.width);
      const ys = nums
        .slice(1)
        .filter((_, j) => j % 2 === 1)
        .map((v) => v * size.height);
      const x0 = Math.min(...xs),
        y0 = Math.min(...ys);
      bbox = [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0];
    } else {
      const [, cx, cy, w, h] = nums;
      bbox = [(cx - w / 2) * size.width, (cy - h / 2) * size.height, w * size.width, h * size.height];
    }
    const box = checkBox(bbox, size.width, size.height, where, problems);
    if (box) out.push({ label: cls, bbox: box, area: box[2] * box[3] });
  }
  return out;
}

/** JPEG and PNG files anywhere under dir (real paths), links followed while inside root. */
async function walkImageFiles(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await listDir(dir, root)) {
    const p = path.join(dir, e.name);
    if (e.isDir) out.push(...(await walkImageFiles(p, root)));
    else if (e.isFile && IMAGE_EXT.test(e.name)) out.push(await fsp.realpath(p));
  }
  return out;
}

/** The deepest folder holding every path (each a file, or the first a folder). */
function commonFolder(paths: string[]): string {
  let common = paths[0];
  for (const p of paths.slice(1)) while (!isInside(common, p)) common = path.dirname(common);
  return common;
}

// ---------------------------------------------------------------- Pascal VOC

/** Whether a folder's entries look like Pascal VOC's. */
export function looksLikeVoc(names: Set<string>): boolean {
  return names.has('Annotations') && names.has('JPEGImages');
}

// Safe settings: no entity expansion (no DOCTYPE bombs), text kept as text.
const xml = new XMLParser({
  ignoreAttributes: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  maxNestedTags: 32,
});
const MAX_XML_BYTES = 1 << 20;

/**
 * A Pascal VOC folder: Annotations/<id>.xml, the image JPEGImages/<id>.jpg (the XML's own
 * `filename` is often stale, so the id decides), splits from ImageSets/Main/{train,val,test}.txt
 * (trainval.txt only when train and val are absent). Classes sorted by name.
 */
export async function buildVoc(root: string, opts: RegisterDatasetOptions): Promise<Built> {
  const problems = new Problems();
  const annDir = path.join(root, 'Annotations');
  const imgDir = path.join(root, 'JPEGImages');
  const imageFiles = new Map<string, string>(); // id → name in JPEGImages
  for (const e of await listDir(imgDir, root))
    if (e.isFile && IMAGE_EXT.test(e.name)) imageFiles.set(e.name.replace(/\.[^.]*$/, ''), e.name);

  const used: string[] = [];
  const parsed: { id: string; xmlRel: string; image: string; width: number; height: number; objects: VocObject[] }[] =
    [];
  for (const e of await listDir(annDir, root)) {
    if (!e.isFile || !/\.xml$/i.test(e.name)) continue;
    checkCancel(opts.signal);
    const id = e.name.replace(/\.xml$/i, '');
    const xmlRel = `Annotations/${e.name}`;
    const abs = await realPathWithin(path.join(annDir, e.name), root);
    const ann = await readVocXml(abs, xmlRel, problems);
    if (!ann) continue;
    const name = imageFiles.get(id);
    if (!name) {
      problems.add('image-missing', {
        file: xmlRel,
        problem: `no image JPEGImages/${id}.jpg (or .jpeg/.png); skipped`,
      });
      continue;
    }
    let { width, height } = ann;
    const imageAbs = await realPathWithin(path.join(imgDir, name), root);
    if (!(width > 0 && height > 0)) {
      const size = await readImageSize(imageAbs);
      if (!size) {
        problems.add('unknown-xml', {
          file: xmlRel,
          problem: 'no size/width and size/height, and the image is unreadable; skipped',
        });
        continue;
      }
      ({ width, height } = size);
    }
    used.push(abs, imageAbs);
    parsed.push({ id, xmlRel, image: `JPEGImages/${name}`, width, height, objects: ann.objects });
  }

  const splitOf = await vocSplits(root, new Set(parsed.map((p) => p.id)), problems, used);
  const classes = [...new Set(parsed.flatMap((p) => p.objects.map((o) => o.name)))].sort(cmp);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  parsed.sort((a, b) => cmp(a.image, b.image));
  let nextBox = 1;
  const samples: DatasetSample[] = parsed.map((p, i) => {
    const boxes: DetectionBox[] = [];
    for (const o of p.objects) {
      // VOC's pixels are 1-based and xmax/ymax inclusive; kept as given (as torchvision and pycocotools conversions do).
      const bbox = checkBox(
        [o.xmin, o.ymin, o.xmax - o.xmin, o.ymax - o.ymin],
        p.width,
        p.height,
        { file: p.xmlRel, line: o.line },
        problems,
      );
      if (bbox)
        boxes.push({
          id: nextBox++,
          label: classIndex.get(o.name)!,
          bbox,
          area: bbox[2] * bbox[3],
          ...(o.difficult ? { difficult: true } : {}),
        });
    }
    return {
      id: p.image,
      file: p.image,
      label: -1,
      split: splitOf.get(p.id) ?? null,
      image: { id: i + 1, width: p.width, height: p.height },
      boxes,
    };
  });
  requireUsable(annDir, samples, problems);
  const files = await hashAll(await Promise.all(used.map((abs) => toHash(abs, relTo(root, abs)))), opts);
  const manifest = manifestOf(
    'voc',
    classes,
    classes.map((_, i) => i),
    samples,
    files,
    false,
  );
  return { root, manifest, details: { ...counts(samples), ...problems.details() } };
}

interface VocObject {
  name: string;
  difficult: boolean;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  /** The object's line in the XML, for problems. */
  line: number;
}

/** One annotation XML; undefined (reported) when it is not VOC's structure. */
async function readVocXml(
  abs: string,
  rel: string,
  problems: Problems,
): Promise<{ width: number; height: number; objects: VocObject[] } | undefined> {
  const skip = (why: string) => {
    problems.add('unknown-xml', { file: rel, problem: `${why}; skipped` });
    return undefined;
  };
  const st = await fsp.stat(abs);
  if (st.size > MAX_XML_BYTES) return skip(`${st.size} bytes, more than the 1 MiB an annotation file takes`);
  const text = await fsp.readFile(abs, 'utf8');
  // VOC annotations declare nothing; a DOCTYPE can only be there to expand entities.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return skip('declares a DOCTYPE or entities, which VOC annotations never do');
  const valid = XMLValidator.validate(text);
  if (valid !== true) return skip(`not valid XML at line ${valid.err.line}: ${valid.err.msg}`);
  let doc: unknown;
  try {
    doc = xml.parse(text);
  } catch (e) {
    return skip(`not readable XML: ${(e as Error).message}`);
  }
  const ann = isObject(doc) ? doc.annotation : undefined;
  if (!isObject(ann)) return skip('no <annotation> element');
  const size = isObject(ann.size) ? ann.size : {};
  const num = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
  const objectLines = [...text.matchAll(/<object[\s>]/g)].map((m) => text.slice(0, m.index).split('\n').length);
  const objects: VocObject[] = [];
  const raw = ann.object === undefined ? [] : Array.isArray(ann.object) ? ann.object : [ann.object];
  raw.forEach((o, i) => {
    const line = objectLines[i];
    const b = isObject(o) && isObject(o.bndbox) ? o.bndbox : undefined;
    if (!isObject(o) || typeof o.name !== 'string' || !o.name.trim() || !b) {
      problems.add('unknown-xml', {
        file: rel,
        line,
        problem: `object ${i + 1} has no <name> or no <bndbox>; dropped`,
      });
      return;
    }
    objects.push({
      name: o.name.trim(),
      difficult: typeof o.difficult === 'string' && o.difficult.trim() === '1',
      xmin: num(b.xmin),
      ymin: num(b.ymin),
      xmax: num(b.xmax),
      ymax: num(b.ymax),
      line,
    });
  });
  return { width: num(size.width), height: num(size.height), objects };
}

/** Image id → split from ImageSets/Main; lists used are added to `used`. */
async function vocSplits(
  root: string,
  ids: Set<string>,
  problems: Problems,
  used: string[],
): Promise<Map<string, string>> {
  const dir = path.join(root, 'ImageSets', 'Main');
  const present = async (name: string) => {
    const p = path.join(dir, `${name}.txt`);
    return (await fsp.stat(p).catch(() => undefined))?.isFile() ? realPathWithin(p, root) : undefined;
  };
  const lists: [string, string][] = [];
  for (const s of ['train', 'val', 'test']) {
    const p = await present(s);
    if (p) lists.push([s, p]);
  }
  if (!lists.some(([s]) => s === 'train' || s === 'val')) {
    const p = await present('trainval');
    if (p) lists.unshift(['trainval', p]);
  }
  const out = new Map<string, string>();
  for (const [split, abs] of lists) {
    used.push(abs);
    const rel = relTo(root, abs);
    const lines = (await readText(abs, MAX_SMALL_FILE_BYTES, 'the split list')).split(/\r?\n/);
    lines.forEach((l, i) => {
      const id = l.trim().split(/\s+/)[0];
      if (!id) return;
      const where = { file: rel, line: i + 1 };
      if (!ids.has(id))
        return problems.add('unknown-image', { ...where, problem: `${id} has no annotation and image; ignored` });
      const first = out.get(id);
      if (first === undefined) out.set(id, split);
      else if (first !== split)
        problems.add('duplicate-split', { ...where, problem: `${id} is in ${first} and ${split}; kept in ${first}` });
    });
  }
  return out;
}

/**
 * Registering a dataset: detect its kind, list every sample with its label and split, hash every
 * file, and store the manifest. The manifest holds no absolute paths or times, so registering the
 * same content again yields the same manifest (and the same record).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { Registry } from '../registry/registry';
import { realPathWithin } from '../util/paths';
import { Built, checkCancel, cmp, Entry, hashAll, listDir, RegisterDatasetOptions, sortSplits, ToHash } from './build';
import { buildCoco, buildVoc, buildYolo, looksLikeVoc } from './detection';
import { listNpz, NpyArray, NpzMember, openNpzArray, toNumbers } from './npy';
import { cellNumber, cellText, readTable } from './samples';
import { DatasetFile, DatasetManifest, DatasetRecord, DatasetSample } from './types';

export type { RegisterDatasetOptions } from './build';

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const TABLE_EXT = /\.(csv|jsonl|ndjson)$/i;
const SPLIT_NAMES = new Set(['train', 'val', 'valid', 'validation', 'test', 'dev']);
/** Array name pairs tried in order, in an npz and (with .npy) in a folder. */
const ARRAY_PAIRS: [string, string][] = [
  ['x', 'y'],
  ['inputs', 'labels'],
  ['X', 'Y'],
];

/** Detects what `src` is, builds its manifest, and stores it (see the module comment). */
export async function registerDataset(
  registry: Registry,
  src: string,
  opts: RegisterDatasetOptions = {},
): Promise<DatasetRecord> {
  const abs = path.resolve(src);
  const st = await fsp.stat(await realPathWithin(abs, opts.boundary ?? path.dirname(abs)));
  checkCancel(opts.signal);

  let built: Built;
  if (st.isFile()) built = await fromFile(abs, opts);
  else if (st.isDirectory()) built = await fromFolder(abs, opts);
  else throw new InputError(abs, 'not a file or folder');

  checkCancel(opts.signal);
  const name = opts.name ?? defaultName(abs, st.isFile());
  // Where the root really was, so evaluation can tell when it has since become a link elsewhere.
  const realRoot = await fsp.realpath(built.root);
  return registry.addDataset(name, built.root, built.manifest, { ...built.details, realRoot });
}

/** The folder name or the file name without its extension, with anything outside [A-Za-z0-9._-] replaced. */
export function defaultName(abs: string, isFile: boolean): string {
  const base = path.basename(abs);
  const stem = isFile ? base.replace(/\.[^.]*$/, '') : base;
  const clean = stem
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return clean || 'dataset';
}

async function fromFile(abs: string, opts: RegisterDatasetOptions): Promise<Built> {
  if (/\.json$/i.test(abs)) return buildCoco(abs, opts);
  if (/\.ya?ml$/i.test(abs)) return buildYolo(abs, opts);
  if (TABLE_EXT.test(abs)) return buildTable(abs, opts);
  if (/\.npz$/i.test(abs)) return buildNpz(abs, opts);
  if (/\.npy$/i.test(abs))
    throw new InputError(
      abs,
      'a single .npy holds no labels: register the folder holding inputs.npy and labels.npy (or x.npy and y.npy), or an .npz',
    );
  throw new InputError(
    abs,
    'not a dataset: expected a .csv, .jsonl or .npz file, a COCO .json, a YOLO data.yaml, or a folder (class folders of images, one table file, inputs.npy + labels.npy, a YOLO or Pascal VOC dataset)',
  );
}

async function fromFolder(abs: string, opts: RegisterDatasetOptions): Promise<Built> {
  const top = await listDir(abs, abs);
  const fileNames = new Set(top.filter((e) => e.isFile).map((e) => e.name));
  // Detection layouts first: VOC's folders, or YOLO's images/ and labels/, would otherwise pass for class folders.
  if (looksLikeVoc(new Set(top.filter((e) => e.isDir).map((e) => e.name)))) return buildVoc(abs, opts);
  const yaml = ['data.yaml', 'data.yml'].find((n) => fileNames.has(n));
  if (yaml) return buildYolo(path.join(abs, yaml), opts);
  for (const [x, y] of [
    ['inputs', 'labels'],
    ['x', 'y'],
    ['X', 'Y'],
  ]) {
    if (fileNames.has(`${x}.npy`) && fileNames.has(`${y}.npy`))
      return buildNpyFolder(abs, `${x}.npy`, `${y}.npy`, opts);
  }
  if (top.some((e) => e.isDir)) {
    const images = await buildImageFolder(abs, top, opts);
    if (images) return images;
  }
  const tables = top.filter((e) => e.isFile && TABLE_EXT.test(e.name)).map((e) => e.name);
  if (tables.length === 1) return buildTable(path.join(abs, tables[0]), opts);
  if (tables.length > 1)
    throw new InputError(abs, `holds several table files (${tables.sort().join(', ')}); register one of them`);
  const npz = top.filter((e) => e.isFile && /\.npz$/i.test(e.name)).map((e) => e.name);
  if (npz.length === 1) return buildNpz(path.join(abs, npz[0]), opts);
  if (npz.length > 1)
    throw new InputError(abs, `holds several .npz files (${npz.sort().join(', ')}); register one of them`);
  if (top.some((e) => e.isFile && IMAGE_EXT.test(e.name))) {
    throw new InputError(
      abs,
      'images must be in class folders: <folder>/<class>/<image> (or <folder>/<split>/<class>/<image>)',
    );
  }
  throw new InputError(
    abs,
    'no dataset found: expected class folders of .jpg/.png images, one .csv/.jsonl, an .npz, or inputs.npy + labels.npy',
  );
}

// ---------------------------------------------------------------- image folders

/** Undefined when the folders hold no images (so the caller can try other kinds). */
async function buildImageFolder(root: string, top: Entry[], opts: RegisterDatasetOptions): Promise<Built | undefined> {
  const dirs = top.filter((e) => e.isDir).map((e) => e.name);
  const splitLike = dirs.filter((d) => SPLIT_NAMES.has(d.toLowerCase()));
  let skipped = top.filter((e) => e.isFile).length; // files beside the class (or split) folders belong to no class
  const skippedExamples: string[] = top.filter((e) => e.isFile).map((e) => e.name);

  // [split, class folder relative to root][]
  const groups: [string | null, string, string][] = [];
  if (splitLike.length === dirs.length) {
    for (const split of dirs) {
      const inner = await listDir(path.join(root, split), root);
      for (const e of inner) {
        if (e.isDir) groups.push([split, e.name, `${split}/${e.name}`]);
        else if (e.isFile) {
          skipped++;
          skippedExamples.push(`${split}/${e.name}`);
        }
      }
    }
  } else {
    if (splitLike.length) {
      // e.g. train/ and test/ beside cat/ and dog/: probably a mistake, and guessing would mislabel every image.
      const nested = await Promise.all(
        splitLike.map(async (d) => (await listDir(path.join(root, d), root)).some((e) => e.isDir)),
      );
      if (nested.some(Boolean)) {
        const others = dirs.filter((d) => !SPLIT_NAMES.has(d.toLowerCase()));
        throw new InputError(
          root,
          `folders ${splitLike.join(', ')} look like splits but ${others.join(', ')} do not; put every class folder under a split folder, or use no split folders`,
        );
      }
    }
    for (const d of dirs) groups.push([null, d, d]);
  }

  const samples: { rel: string; split: string | null; cls: string }[] = [];
  const toHash: ToHash[] = [];
  const classSet = new Set<string>();
  const counts = new Map<string, number>();
  for (const [split, cls, rel] of groups) {
    checkCancel(opts.signal);
    classSet.add(cls);
    const found = await walkImages(root, rel);
    skipped += found.skipped.length;
    skippedExamples.push(...found.skipped);
    for (const img of found.images) {
      samples.push({ rel: img.rel, split, cls });
      toHash.push(img);
    }
    counts.set(cls, (counts.get(cls) ?? 0) + found.images.length);
  }
  if (!samples.length) return undefined;

  const classes = [...classSet].sort(cmp);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const files = await hashAll(toHash, opts);
  samples.sort((a, b) => cmp(a.rel, b.rel));
  const manifest: DatasetManifest = {
    format: 'modelreg-dataset',
    formatVersion: 1,
    kind: 'image-folder',
    classes,
    splits: sortSplits(samples.flatMap((s) => (s.split === null ? [] : [s.split]))),
    samples: samples.map((s) => ({ id: s.rel, file: s.rel, label: classIndex.get(s.cls)!, split: s.split })),
    files,
  };
  return {
    root,
    manifest,
    details: {
      skipped,
      ...(skippedExamples.length ? { skippedExamples: skippedExamples.sort(cmp).slice(0, 20) } : {}),
      ...(classes.some((c) => !counts.get(c)) ? { emptyClasses: classes.filter((c) => !counts.get(c)) } : {}),
    },
  };
}

/** Images anywhere under root/rel (ImageFolder also walks subfolders); other files are skipped. */
async function walkImages(root: string, rel: string): Promise<{ images: ToHash[]; skipped: string[] }> {
  const images: ToHash[] = [];
  const skipped: string[] = [];
  const walk = async (relDir: string): Promise<void> => {
    for (const e of await listDir(path.join(root, relDir), root)) {
      const r = `${relDir}/${e.name}`;
      if (e.isDir) await walk(r);
      else if (e.isFile && IMAGE_EXT.test(e.name)) {
        const abs = path.join(root, r);
        images.push({ abs, rel: r, size: (await fsp.stat(abs)).size });
      } else if (e.isFile) skipped.push(r);
    }
  };
  await walk(rel);
  return { images, skipped };
}

// ---------------------------------------------------------------- tables

async function buildTable(file: string, opts: RegisterDatasetOptions): Promise<Built> {
  const base = path.basename(file);
  const st = await fsp.stat(file);
  const files = await hashAll([{ abs: file, rel: base, size: st.size }], opts);
  checkCancel(opts.signal);
  const table = await readTable(file);
  const { columns, rows, lines } = table;
  if (!rows.length) throw new InputError(file, 'no data rows');
  const listed = columns.map((c) => `"${c}"`).join(', ');
  const col = (name: string, what: string) => {
    const i = columns.indexOf(name);
    if (i === -1) throw new InputError(file, `no ${what} column "${name}" (columns: ${listed})`);
    return i;
  };

  const labelColumn = opts.labelColumn ?? 'label';
  const labelIdx = col(labelColumn, 'label');
  const splitColumn = opts.splitColumn ?? (columns.includes('split') ? 'split' : undefined);
  const splitIdx = splitColumn !== undefined ? col(splitColumn, 'split') : -1;
  const textIdx = opts.textColumn !== undefined ? col(opts.textColumn, 'text') : -1;

  const labels = rows.map((r, i) => {
    const v = cellText(r[labelIdx]);
    if (v === '') throw new InputError(file, `line ${lines[i]}: no value in the label column "${labelColumn}"`);
    return v;
  });

  // A feature column is one whose every value is a number; the rest are listed in details, not guessed at.
  const featureColumns: string[] = [];
  const ignoredColumns: string[] = [];
  columns.forEach((c, i) => {
    if (i === labelIdx || i === splitIdx || i === textIdx) return;
    if (rows.length && rows.every((r) => cellNumber(r[i]) !== undefined)) featureColumns.push(c);
    else ignoredColumns.push(c);
  });

  const { classes, index } = tableClasses(labels);
  const splitOf = (r: unknown[]) => {
    if (splitIdx === -1) return null;
    const s = cellText(r[splitIdx]);
    return s === '' ? null : s;
  };
  const samples: DatasetSample[] = rows.map((r, row) => ({
    id: `${base}#${row}`,
    file: base,
    row,
    label: index(labels[row]),
    split: splitOf(r),
  }));

  const manifest: DatasetManifest = {
    format: 'modelreg-dataset',
    formatVersion: 1,
    kind: 'table',
    classes,
    splits: sortSplits(samples.flatMap((s) => (s.split === null ? [] : [s.split]))),
    samples,
    files,
    table: {
      labelColumn,
      featureColumns,
      ...(opts.textColumn !== undefined ? { textColumn: opts.textColumn } : {}),
      ...(splitColumn !== undefined ? { splitColumn } : {}),
    },
  };
  return {
    root: file,
    manifest,
    details: { skipped: 0, rows: rows.length, ...(ignoredColumns.length ? { ignoredColumns } : {}) },
  };
}

/**
 * Class names from label values: when they are exactly the integers 0..n-1 the classes are
 * '0'..'n-1' in numeric order (so index = label, as the model was trained); otherwise sorted strings.
 */
function tableClasses(labels: string[]): { classes: string[]; index: (label: string) => number } {
  const distinct = [...new Set(labels)];
  const nums = distinct.map((l) => cellNumber(l));
  const ints = nums.every((n) => n !== undefined && Number.isInteger(n) && n >= 0);
  if (ints && new Set(nums).size === distinct.length) {
    const set = new Set(nums as number[]);
    const n = set.size;
    if ([...set].every((v) => v < n)) {
      return { classes: Array.from({ length: n }, (_, i) => String(i)), index: (l) => cellNumber(l)! };
    }
  }
  const classes = distinct.sort(cmp);
  const map = new Map(classes.map((c, i) => [c, i]));
  return { classes, index: (l) => map.get(l)! };
}

// ---------------------------------------------------------------- arrays

async function buildNpyFolder(
  root: string,
  inputsName: string,
  labelsName: string,
  opts: RegisterDatasetOptions,
): Promise<Built> {
  const inputsAbs = path.join(root, inputsName);
  const labelsAbs = path.join(root, labelsName);
  const files = await hashAll(
    await Promise.all(
      [inputsName, labelsName].map(async (rel) => ({
        abs: path.join(root, rel),
        rel,
        size: (await fsp.stat(path.join(root, rel))).size,
      })),
    ),
    opts,
  );
  checkCancel(opts.signal);
  const inputs = await NpyArray.openFile(inputsAbs);
  try {
    const labels = await NpyArray.openFile(labelsAbs);
    try {
      return {
        root,
        manifest: await arraysManifest(inputs, labels, inputsName, labelsName, inputsName, files),
        details: { skipped: 0 },
      };
    } finally {
      await labels.close();
    }
  } finally {
    await inputs.close();
  }
}

async function buildNpz(file: string, opts: RegisterDatasetOptions): Promise<Built> {
  const base = path.basename(file);
  const files = await hashAll([{ abs: file, rel: base, size: (await fsp.stat(file)).size }], opts);
  checkCancel(opts.signal);
  const members: NpzMember[] = await listNpz(file);
  const names = new Set(members.map((m) => m.name));
  const pair = ARRAY_PAIRS.find(([x, y]) => names.has(x) && names.has(y));
  if (!pair) {
    throw new InputError(
      file,
      `no inputs/labels pair: expected arrays named x and y, inputs and labels, or X and Y (arrays: ${[...names].join(', ') || 'none'})`,
    );
  }
  const inputs = await openNpzArray(file, pair[0], members);
  try {
    const labels = await openNpzArray(file, pair[1], members);
    try {
      const compressed = members.some((m) => pair.includes(m.name) && m.entry.compressionMethod !== 0);
      return {
        root: file,
        manifest: await arraysManifest(inputs, labels, pair[0], pair[1], base, files),
        details: { skipped: 0, ...(compressed ? { compressed } : {}) },
      };
    } finally {
      await labels.close();
    }
  } finally {
    await inputs.close();
  }
}

const LABEL_CHUNK_ROWS = 1 << 20;

async function arraysManifest(
  inputs: NpyArray,
  labels: NpyArray,
  inputsName: string,
  labelsName: string,
  sampleFile: string,
  files: DatasetFile[],
): Promise<DatasetManifest> {
  const ls = labels.header.shape;
  if (!labels.header.dtype.integer) {
    throw new InputError(
      labels.where,
      `labels must be integer class indices, not ${labels.header.dtype.name}; convert with y.astype('int64')`,
    );
  }
  if (ls.length === 0 || ls.length > 2 || (ls.length === 2 && ls[1] !== 1)) {
    const hint = ls.length === 2 ? ' (one-hot? save y.argmax(1))' : '';
    throw new InputError(labels.where, `labels must have shape (N,), not (${ls.join(', ')})${hint}`);
  }
  if (inputs.header.shape.length === 0)
    throw new InputError(inputs.where, 'inputs must have at least one dimension (samples along axis 0)');
  if (inputs.rows !== labels.rows)
    throw new InputError(inputs.where, `${inputs.rows} input rows but ${labels.rows} labels`);

  const values: number[] = [];
  for (let start = 0; start < labels.rows; start += LABEL_CHUNK_ROWS) {
    const count = Math.min(LABEL_CHUNK_ROWS, labels.rows - start);
    for (const v of toNumbers(await labels.readRows(start, count), labels.header.dtype)) values.push(v);
  }
  let max = -1;
  values.forEach((v, i) => {
    if (v < 0)
      throw new InputError(labels.where, `label ${v} at row ${i} is negative; labels must be class indices 0..n-1`);
    if (v > max) max = v;
  });
  if (max >= 1e6) throw new InputError(labels.where, `label ${max} is too large for a class index`);

  return {
    format: 'modelreg-dataset',
    formatVersion: 1,
    kind: 'arrays',
    classes: Array.from({ length: max + 1 }, (_, i) => String(i)),
    splits: [],
    samples: values.map((label, row) => ({ id: `${sampleFile}#${row}`, file: sampleFile, row, label, split: null })),
    files,
    arrays: { inputs: inputsName, labels: labelsName, shape: inputs.rowShape, dtype: inputs.header.dtype.name },
  };
}

/**
 * Before an evaluation: the dataset on disk must still be the one its manifest describes, or the
 * evaluation would name data it did not run on.
 */
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { CancelledError, InputError } from '../errors';
import { hashFile } from '../store/localStore';
import { realPathWithin } from '../util/paths';
import { DatasetFile, DatasetManifest, DatasetRecord, DatasetSample } from './types';

const HASH_CONCURRENCY = 8;
const SMALL = 4 << 20;

/**
 * The dataset's real root (folder, or the file of a table/npz dataset). A root that has become a
 * link since registration is refused, naming the link and its target: it may not lead out of the
 * folder holding it, nor anywhere but where the root was when it was registered.
 */
export async function realDatasetRoot(d: DatasetRecord): Promise<string> {
  // Datasets registered before realRoot was recorded: at least not out of the folder holding the root.
  const registered = typeof d.details.realRoot === 'string' ? d.details.realRoot : undefined;
  const real = await realPathWithin(d.root, registered ?? path.dirname(d.root));
  if (registered !== undefined && real !== registered) {
    const link = (await fsp.lstat(d.root)).isSymbolicLink();
    throw new InputError(
      d.root,
      `${link ? 'is a link' : 'now leads'} to ${real}, not ${registered} where dataset ${d.name} was registered; refusing to read it (register it again if you mean it)`,
    );
  }
  return real;
}

/**
 * Checks the files `samples` come from against the manifest: every size first (a stat each), then
 * every SHA-256. Up front rather than while reading: arrays are read a row at a time and images on
 * worker threads, and a refusal must come before anything is stored.
 */
export async function checkDatasetFiles(
  d: DatasetRecord,
  m: DatasetManifest,
  root: string,
  samples: DatasetSample[],
  signal?: AbortSignal,
): Promise<void> {
  const used = new Set(samples.map((s) => s.file));
  const rootIsFile = (await fsp.stat(root)).isFile();
  const files = filesToCheck(m, used);
  // A COCO file's images are under details.imagesDir; every other file of a file-rooted dataset is the root.
  const imagesDir = m.kind === 'detection' ? detectionImagesDir(d, root) : root;
  const sampleFiles = m.kind === 'detection' && rootIsFile ? new Set(m.samples.map((s) => s.file)) : undefined;
  const under = (f: DatasetFile) => (sampleFiles?.has(f.path) ? imagesDir : rootIsFile ? undefined : root);
  const abs = (f: DatasetFile) => {
    const dir = under(f);
    return dir === undefined ? root : path.join(dir, ...f.path.split('/'));
  };
  const changed = (f: DatasetFile, what: string) =>
    new InputError(abs(f), `changed since dataset ${d.name} was registered (${what}); register it again`);
  const realImagesDir = imagesDir === root ? root : await fsp.realpath(imagesDir).catch(() => imagesDir);

  const real = await Promise.all(
    files.map(async (f) => {
      const dir = under(f);
      // root is real already: one realpath a file (realPathWithin would resolve the root each time).
      const p = dir === undefined ? root : await realPathWithin(abs(f), dir, dir === root ? root : realImagesDir);
      const st = await fsp.stat(p).catch(() => undefined);
      if (!st?.isFile()) throw changed(f, st ? 'no longer a file' : 'it is gone');
      if (st.size !== f.size) throw changed(f, `${st.size} bytes, registered with ${f.size}`);
      return p;
    }),
  );
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      if (signal?.aborted) throw new CancelledError();
      // Most samples are small: one read beats a stream's set-up.
      const sha256 =
        files[i].size <= SMALL
          ? createHash('sha256')
              .update(await fsp.readFile(real[i], { signal }))
              .digest('hex')
          : (await hashFile(real[i], { signal })).sha256;
      if (sha256 !== files[i].sha256) throw changed(files[i], `sha256 ${sha256}, registered ${files[i].sha256}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, files.length) }, worker));
}

/**
 * Which files an evaluation of `used` depends on: an image folder's images of those samples; a
 * detection dataset's images of those samples and every annotation file; all files otherwise (a
 * table or npz is one file, a folder of .npy holds the inputs and the labels read at registration).
 */
function filesToCheck(m: DatasetManifest, used: Set<string>): DatasetFile[] {
  if (m.kind === 'image-folder') return m.files.filter((f) => used.has(f.path));
  if (m.kind === 'detection') {
    const images = new Set(m.samples.map((s) => s.file));
    return m.files.filter((f) => used.has(f.path) || !images.has(f.path));
  }
  return m.files;
}

/**
 * The folder a detection dataset's sample files are relative to: a COCO file's images folder
 * (details.imagesDir), else the root (YOLO and VOC). A COCO file registered without images has no
 * images folder: the root (the JSON) is returned, and the manifest lists no image files.
 */
export function detectionImagesDir(d: DatasetRecord, root = d.root): string {
  if (typeof d.details.imagesDir === 'string') return d.details.imagesDir;
  return root;
}

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
  // A table or npz dataset is its one file; a folder of .npy holds the inputs and the labels read at registration.
  const files = m.kind === 'image-folder' ? m.files.filter((f) => used.has(f.path)) : m.files;
  const abs = (f: DatasetFile) => (rootIsFile ? root : path.join(root, ...f.path.split('/')));
  const changed = (f: DatasetFile, what: string) =>
    new InputError(abs(f), `changed since dataset ${d.name} was registered (${what}); register it again`);

  const real = await Promise.all(
    files.map(async (f) => {
      // root is real already: one realpath a file (realPathWithin would resolve the root each time).
      const p = rootIsFile ? root : await realPathWithin(abs(f), root, root);
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

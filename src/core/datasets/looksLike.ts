/**
 * Whether an output with no weights has a dataset's shape, told from its file list (and at most a
 * table's first line), so an import can offer "register as a dataset" instead of a weightless model.
 */
import { promises as fsp } from 'fs';
import { WalkedFile } from '../util/walk';

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const TABLE_EXT = /\.(csv|jsonl|ndjson)$/i;
const HEADER_BYTES = 64 << 10;

/** The shapes registerDataset knows: mostly images in class folders, inputs+labels arrays, or a table with a label column. */
export async function looksLikeDataset(files: WalkedFile[]): Promise<boolean> {
  const names = new Set(files.map((f) => f.rel));
  if (['inputs', 'x', 'X'].some((x, i) => names.has(`${x}.npy`) && names.has(`${['labels', 'y', 'Y'][i]}.npy`)))
    return true;
  const inClassFolders = files.filter((f) => IMAGE_EXT.test(f.rel) && f.rel.includes('/')).length;
  if (inClassFolders > 0 && inClassFolders >= 0.8 * files.length) return true;
  const tables = files.filter((f) => TABLE_EXT.test(f.rel) && !f.rel.includes('/'));
  for (const t of tables) if (await hasLabelColumn(t.abs)) return true;
  return false;
}

/** A CSV whose header has a "label" column, or a JSONL whose first record has a "label" key. */
async function hasLabelColumn(file: string): Promise<boolean> {
  const handle = await fsp.open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    const first = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .split(/\r?\n/)[0]
      .replace(/^\uFEFF/, '');
    if (/\.csv$/i.test(file)) return first.split(',').some((c) => c.trim().replace(/^"(.*)"$/, '$1') === 'label');
    try {
      const rec = JSON.parse(first) as unknown;
      return !!rec && typeof rec === 'object' && !Array.isArray(rec) && 'label' in rec;
    } catch {
      return false;
    }
  } finally {
    await handle.close();
  }
}

/**
 * PyTorch checkpoints (.pt/.pth/.bin/.ckpt). torch.save writes a zip holding `<prefix>/data.pkl`
 * and one member per storage under `<prefix>/data/`; before torch 1.6 it wrote a bare pickle
 * stream starting with a magic number. Nothing is unpickled: pickles can run code. The pickle's
 * opcodes are scanned (never run) to count tensor elements and to say which globals torch.load
 * would call beyond tensors and containers (a hostile file names posix.system).
 */
import * as path from 'path';
import { InputError } from '../../errors';
import { scanPickle, type PickleScan } from './pickleReader';
import type { WeightInfo } from '../types';
import { countTorchTensors, loadWarning, PICKLE_SCAN_LIMIT } from './pickled';
import { readAt, withFile } from './read';
import { openZip } from './zip';

/** The legacy torch.save magic 0x1950a86a20f9469cfc6c, pickled as LONG1 (0x8a) with 10 little-endian bytes. */
const LEGACY_MAGIC = Buffer.from([0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/**
 * Returns undefined when the file is not a torch checkpoint and its name does not promise one
 * (a generic `.bin`); otherwise throws InputError for anything unreadable.
 */
export async function readPytorch(file: string): Promise<WeightInfo | undefined> {
  const name = path.basename(file).toLowerCase();
  const mustBeTorch = !name.endsWith('.bin') || name.startsWith('pytorch_model');
  const head = await withFile(file, (fh) => readAt(fh, 0, 16));
  if (head.length === 0) {
    if (mustBeTorch) throw new InputError(file, 'empty file');
    return undefined;
  }
  if (
    head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')) ||
    head.subarray(0, 4).equals(Buffer.from('PK\x05\x06', 'latin1'))
  ) {
    return readTorchZip(file, mustBeTorch);
  }
  // A pickle starts with PROTO (0x80) and a protocol number.
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    const torchMagic = head.subarray(2, 2 + LEGACY_MAGIC.length).equals(LEGACY_MAGIC);
    const info: WeightInfo = {
      format: 'pytorch',
      framework: 'torch',
      details: { legacy: true, pickleProtocol: head[1], torchMagic },
    };
    return describePickle(file, info, await readLegacyPickles(file, torchMagic), false);
  }
  if (mustBeTorch) throw new InputError(file, 'not a PyTorch checkpoint: neither a zip archive nor a pickle');
  return undefined;
}

async function readTorchZip(file: string, mustBeTorch: boolean): Promise<WeightInfo | undefined> {
  const zip = await openZip(file);
  try {
    // torch names the folder after the archive ("archive" or the file's stem), one level deep.
    const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.fileName));
    if (!pkl) {
      if (mustBeTorch) throw new InputError(file, 'zip archive without <prefix>/data.pkl, not a PyTorch checkpoint');
      return undefined;
    }
    const prefix = pkl.fileName.slice(0, -'/data.pkl'.length);
    let storageCount = 0;
    let storageBytes = 0;
    let torchscript = false;
    for (const e of zip.entries) {
      if (e.fileName.startsWith(`${prefix}/data/`) && !e.fileName.endsWith('/')) {
        storageCount++;
        storageBytes += e.uncompressedSize;
      }
      if (e.fileName === `${prefix}/constants.pkl` || e.fileName.startsWith(`${prefix}/code/`)) torchscript = true;
    }
    const text = async (member: string) => (await zip.read(`${prefix}/${member}`, 4096))?.toString('utf8').trim();
    const details: Record<string, unknown> = {
      archivePrefix: prefix,
      storageCount,
      storageBytes,
      pickleBytes: pkl.uncompressedSize,
    };
    const version = (await text('version')) ?? (await text('.data/version'));
    if (version !== undefined) details.version = /^\d+$/.test(version) ? Number(version) : version;
    const byteorder = await text('byteorder');
    if (byteorder !== undefined) details.byteorder = byteorder;
    if (torchscript) details.torchscript = true;
    const info: WeightInfo = { format: 'pytorch', framework: 'torch', details };
    let scan: PickleScan | string;
    if (pkl.uncompressedSize > PICKLE_SCAN_LIMIT)
      scan = `data.pkl is ${pkl.uncompressedSize} bytes, more than the ${PICKLE_SCAN_LIMIT} scanned`;
    else {
      const bytes = (await zip.read(pkl.fileName, PICKLE_SCAN_LIMIT))!;
      scan = scanOrProblem(() => scanPickle(bytes, file));
    }
    return describePickle(file, info, scan, torchscript);
  } finally {
    zip.close();
  }
}

/** A scan, or why there is none (a malformed pickle is not refused at import: torch may still read it). */
function scanOrProblem(fn: () => PickleScan): PickleScan | string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) return e.problem;
    throw e;
  }
}

/**
 * A pre-1.6 torch.save stream is several pickles in a row (magic number, protocol version,
 * sys_info, the object, its storage keys) followed by raw storage bytes; a bare pickle.dump is one.
 * The object's pickle is the 4th, or the 1st; every pickle before it is scanned too.
 */
async function readLegacyPickles(file: string, torchMagic: boolean): Promise<PickleScan | string> {
  const data = await withFile(file, (fh, size) => readAt(fh, 0, Math.min(size, PICKLE_SCAN_LIMIT)));
  return scanOrProblem(() => {
    let at = 0;
    const seen: PickleScan[] = [];
    for (let i = 0; i < (torchMagic ? 5 : 1) && at < data.length; i++) {
      const s = scanPickle(data, file, at);
      seen.push(s);
      at = s.end;
    }
    const main = seen[torchMagic ? 3 : 0] ?? seen[seen.length - 1];
    const all = (f: (s: PickleScan) => string[]) => [...new Set(seen.flatMap(f))];
    return { ...main, globals: all((s) => s.globals), unsafeGlobals: all((s) => s.unsafeGlobals) };
  });
}

/** Adds what the scan found: tensor counts, the globals torch.load would call, or why it could not tell. */
function describePickle(file: string, info: WeightInfo, scan: PickleScan | string, torchscript: boolean): WeightInfo {
  const warnings: string[] = [];
  if (typeof scan === 'string') {
    info.details.pickleProblem = scan;
    warnings.push(`the pickle could not be scanned (${scan}); loading this file with torch.load may run code`);
  } else {
    Object.assign(info, countTorchTensors(file, scan));
    // TorchScript archives name their own classes (__torch__.*), resolved from the archive's code, not Python.
    const unsafe = torchscript ? scan.unsafeGlobals.filter((g) => !/^(__torch__|torch)\./.test(g)) : scan.unsafeGlobals;
    if (unsafe.length) info.details.unsafeGlobals = unsafe.slice(0, 100);
    const w = loadWarning('torch.load', unsafe);
    if (w) warnings.push(w);
  }
  if (warnings.length) info.details.warnings = warnings;
  return info;
}

/**
 * PyTorch checkpoints (.pt/.pth/.bin/.ckpt). torch.save writes a zip holding `<prefix>/data.pkl`
 * and one member per storage under `<prefix>/data/`; before torch 1.6 it wrote a bare pickle
 * stream starting with a magic number. Nothing is unpickled: pickles can run code.
 */
import * as path from 'path';
import { InputError } from '../../errors';
import type { WeightInfo } from '../types';
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
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')) || head.subarray(0, 4).equals(Buffer.from('PK\x05\x06', 'latin1'))) {
    return readTorchZip(file, mustBeTorch);
  }
  // A pickle starts with PROTO (0x80) and a protocol number.
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    const torchMagic = head.subarray(2, 2 + LEGACY_MAGIC.length).equals(LEGACY_MAGIC);
    return { format: 'pytorch', framework: 'torch', details: { legacy: true, pickleProtocol: head[1], torchMagic } };
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
    const details: Record<string, unknown> = { archivePrefix: prefix, storageCount, storageBytes, pickleBytes: pkl.uncompressedSize };
    const version = (await text('version')) ?? (await text('.data/version'));
    if (version !== undefined) details.version = /^\d+$/.test(version) ? Number(version) : version;
    const byteorder = await text('byteorder');
    if (byteorder !== undefined) details.byteorder = byteorder;
    if (torchscript) details.torchscript = true;
    return { format: 'pytorch', framework: 'torch', details };
  } finally {
    zip.close();
  }
}

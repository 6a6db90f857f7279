/**
 * torch.save zip checkpoint → safetensors. The pickle is read with the restricted reader in
 * ./pickle (nothing from the file is executed), the state_dict is found in it, and each tensor's
 * bytes are streamed from its storage member straight into the output, one tensor at a time, so a
 * multi-GB checkpoint never sits in memory. Views are resolved: the storage offset is honoured,
 * non-contiguous tensors are gathered into row-major order, and tensors sharing a storage each get
 * their own copy (safetensors has no aliasing). Big-endian checkpoints (byteorder "big") are
 * byte-swapped to safetensors' little-endian.
 */
import { createHash } from 'crypto';
import { type FileHandle, open, stat, unlink } from 'fs/promises';
import * as path from 'path';
import type { Readable } from 'stream';
import * as yauzl from 'yauzl';
import { CancelledError, InputError } from '../errors';
import { errText, product, readAt, withFile } from '../inspect/weights/read';
import { isTorchTensor, safeUnpickle, type TorchTensor } from '../inspect/weights/pickleReader';
import type { ConvertOptions, FileConverter } from './types';

const ELEMENT_BYTES: Record<string, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** data.pkl only describes tensors (~200 bytes each); anything near this is not a checkpoint. */
const PICKLE_LIMIT = 512 * 1024 * 1024;
/** Where a Lightning / training-loop checkpoint keeps the model's state_dict. */
const NESTED_KEYS = ['state_dict', 'model', 'module'];
const VERIFY_CHUNK = 16 * 1024 * 1024;

interface Archive {
  zip: yauzl.ZipFile;
  entries: Map<string, yauzl.Entry>;
}

interface Planned {
  name: string;
  tensor: TorchTensor;
  member: yauzl.Entry;
  /** Bytes per element. */
  width: number;
  /** Byte range of the storage member that holds every element of the view. */
  spanStart: number;
  spanEnd: number;
  contiguous: boolean;
  /** Byte range in the safetensors data section. */
  begin: number;
  end: number;
  sha256?: string;
}

export const torchToSafetensors: FileConverter = {
  id: 'safetensors',
  title: 'PyTorch → safetensors',
  description: 'Rewrites torch.save state_dict checkpoints as safetensors, which load without running code.',
  targetFormat: 'safetensors',
  params: [],
  // The zip magic is checked in convert(): a .bin may be anything, and convert says so by name.
  accepts: (file) => /\.(pt|pth|bin|ckpt)$/i.test(file.path),
  // Only files import read as torch checkpoints: a TF.js shard or tokenizer is named .bin too.
  inputFormat: 'pytorch',
  outputPath: (p) => p.replace(/\.[^./\\]*$/, '') + '.safetensors',
  convert: convertTorch,
};

async function convertTorch(src: string, dest: string, opts: ConvertOptions): Promise<Record<string, unknown>> {
  checkAbort(opts);
  // The version's file (resnet@v2:model.pt) when converting a stored version; src is then an object path.
  const name = opts.name ?? path.basename(src);
  const head = await withFile(src, (fh) => readAt(fh, 0, 4));
  if (head[0] === 0x80)
    throw new InputError(
      src,
      'a legacy (pre-1.6) torch.save pickle stream, not a zip checkpoint; re-save it with a recent torch to convert it',
    );
  if (!head.equals(Buffer.from('PK\x03\x04', 'latin1')) && !head.equals(Buffer.from('PK\x05\x06', 'latin1'))) {
    throw new InputError(src, 'not a PyTorch zip checkpoint (no zip signature)');
  }
  const archive = await openArchive(src);
  let created = false;
  try {
    const pkl = [...archive.entries.values()].find((e) => /^[^/]+\/data\.pkl$/.test(e.fileName));
    if (!pkl) throw new InputError(src, 'zip archive without <prefix>/data.pkl, not a PyTorch checkpoint');
    const prefix = pkl.fileName.slice(0, -'/data.pkl'.length);
    if (pkl.uncompressedSize > PICKLE_LIMIT)
      throw new InputError(src, `data.pkl is ${pkl.uncompressedSize} bytes, too big for a state_dict description`);

    // torch writes "little"/"big"; older versions wrote nothing and meant little-endian.
    const byteorderEntry = archive.entries.get(`${prefix}/byteorder`);
    const byteorder = byteorderEntry
      ? (await readWhole(src, archive, byteorderEntry, opts)).toString('utf8').trim()
      : 'little';
    if (byteorder !== 'little' && byteorder !== 'big') throw new InputError(src, `unknown byteorder "${byteorder}"`);
    if (byteorder === 'big') opts.log?.(`${name}: big-endian storages, byte-swapping to little-endian`);

    const root = safeUnpickle(await readWhole(src, archive, pkl, opts), src);
    const { dict, where } = findStateDict(root, src);
    const plan = planTensors(src, name, archive, prefix, dict, opts);
    opts.log?.(`${name}: ${plan.length} tensors from ${where}`);

    const header = safetensorsHeader(plan, name);
    checkAbort(opts);
    const out = await open(dest, 'wx');
    created = true;
    try {
      await writeAll(out, header);
      for (const t of plan) {
        checkAbort(opts);
        await copyTensor(src, archive, t, byteorder === 'big', out, opts);
      }
    } finally {
      await out.close();
    }
    await verify(dest, name, plan, opts);

    const dtypes: Record<string, number> = {};
    for (const t of plan) dtypes[t.tensor.dtype] = (dtypes[t.tensor.dtype] ?? 0) + 1;
    return { tensors: plan.length, bytesBefore: (await stat(src)).size, bytesAfter: (await stat(dest)).size, dtypes };
  } catch (e) {
    // No half-written file is left for a caller to mistake for a result.
    if (created) await unlink(dest).catch(() => undefined);
    throw e;
  } finally {
    archive.zip.close();
  }
}

function checkAbort(opts: ConvertOptions): void {
  if (opts.signal?.aborted) throw new CancelledError();
}

/** The state_dict: the top-level dict if it holds tensors, else the one under state_dict/model/module. */
function findStateDict(root: unknown, src: string): { dict: Map<unknown, unknown>; where: string } {
  if (isTorchTensor(root))
    throw new InputError(
      src,
      'the checkpoint is a single tensor, not a state_dict; only dicts of tensors can be converted',
    );
  if (!(root instanceof Map))
    throw new InputError(
      src,
      'the checkpoint is not a dict, so it is not a state_dict; only dicts of tensors can be converted',
    );
  const hasTensors = (m: Map<unknown, unknown>) => [...m.values()].some(isTorchTensor);
  if (hasTensors(root)) return { dict: root, where: 'the top level' };
  for (const key of NESTED_KEYS) {
    const v = root.get(key);
    if (v instanceof Map && hasTensors(v)) return { dict: v, where: `"${key}"` };
  }
  throw new InputError(
    src,
    `no tensors found: expected a state_dict, i.e. a dict of tensors at the top level or under ${NESTED_KEYS.map((k) => `"${k}"`).join('/')}`,
  );
}

/** Checks every tensor against its storage member and lays out the output, sorted by name. */
function planTensors(
  src: string,
  label: string,
  archive: Archive,
  prefix: string,
  dict: Map<unknown, unknown>,
  opts: ConvertOptions,
): Planned[] {
  const skipped: string[] = [];
  const found: [string, TorchTensor][] = [];
  for (const [k, v] of dict) {
    if (typeof k === 'string' && isTorchTensor(v)) found.push([k, v]);
    else skipped.push(String(k));
  }
  if (skipped.length)
    opts.log?.(
      `${label}: skipped ${skipped.length} entries that are not tensors: ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', …' : ''}`,
    );
  found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const plan: Planned[] = [];
  let at = 0;
  for (const [name, tensor] of found) {
    if (name === '__metadata__')
      throw new InputError(src, 'a tensor is named "__metadata__", which safetensors reserves');
    const width = ELEMENT_BYTES[tensor.dtype];
    const memberName = `${prefix}/data/${tensor.storageKey}`;
    const member = archive.entries.get(memberName);
    if (!member)
      throw new InputError(
        src,
        `tensor "${name}" uses storage ${tensor.storageKey}, but the archive has no ${memberName}`,
      );
    const numel = product(tensor.shape);
    // Highest element index the view touches (strides are never negative in torch).
    const last = tensor.offset + tensor.shape.reduce((s, d, i) => s + (d - 1) * tensor.stride[i], 0);
    const spanStart = tensor.offset * width;
    const spanEnd = numel === 0 ? spanStart : (last + 1) * width;
    if (!Number.isSafeInteger(numel * width) || !Number.isSafeInteger(spanEnd))
      throw new InputError(src, `tensor "${name}" has an impossible size`);
    if (numel > 0 && spanEnd > member.uncompressedSize) {
      throw new InputError(
        src,
        `tensor "${name}" needs bytes ${spanStart}–${spanEnd} of storage ${tensor.storageKey}, which has only ${member.uncompressedSize}`,
      );
    }
    plan.push({
      name,
      tensor,
      member,
      width,
      spanStart,
      spanEnd,
      contiguous: isContiguous(tensor.shape, tensor.stride),
      begin: at,
      end: at + numel * width,
    });
    at += numel * width;
  }
  return plan;
}

/** Row-major with no gaps; a dimension of size 1 may have any stride (torch's rule too). */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) return false;
    expect *= shape[i];
  }
  return true;
}

/** 8-byte little-endian length, then the JSON header padded with spaces to a multiple of 8; `source` names the input. */
function safetensorsHeader(plan: Planned[], source: string): Buffer {
  // No prototype, so a tensor named "__proto__" is an ordinary key.
  const header: Record<string, unknown> = Object.create(null);
  header.__metadata__ = { format: 'pt', source };
  for (const t of plan)
    header[t.name] = { dtype: t.tensor.dtype, shape: t.tensor.shape, data_offsets: [t.begin, t.end] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json, 'utf8')]);
}

/** Appends one tensor's bytes to `out`, hashing them for the read-back check. */
async function copyTensor(
  src: string,
  archive: Archive,
  t: Planned,
  swap: boolean,
  out: FileHandle,
  opts: ConvertOptions,
): Promise<void> {
  const hash = createHash('sha256');
  const emit = async (b: Buffer) => {
    hash.update(b);
    await writeAll(out, b);
  };
  if (t.end === t.begin) {
    // empty tensor: nothing to copy
  } else if (t.contiguous) {
    // Streamed: the tensor is exactly spanStart..spanEnd of its storage.
    const order = swap ? swapper(t.width) : (b: Buffer) => b;
    await readRange(src, archive, t.member, t.spanStart, t.spanEnd, opts, (chunk) => emit(order(chunk)));
  } else {
    // A strided view is gathered in memory; its span is at most its storage.
    const parts: Buffer[] = [];
    await readRange(src, archive, t.member, t.spanStart, t.spanEnd, opts, (chunk) => {
      parts.push(Buffer.from(chunk));
    });
    const data = gather(Buffer.concat(parts), t.tensor.shape, t.tensor.stride, t.width);
    if (swap) swapInPlace(data, t.width);
    await emit(data);
  }
  t.sha256 = hash.digest('hex');
}

/** Copies the elements of a strided view (span starts at its first element) into row-major order. */
function gather(span: Buffer, shape: number[], stride: number[], w: number): Buffer {
  const out = Buffer.alloc(product(shape) * w);
  const nd = shape.length;
  if (nd === 0) {
    span.copy(out, 0, 0, w);
    return out;
  }
  const inner = shape[nd - 1];
  const innerStride = stride[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  const rows = out.length / w / inner;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    let base = 0;
    for (let d = 0; d < nd - 1; d++) base += idx[d] * stride[d];
    if (innerStride === 1) {
      span.copy(out, o, base * w, (base + inner) * w);
      o += inner * w;
    } else {
      for (let j = 0; j < inner; j++) {
        const s = (base + j * innerStride) * w;
        for (let b = 0; b < w; b++) out[o++] = span[s + b];
      }
    }
    for (let d = nd - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function swapInPlace(b: Buffer, w: number): void {
  if (w === 2) b.swap16();
  else if (w === 4) b.swap32();
  else if (w === 8) b.swap64();
}

/** Byte-swaps a stream of chunks whose boundaries may split elements. */
function swapper(w: number): (chunk: Buffer) => Buffer {
  let carry = Buffer.alloc(0);
  return (chunk) => {
    const all = Buffer.concat([carry, chunk]); // a copy: the stream's buffer is left alone
    const n = all.length - (all.length % w);
    carry = all.subarray(n);
    const body = all.subarray(0, n);
    swapInPlace(body, w);
    return body;
  };
}

async function writeAll(fh: FileHandle, b: Buffer): Promise<void> {
  let done = 0;
  while (done < b.length) done += (await fh.write(b, done, b.length - done)).bytesWritten;
}

/** Re-reads the written file: header as planned, file size exact, each tensor's bytes by SHA-256. */
async function verify(dest: string, name: string, plan: Planned[], opts: ConvertOptions): Promise<void> {
  const fail = (what: string) => new Error(`${name}: verification of the safetensors written from it failed: ${what}`);
  await withFile(dest, async (fh, size) => {
    const len = Number((await readAt(fh, 0, 8)).readBigUInt64LE());
    const header = JSON.parse((await readAt(fh, 8, len)).toString('utf8')) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: number[] }
    >;
    const dataStart = 8 + len;
    const total = plan.length ? plan[plan.length - 1].end : 0;
    if (size !== dataStart + total) throw fail(`file is ${size} bytes, expected ${dataStart + total}`);
    if (Object.keys(header).length !== plan.length + 1) throw fail('header has a different number of entries');
    for (const t of plan) {
      checkAbort(opts);
      const h = Object.prototype.hasOwnProperty.call(header, t.name) ? header[t.name] : undefined;
      if (
        !h ||
        h.dtype !== t.tensor.dtype ||
        JSON.stringify(h.shape) !== JSON.stringify(t.tensor.shape) ||
        h.data_offsets[0] !== t.begin ||
        h.data_offsets[1] !== t.end
      ) {
        throw fail(`header entry of "${t.name}" differs`);
      }
      const hash = createHash('sha256');
      for (let at = t.begin; at < t.end; at += VERIFY_CHUNK)
        hash.update(await readAt(fh, dataStart + at, Math.min(VERIFY_CHUNK, t.end - at)));
      if (hash.digest('hex') !== t.sha256) throw fail(`bytes of "${t.name}" differ`);
    }
  });
}

// ---------------------------------------------------------------- zip access

/**
 * Like inspect/weights/zip's openZip, but keeps the yauzl handle: storages are read by byte range,
 * which that helper (whole small members only) does not offer.
 */
function openArchive(file: string): Promise<Archive> {
  const bad = (e: unknown) => new InputError(file, `not a valid zip archive: ${errText(e)}`);
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return reject(bad(err));
      const entries = new Map<string, yauzl.Entry>();
      zip.on('error', (e) => {
        zip.close();
        reject(bad(e));
      });
      zip.on('entry', (e: yauzl.Entry) => {
        entries.set(e.fileName, e);
        zip.readEntry();
      });
      zip.on('end', () => resolve({ zip, entries }));
      zip.readEntry();
    });
  });
}

async function readWhole(src: string, archive: Archive, entry: yauzl.Entry, opts: ConvertOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  await readRange(src, archive, entry, 0, entry.uncompressedSize, opts, (c) => {
    parts.push(Buffer.from(c));
  });
  return Buffer.concat(parts);
}

/**
 * Feeds bytes start..end of a member to `onChunk`, in order. Stored members (what torch.save
 * writes) are read at that range directly; compressed ones are inflated from the start and skipped.
 */
async function readRange(
  src: string,
  archive: Archive,
  entry: yauzl.Entry,
  start: number,
  end: number,
  opts: ConvertOptions,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  if (end <= start) return;
  const bad = (e: unknown) => new InputError(src, `cannot read zip member ${entry.fileName}: ${errText(e)}`);
  const ranged = entry.compressionMethod === 0 && !entry.isEncrypted();
  const stream = await new Promise<Readable>((resolve, reject) => {
    try {
      archive.zip.openReadStream(entry, ranged ? { start, end } : {}, (err, s) =>
        err || !s ? reject(bad(err)) : resolve(s),
      );
    } catch (e) {
      reject(bad(e));
    }
  });
  let at = ranged ? start : 0;
  let inCallback = false; // errors of onChunk (e.g. a full disk) are not the input's fault
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      checkAbort(opts);
      opts.onBytes?.(chunk.length);
      const from = Math.max(start - at, 0);
      const to = Math.min(end - at, chunk.length);
      at += chunk.length;
      inCallback = true;
      if (to > from) await onChunk(chunk.subarray(from, to));
      inCallback = false;
      if (at >= end) break;
    }
  } catch (e) {
    if (inCallback || e instanceof CancelledError || e instanceof InputError) throw e;
    throw bad(e);
  } finally {
    stream.destroy();
  }
  if (at < end) throw new InputError(src, `zip member ${entry.fileName} ends at byte ${at}, before ${end}`);
}

/**
 * NumPy .npy arrays and .npz archives, read lazily: only the header is parsed up front and rows are
 * read by byte offset, so a multi-gigabyte inputs array never has to fit in memory.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * "\x93NUMPY", major, minor, header length (u16 for v1, u32 for v2/v3), then a Python dict literal
 * such as {'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), } padded with spaces to 16/64 bytes.
 */
import { promises as fsp } from 'fs';
import * as yauzl from 'yauzl';
import { InputError } from '../errors';
import { halfToNumber } from '../util/float16';

export interface NpyDtype {
  /** numpy name: float32, int64... */
  name: string;
  bytes: number;
  integer: boolean;
}

/** Little-endian (or byte-order-free) dtypes we read; keyed by descr without the byte-order character. */
const DTYPES: Record<string, NpyDtype> = {
  f2: { name: 'float16', bytes: 2, integer: false },
  f4: { name: 'float32', bytes: 4, integer: false },
  f8: { name: 'float64', bytes: 8, integer: false },
  i1: { name: 'int8', bytes: 1, integer: true },
  i2: { name: 'int16', bytes: 2, integer: true },
  i4: { name: 'int32', bytes: 4, integer: true },
  i8: { name: 'int64', bytes: 8, integer: true },
  u1: { name: 'uint8', bytes: 1, integer: true },
  u2: { name: 'uint16', bytes: 2, integer: true },
  u4: { name: 'uint32', bytes: 4, integer: true },
  u8: { name: 'uint64', bytes: 8, integer: true },
  b1: { name: 'bool', bytes: 1, integer: false },
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Magic, version and the length field: enough to know how long the header is. */
const PREFIX = 12;
const MAX_HEADER = 1 << 20;

export interface NpyHeader {
  descr: string;
  dtype: NpyDtype;
  shape: number[];
  /** Where the data starts, from the start of the .npy bytes. */
  dataOffset: number;
}

/** Header length (magic..end of dict) from the first 12 bytes; `where` names the file in errors. */
export function npyHeaderLength(prefix: Buffer, where: string): number {
  if (prefix.length < 10 || !prefix.subarray(0, 6).equals(MAGIC))
    throw new InputError(where, 'not a .npy array (no \\x93NUMPY magic)');
  const major = prefix[6];
  if (major === 1) return 10 + prefix.readUInt16LE(8);
  if (major === 2 || major === 3) {
    if (prefix.length < 12) throw new InputError(where, 'truncated .npy header');
    return 12 + prefix.readUInt32LE(8);
  }
  throw new InputError(where, `unsupported .npy format version ${major}.${prefix[7]}`);
}

/** Parses the header; `bytes` must hold at least npyHeaderLength() bytes. */
export function parseNpyHeader(bytes: Buffer, where: string): NpyHeader {
  const total = npyHeaderLength(bytes, where);
  if (total > MAX_HEADER) throw new InputError(where, `.npy header of ${total} bytes is implausibly large`);
  if (bytes.length < total) throw new InputError(where, 'truncated .npy header');
  const start = bytes[6] === 1 ? 10 : 12;
  // v3 allows UTF-8 (field names); v1/v2 are latin1, which is ASCII for everything we accept.
  const text = bytes.subarray(start, total).toString(bytes[6] === 3 ? 'utf8' : 'latin1');

  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (!descrMatch) {
    if (/['"]descr['"]\s*:\s*\[/.test(text))
      throw new InputError(where, 'structured (record) arrays are not supported; save a plain numeric array');
    throw new InputError(where, `cannot read the .npy header: ${text.trim()}`);
  }
  const descr = descrMatch[2];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortran) throw new InputError(where, `cannot read fortran_order in the .npy header: ${text.trim()}`);
  if (fortran[1] === 'True') {
    throw new InputError(
      where,
      'the array is stored in Fortran (column-major) order; save it with np.save(file, np.ascontiguousarray(a))',
    );
  }
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shapeMatch) throw new InputError(where, `cannot read the shape in the .npy header: ${text.trim()}`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, '')) // Python 2 wrote long integers as 10L
    .filter((s) => s !== '')
    .map((s) => {
      if (!/^\d+$/.test(s)) throw new InputError(where, `bad dimension '${s}' in the .npy shape`);
      return Number(s);
    });

  return { descr, dtype: dtypeOf(descr, where), shape, dataOffset: total };
}

function dtypeOf(descr: string, where: string): NpyDtype {
  const order = descr[0];
  const dtype = DTYPES[descr.slice(1)];
  if (!dtype || !'<>|='.includes(order)) {
    throw new InputError(
      where,
      `unsupported dtype '${descr}' (supported: float16/32/64, int8/16/32/64, uint8/16/32/64, bool)`,
    );
  }
  // One-byte types have no byte order; for wider ones only little-endian ('=' is native, and numpy writes '<' on every platform we run on).
  if (order === '>' && dtype.bytes > 1)
    throw new InputError(
      where,
      `big-endian dtype '${descr}' is not supported; convert with a.astype('<${descr.slice(1)}')`,
    );
  return dtype;
}

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Where an array's bytes are: a range of a file, or (for a compressed npz member) a buffer in memory. */
interface ByteSource {
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

class FileRange implements ByteSource {
  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly base: number,
    private readonly length: number,
    private readonly where: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset + length > this.length)
      throw new InputError(this.where, `truncated: needs ${offset + length} bytes, has ${this.length}`);
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, this.base + offset + got);
      if (bytesRead === 0)
        throw new InputError(this.where, `truncated: ends before byte ${this.base + offset + length}`);
      got += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

class BufferRange implements ByteSource {
  constructor(
    private readonly buf: Buffer,
    private readonly where: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset + length > this.buf.length)
      throw new InputError(this.where, `truncated: needs ${offset + length} bytes, has ${this.buf.length}`);
    return this.buf.subarray(offset, offset + length);
  }

  async close(): Promise<void> {}
}

/** An opened array: its header, and reads of whole rows along axis 0. */
export class NpyArray {
  /** Rows along axis 0 (1 for a 0-d array). */
  readonly rows: number;
  /** Shape of one row (the shape without axis 0). */
  readonly rowShape: number[];
  readonly rowElements: number;
  readonly rowBytes: number;

  private constructor(
    readonly header: NpyHeader,
    private readonly source: ByteSource,
    /** File (and member) name for messages. */
    readonly where: string,
  ) {
    this.rows = header.shape.length ? header.shape[0] : 1;
    this.rowShape = header.shape.slice(1);
    this.rowElements = product(this.rowShape);
    this.rowBytes = this.rowElements * header.dtype.bytes;
  }

  /** Opens a .npy file, or a .npy stored at `base` within a file (an uncompressed npz member) of `length` bytes. */
  static async openFile(
    file: string,
    opts: { base?: number; length?: number; where?: string } = {},
  ): Promise<NpyArray> {
    const where = opts.where ?? file;
    const fh = await fsp.open(file, 'r');
    try {
      const length = opts.length ?? (await fh.stat()).size - (opts.base ?? 0);
      return await NpyArray.fromSource(new FileRange(fh, opts.base ?? 0, length, where), length, where);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  static fromBuffer(buf: Buffer, where: string): Promise<NpyArray> {
    return NpyArray.fromSource(new BufferRange(buf, where), buf.length, where);
  }

  private static async fromSource(source: ByteSource, length: number, where: string): Promise<NpyArray> {
    if (length < 10) throw new InputError(where, 'not a .npy array (too short)');
    const prefix = await source.read(0, Math.min(PREFIX, length));
    const headerLength = npyHeaderLength(prefix, where);
    if (headerLength > length) throw new InputError(where, 'truncated .npy header');
    const header = parseNpyHeader(await source.read(0, headerLength), where);
    const dataBytes = product(header.shape) * header.dtype.bytes;
    if (header.dataOffset + dataBytes > length) {
      throw new InputError(
        where,
        `truncated: shape (${header.shape.join(', ')}) ${header.dtype.name} needs ${dataBytes} data bytes, the file has ${length - header.dataOffset}`,
      );
    }
    return new NpyArray(header, source, where);
  }

  /** The raw bytes of rows [start, start+count). */
  readRows(start: number, count = 1): Promise<Buffer> {
    if (start < 0 || start + count > this.rows)
      throw new RangeError(`${this.where}: rows ${start}..${start + count - 1} outside 0..${this.rows - 1}`);
    return this.source.read(this.header.dataOffset + start * this.rowBytes, count * this.rowBytes);
  }

  /** One row converted to float32. */
  async rowFloat32(row: number): Promise<Float32Array> {
    return toFloat32(await this.readRows(row), this.header.dtype);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/** Element values as float32 (int64 beyond 2^53 loses precision, as float32 would anyway). */
export function toFloat32(bytes: Buffer, dtype: NpyDtype): Float32Array {
  const n = bytes.length / dtype.bytes;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = readElement(bytes, i * dtype.bytes, dtype);
  return out;
}

/** Element values as numbers; for integer labels (exact up to 2^53). */
export function toNumbers(bytes: Buffer, dtype: NpyDtype): number[] {
  const n = bytes.length / dtype.bytes;
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readElement(bytes, i * dtype.bytes, dtype);
  return out;
}

function readElement(b: Buffer, at: number, dtype: NpyDtype): number {
  switch (dtype.name) {
    case 'float16':
      return halfToNumber(b.readUInt16LE(at));
    case 'float32':
      return b.readFloatLE(at);
    case 'float64':
      return b.readDoubleLE(at);
    case 'int8':
      return b.readInt8(at);
    case 'int16':
      return b.readInt16LE(at);
    case 'int32':
      return b.readInt32LE(at);
    case 'int64':
      return Number(b.readBigInt64LE(at));
    case 'uint8':
      return b[at];
    case 'uint16':
      return b.readUInt16LE(at);
    case 'uint32':
      return b.readUInt32LE(at);
    case 'uint64':
      return Number(b.readBigUInt64LE(at));
    case 'bool':
      return b[at] ? 1 : 0;
    default:
      throw new Error(`unreachable dtype ${dtype.name}`);
  }
}

// ---------------------------------------------------------------- npz

export interface NpzMember {
  /** Array name: the member name without ".npy". */
  name: string;
  entry: yauzl.Entry;
}

/** The .npy members of an npz archive (np.savez / np.savez_compressed). */
export function listNpz(file: string): Promise<NpzMember[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip)
        return reject(new InputError(file, `not a valid .npz (zip) archive: ${err?.message ?? 'unreadable'}`));
      const members: NpzMember[] = [];
      zip.on('error', (e: Error) => reject(new InputError(file, `not a valid .npz (zip) archive: ${e.message}`)));
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName.endsWith('.npy')) members.push({ name: e.fileName.slice(0, -4), entry: e });
        zip.readEntry();
      });
      zip.on('end', () => resolve(members));
      zip.readEntry();
    });
  });
}

/**
 * Opens one array of an npz. A stored (np.savez) member is read in place by offset; a deflated
 * (np.savez_compressed) member cannot be read at an offset, so it is inflated into memory once.
 */
export async function openNpzArray(file: string, name: string, members?: NpzMember[]): Promise<NpyArray> {
  const list = members ?? (await listNpz(file));
  const m = list.find((x) => x.name === name);
  const where = `${file}:${name}.npy`;
  if (!m) throw new InputError(file, `no array '${name}' (arrays: ${list.map((x) => x.name).join(', ') || 'none'})`);
  if (m.entry.compressionMethod === 0) {
    const base = await memberDataOffset(file, m.entry);
    return NpyArray.openFile(file, { base, length: m.entry.uncompressedSize, where });
  }
  if (m.entry.compressionMethod !== 8)
    throw new InputError(
      file,
      `member ${name}.npy uses unsupported zip compression method ${m.entry.compressionMethod}`,
    );
  if (m.entry.uncompressedSize > MAX_INFLATE) {
    throw new InputError(
      file,
      `member ${name}.npy is compressed and ${m.entry.uncompressedSize} bytes; save big arrays with np.savez (uncompressed) so rows can be read in place`,
    );
  }
  return NpyArray.fromBuffer(await inflateMember(file, m.entry), where);
}

const MAX_INFLATE = 2 ** 31 - 1;

/** Data of a stored member starts after its local header, whose name/extra lengths can differ from the central directory's. */
async function memberDataOffset(file: string, entry: yauzl.Entry): Promise<number> {
  const fh = await fsp.open(file, 'r');
  try {
    const local = Buffer.alloc(30);
    const { bytesRead } = await fh.read(local, 0, 30, entry.relativeOffsetOfLocalHeader);
    if (bytesRead < 30 || local.readUInt32LE(0) !== 0x04034b50)
      throw new InputError(file, `bad local header for ${entry.fileName}`);
    return entry.relativeOffsetOfLocalHeader + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await fh.close();
  }
}

function inflateMember(file: string, entry: yauzl.Entry): Promise<Buffer> {
  const bad = (e: unknown) =>
    new InputError(file, `cannot read ${entry.fileName}: ${e instanceof Error ? e.message : String(e)}`);
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return reject(bad(err));
      let settled = false;
      const done = (e: unknown, buf?: Buffer) => {
        if (settled) return;
        settled = true;
        zip.close();
        if (e) reject(bad(e));
        else resolve(buf!);
      };
      zip.on('error', done);
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== entry.fileName) return zip.readEntry();
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return done(err2 ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', done);
          stream.on('end', () => done(undefined, Buffer.concat(chunks)));
        });
      });
      zip.on('end', () => done(new Error('member not found')));
      zip.readEntry();
    });
  });
}

/** Byte builders for the hostile corpus: pickles, tars, npy, deep JSON, seeded corruption. */
import { createHash } from 'crypto';
import { gzipSync } from 'zlib';
import * as tar from 'tar-stream';
import { mulberry32 } from '../../../src/core/util/random';

/** The project's seeded PRNG, so every generated case is the same on every run. */
export const prng = mulberry32;

export function randomBytes(seed: number, n: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** `count` bytes replaced by random ones, at positions from `from` on. */
export function flipBytes(src: Buffer, seed: number, count: number, from = 0): Buffer {
  const r = prng(seed);
  const b = Buffer.from(src);
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(r() * (b.length - from));
    b[at] ^= 1 + Math.floor(r() * 255);
  }
  return b;
}

export const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
export const deepObject = (n: number, key = 'a') => `{"${key}":`.repeat(n) + '1' + '}'.repeat(n);
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------- pickle (protocol 2 opcodes)

export const pk = {
  proto: Buffer.from([0x80, 0x02]),
  global: (mod: string, name: string) => Buffer.from(`c${mod}\n${name}\n`, 'latin1'),
  str: (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  tuple1: Buffer.from([0x85]),
  reduce: Buffer.from('R'),
  stop: Buffer.from('.'),
  emptyDict: Buffer.from('}'),
  emptyList: Buffer.from(']'),
  append: Buffer.from('a'),
  mark: Buffer.from('('),
  setitems: Buffer.from('u'),
};

/** A pickle that calls mod.name(arg) when loaded: the classic `posix.system` payload. */
export function callPickle(mod: string, name: string, arg: string): Buffer {
  return Buffer.concat([pk.proto, pk.global(mod, name), pk.str(arg), pk.tuple1, pk.reduce, pk.stop]);
}

/** A state dict {"weight": mod.name(arg)}: the payload hidden where a tensor would be. */
export function stateDictWithCall(mod: string, name: string, arg: string): Buffer {
  return Buffer.concat([
    pk.proto,
    pk.emptyDict,
    pk.mark,
    pk.str('weight'),
    pk.global(mod, name),
    pk.str(arg),
    pk.tuple1,
    pk.reduce,
    pk.setitems,
    pk.stop,
  ]);
}

/** Lists nested `depth` deep. */
export function deepPickle(depth: number): Buffer {
  return Buffer.concat([pk.proto, Buffer.alloc(depth, ']'), Buffer.alloc(depth - 1, 'a'), pk.stop]);
}

// ---------------------------------------------------------------- tar

export interface TarEntry {
  name: string;
  data?: Buffer;
  type?: tar.Header['type'];
  linkname?: string;
  /** Declared size when it should differ from the data's. */
  size?: number;
  pax?: Record<string, string>;
}

/** A tar (tar-stream's writer, which writes any name and type it is given). */
export async function tarBytes(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const type = e.type ?? 'file';
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        {
          name: e.name,
          type,
          linkname: e.linkname,
          size: type === 'file' ? data.length : 0,
          mode: 0o644,
          mtime: new Date(0),
          pax: e.pax,
        },
        type === 'file' ? data : Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export const gzip = (b: Buffer) => gzipSync(b, { level: 1 });

/** A manifest.json as `export` writes it, for the given files. */
export function archiveManifest(
  model: string,
  files: { path: string; data: Buffer; role?: string }[],
  extra: Record<string, unknown> = {},
): Buffer {
  const m = {
    format: 'modelreg-archive',
    formatVersion: 1,
    exportedAt: '2026-01-01T00:00:00.000Z',
    ref: `${model}@v1`,
    model,
    version: 1,
    source: { kind: 'training-output', uri: '/somewhere/run' },
    modelFormat: null,
    framework: null,
    parameterCount: null,
    git: null,
    parent: null,
    params: {},
    signature: {},
    details: {},
    config: null,
    description: '',
    tags: [],
    files: files.map((f) => ({ path: f.path, sha256: sha256(f.data), size: f.data.length, role: f.role ?? 'weights' })),
    ...extra,
  };
  return Buffer.from(JSON.stringify(m, null, 2) + '\n');
}

/** A whole valid archive of `files` (manifest first, metrics, files/…). */
export function archiveBytes(
  model: string,
  files: { path: string; data: Buffer; role?: string }[],
  extra: Record<string, unknown> = {},
): Promise<Buffer> {
  return tarBytes([
    { name: 'manifest.json', data: archiveManifest(model, files, extra) },
    { name: 'metrics.json', data: Buffer.from('[]\n') },
    ...files.map((f) => ({ name: `files/${f.path}`, data: f.data })),
  ]);
}

// ---------------------------------------------------------------- npy

/** A .npy written by hand: magic, version, header dict padded to 64 bytes, then the data. */
export function npyBytes(
  descr: string,
  shape: number[] | string,
  data: Buffer,
  opts: { fortran?: boolean; rawHeader?: string } = {},
): Buffer {
  const shapeText = typeof shape === 'string' ? shape : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict =
    opts.rawHeader ??
    `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(Math.min(dict.length, 0xffff), 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), data]);
}

export const f32 = (v: number[]) => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};
export const i64 = (v: number[]) => {
  const b = Buffer.alloc(v.length * 8);
  v.forEach((x, i) => b.writeBigInt64LE(BigInt(x), i * 8));
  return b;
};

// ---------------------------------------------------------------- protobuf (raw)

export function varint(n: bigint | number): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** A length-delimited protobuf field. */
export const pbField = (field: number, body: Buffer) =>
  Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);

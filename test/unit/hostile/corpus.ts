/**
 * The hostile-input corpus: several hundred cases generated here, deterministically, at test time
 * (nothing big is committed). Each case writes its inputs into a fresh folder and names the CLI run
 * that reads them, what it should do (refuse, accept, or either) and what a refusal must say.
 * The checks every run gets are in harness.ts.
 */
import { execFileSync } from 'child_process';
import { promises as fsp } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { PNG } from 'pngjs';
import { onnxModelType } from '../../../src/core/inspect/weights/onnxSchema';
import {
  channelMeanModelBytes,
  ggufBytes,
  kerasModelConfig,
  onnxModelBytes,
  safetensorsBytes,
  savedModelBytes,
  solidPng,
  tfliteBytes,
  writeKerasArchive,
  writeKerasH5,
  writeTorchZip,
  writeZip,
} from '../helpers/makeWeights';
import {
  archiveBytes,
  archiveManifest,
  callPickle,
  deepArray,
  deepObject,
  deepPickle,
  f32,
  flipBytes,
  gzip,
  i64,
  npyBytes,
  pbField,
  randomBytes,
  stateDictWithCall,
  tarBytes,
  TarEntry,
  varint,
} from './bytes';

/** A zip whose member names yazl would refuse (../, absolute): written under placeholders, renamed in place. */
async function writeHostileZip(file: string, members: [string, Buffer][]): Promise<void> {
  const placeholder = (n: string, i: number) => `p${i}`.padEnd(n.length, 'x');
  await writeZip(
    file,
    members.map(([n, b], i) => [placeholder(n, i), b]),
  );
  const bytes = await fsp.readFile(file);
  members.forEach(([n], i) => {
    const from = Buffer.from(placeholder(n, i));
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) Buffer.from(n).copy(bytes, at);
  });
  await fsp.writeFile(file, bytes);
}

export type Expect = 'refuse' | 'accept' | 'either';

export interface Run {
  /** The CLI arguments (the runner puts --registry first). */
  args: string[];
  expect: Expect;
  /** A refusal must name one of these (the file, or the archive entry)… */
  names: string[];
  /** …and say what is wrong. */
  problem: RegExp;
  /** Runs that must succeed before (a good model, a good dataset). */
  setup?: string[][];
  /** Runs that put the hostile input in (an archive); a clean refusal there ends the case. */
  prepare?: string[][];
  /** Runs after, whose output is checked too (show prints names from the input). */
  after?: string[][];
  /** Must appear in the output of the run or of the runs after it (a warning). */
  warns?: RegExp;
  /** Files that appear only if something from the input was executed. */
  markers?: string[];
  /** false for commands that never write to the registry (validate). */
  stores?: boolean;
}

export interface Case {
  id: string;
  group: string;
  /** Writes the inputs under `dir` (the run's working folder) and says what to run. */
  make(dir: string): Promise<Run>;
}

const cases: Case[] = [];
const add = (group: string, id: string, make: (dir: string) => Promise<Run>) =>
  cases.push({ id: `${group}/${id}`, group, make });

async function put(dir: string, rel: string, data: Buffer | string): Promise<string> {
  const file = path.join(dir, rel);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, data);
  return file;
}
const mkfifo = (file: string) => execFileSync('mkfifo', [file]);
const u64 = (v: bigint | number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const cuts = (len: number, fractions: number[]) => [
  ...new Set(fractions.map((f) => Math.max(1, Math.min(len - 1, Math.floor(len * f))))),
];
const ESC_NAME = '\x1b[31mevil\nFORGED: all good\x1b[0m';

// Problems a refusal must name, by what was read.
const P = {
  safetensors:
    /safetensors|header|dtype|shape|offset|tensor|JSON|too (small|large|deep|big)|exceeds|nest|empty|byte|duplicate|twice/i,
  onnx: /ONNX|protobuf|wire|invalid|truncat|corrupt|graph|ir_version|length|deep|nest|index out of range/i,
  gguf: /GGUF|version|tensor|metadata|key|type|truncat|exceeds|too|count|length|dim|alignment|corrupt|end of file|empty/i,
  pytorch: /pickle|zip|torch|truncat|corrupt|not a|central directory|unexpected|empty|global|deep|nest/i,
  h5: /HDF5|h5|Keras|signature|zip|config|JSON|truncat|corrupt|empty|not a|deep|nest/i,
  tflite: /TFLite|flatbuffer|offset|identifier|truncat|corrupt|not a|empty|out of range|bounds/i,
  savedmodel: /SavedModel|saved_model|protobuf|wire|truncat|corrupt|not a|empty|invalid|length|deep|nest/i,
  json: /JSON|Unexpected|parse|deep|nest|large|MiB|syntax|expected|invalid|end of/i,
  yaml: /YAML|alias|deep|nest|parse|invalid|large|unexpected|indent|map|expected|tag/i,
  log: /log|CSV|column|row|JSON|record|CRC|event|truncat|deep|nest|large|expected|invalid|too many|series|points/i,
  link: /link|outside|points to|leaves/i,
  special: /regular file|FIFO|not a (file|regular)|named pipe|special|socket|device/i,
  archive:
    /archive|manifest|tag|description|entry|unsafe|tar|SHA-256|bytes|listed|twice|first|format|missing|empty|gzip|regular files|JSON|link|larger|metrics|model name|readable|unexpected|deep|nest/i,
  dataset:
    /dataset|label|column|row|CSV|JSONL|npz|npy|shape|dtype|class|split|image|header|JSON|no data|zip|pickle|object|truncat|not a|expected|deep|nest|empty|inputs|large/i,
  convert:
    /convert|safetensors|ONNX|dtype|header|pickle|posix|torch|tensor|external|param|onnxruntime|offset|shape|deep|nest|not a|invalid|truncat|refus|exceeds/i,
  evaluate:
    /evaluat|dataset|feature|input|column|shape|ONNX|onnxruntime|split|batch|changed|SHA|missing|no such|class|invalid|width|expects|link|outside/i,
  any: /\S/,
};

// ---------------------------------------------------------------- safetensors

const tensorsOk = () =>
  safetensorsBytes([
    { name: 'w', dtype: 'F32', shape: [4, 4] },
    { name: 'b', dtype: 'F32', shape: [4] },
  ]);
/** A safetensors file with this header text and data; the declared header length can lie. */
const stRaw = (header: string, data: Buffer | number = 0, declared?: bigint) => {
  const h = Buffer.from(header, 'utf8');
  return Buffer.concat([u64(declared ?? BigInt(h.length)), h, typeof data === 'number' ? Buffer.alloc(data) : data]);
};
const t = (dtype: unknown, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const stJson = (header: Record<string, unknown>, data = 64) => stRaw(JSON.stringify(header), data);

function safetensorsCase(
  id: string,
  bytes: () => Buffer | Promise<Buffer>,
  expect: Expect,
  problem = P.safetensors,
  extra: Partial<Run> = {},
) {
  add('safetensors', id, async (dir) => {
    await put(dir, 'in/model.safetensors', await bytes());
    return { args: ['import', 'in/model.safetensors'], expect, names: ['model.safetensors'], problem, ...extra };
  });
}
safetensorsCase('valid', tensorsOk, 'accept');
safetensorsCase('empty', () => Buffer.alloc(0), 'refuse');
safetensorsCase('7-bytes', () => Buffer.alloc(7), 'refuse');
safetensorsCase('header-length-2^64-1', () => stRaw('{}', 64, 2n ** 64n - 1n), 'refuse');
safetensorsCase('header-length-2^63', () => stRaw('{}', 64, 2n ** 63n), 'refuse');
safetensorsCase('header-length-past-end-by-1', () => stRaw('{}', 0, 3n), 'refuse');
safetensorsCase('header-length-0', () => stRaw('', 64, 0n), 'refuse');
add('safetensors', 'header-larger-than-100MiB-sparse', async (dir) => {
  const f = await put(dir, 'in/model.safetensors', Buffer.concat([u64(100 * 1024 * 1024 + 8), Buffer.from('{')]));
  await fsp.truncate(f, 101 * 1024 * 1024); // a sparse tail: the header length fits the file
  return {
    args: ['import', 'in/model.safetensors'],
    expect: 'refuse',
    names: ['model.safetensors'],
    problem: P.safetensors,
  };
});
safetensorsCase('header-not-json', () => stRaw('not json at all', 16), 'refuse');
safetensorsCase('header-array', () => stRaw('[]'), 'refuse');
safetensorsCase('header-null', () => stRaw('null'), 'refuse');
safetensorsCase('header-string', () => stRaw('"abc"'), 'refuse');
safetensorsCase('header-number', () => stRaw('12345678'), 'refuse');
safetensorsCase(
  'header-invalid-utf8',
  () => Buffer.concat([u64(6), Buffer.from([0x7b, 0xff, 0xfe, 0xfd, 0x7d, 0x20])]),
  'refuse',
);
safetensorsCase('header-trailing-garbage', () => stRaw('{} xyz'), 'refuse');
safetensorsCase('dtype-unknown-Q99', () => stJson({ w: t('Q99', [4, 4], [0, 64]) }), 'refuse', /Q99|dtype/);
safetensorsCase('dtype-number', () => stJson({ w: t(42, [4, 4], [0, 64]) }), 'refuse');
safetensorsCase('dtype-missing', () => stJson({ w: { shape: [16], data_offsets: [0, 64] } }), 'refuse');
safetensorsCase('F4-odd-byte-size', () => stJson({ w: t('F4', [3], [0, 2]) }, 2), 'refuse', /F4|byte|bits|size/);
safetensorsCase('F4-wrong-size', () => stJson({ w: t('F4', [4], [0, 64]) }), 'refuse');
safetensorsCase('shape-negative', () => stJson({ w: t('F32', [-1, 4], [0, 64]) }), 'refuse');
safetensorsCase('shape-2^80', () => stJson({ w: t('F32', [2 ** 80], [0, 64]) }), 'refuse');
safetensorsCase(
  'shape-product-overflow',
  () => stJson({ w: t('F32', [2 ** 31, 2 ** 31, 2 ** 31], [0, 64]) }),
  'refuse',
);
safetensorsCase('shape-fraction', () => stJson({ w: t('F32', [1.5, 4], [0, 64]) }), 'refuse');
safetensorsCase('shape-string', () => stJson({ w: t('F32', '16', [0, 64]) }), 'refuse');
safetensorsCase('shape-10000-dims', () => stJson({ w: t('F32', [...Array(9999).fill(1), 16], [0, 64]) }), 'either');
safetensorsCase(
  'shape-deep-nested',
  () => stRaw(`{"w":{"dtype":"F32","shape":${deepArray(100000)},"data_offsets":[0,64]}}`, 64),
  'refuse',
);
safetensorsCase('offsets-reversed', () => stJson({ w: t('F32', [16], [64, 0]) }), 'refuse');
safetensorsCase('offsets-past-end', () => stJson({ w: t('F32', [16], [0, 64]) }, 32), 'refuse');
safetensorsCase(
  'offsets-overlap',
  () => stJson({ a: t('F32', [16], [0, 64]), b: t('F32', [16], [32, 96]) }, 96),
  'refuse',
);
safetensorsCase('offsets-gap', () => stJson({ a: t('F32', [8], [0, 32]), b: t('F32', [8], [40, 72]) }, 72), 'refuse');
safetensorsCase('data-longer-than-tensors', () => stJson({ w: t('F32', [16], [0, 64]) }, 128), 'refuse');
safetensorsCase('offsets-float', () => stJson({ w: t('F32', [16], [0, 64.5]) }), 'refuse');
safetensorsCase('offsets-strings', () => stJson({ w: t('F32', [16], ['0', '64']) }), 'refuse');
safetensorsCase('offsets-missing', () => stJson({ w: { dtype: 'F32', shape: [16] } }), 'refuse');
safetensorsCase('offsets-2^70', () => stJson({ w: t('F32', [16], [2 ** 70, 2 ** 70 + 64]) }), 'refuse');
safetensorsCase(
  'duplicate-keys',
  () => stRaw(`{"w":${JSON.stringify(t('F32', [16], [0, 64]))},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'refuse',
  /duplicate|twice|more than once|w/,
);
safetensorsCase('metadata-string', () => stJson({ __metadata__: 'x', w: t('F32', [16], [0, 64]) }), 'either');
safetensorsCase(
  'metadata-non-string-values',
  () => stJson({ __metadata__: { a: { b: [1, 2] } }, w: t('F32', [16], [0, 64]) }),
  'either',
);
safetensorsCase(
  'metadata-deep-100k',
  () => stRaw(`{"__metadata__":${deepObject(100000)},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'refuse',
  /deep|nest|metadata/,
);
safetensorsCase(
  'metadata-deep-5k',
  () => stRaw(`{"__metadata__":${deepObject(5000)},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'either',
);
safetensorsCase(
  'metadata-deep-arrays-100k',
  () => stRaw(`{"__metadata__":{"x":${deepArray(100000)}},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'refuse',
  /deep|nest|metadata/,
);
safetensorsCase('tensor-entry-deep', () => stRaw(`{"w":${deepObject(100000, 'dtype')}}`, 64), 'refuse');
safetensorsCase(
  'tensor-name-escapes-bad-dtype',
  () => stJson({ [ESC_NAME]: t('Q99', [16], [0, 64]) }),
  'refuse',
  /Q99|dtype/,
);
safetensorsCase('tensor-name-nul', () => stJson({ 'w\u0000x': t('F32', [16], [0, 64]) }), 'either');
safetensorsCase('tensor-name-1MB-bad', () => stJson({ ['n'.repeat(1 << 20)]: t('Q99', [16], [0, 64]) }), 'refuse');
safetensorsCase(
  '100k-tensors',
  () => safetensorsBytes(Array.from({ length: 100000 }, (_, i) => ({ name: `t${i}`, dtype: 'U8', shape: [1] }))),
  'accept',
);
for (const [i, cut] of cuts(tensorsOk().length, [0.01, 0.1, 0.5, 0.9, 0.999]).entries())
  safetensorsCase(`truncated-${i}-at-${cut}`, () => tensorsOk().subarray(0, cut), 'refuse');
for (let s = 1; s <= 4; s++)
  safetensorsCase(
    `header-flips-seed${s}`,
    () => {
      const b = tensorsOk();
      const hl = Number(b.readBigUInt64LE(0));
      return Buffer.concat([b.subarray(0, 8), flipBytes(b.subarray(8, 8 + hl), s, 2), b.subarray(8 + hl)]);
    },
    'either',
  );
for (let s = 1; s <= 2; s++)
  safetensorsCase(
    `data-flips-seed${s}`,
    () => {
      const b = tensorsOk();
      return flipBytes(b, s, 4, b.length - 80);
    },
    'accept',
  );
safetensorsCase('is-really-onnx', () => onnxModelBytes(), 'refuse');
add('safetensors', 'corrupt-in-folder-with-config', async (dir) => {
  await put(dir, 'in/model.safetensors', stJson({ w: t('F32', [16], [0, 64]) }, 8));
  await put(dir, 'in/config.json', '{"hidden_size": 4}');
  return { args: ['import', 'in'], expect: 'refuse', names: ['model.safetensors'], problem: P.safetensors };
});

// ---------------------------------------------------------------- ONNX

/** A protobuf message nested `depth` deep through If nodes' then_branch graphs. */
function nestedIfModel(depth: number): Buffer {
  // Innermost graph: empty. Each level: Graph{ node: Node{ op_type If, attribute: Attr{ name, type GRAPH, g } } }.
  // Only prefixes are added per level, so the pieces are collected and joined once.
  const prefixes: Buffer[] = [];
  let len = 0;
  const wrap = (field: number, extra: Buffer = Buffer.alloc(0)) => {
    const body = len + extra.length;
    const p = Buffer.concat([varint((field << 3) | 2), varint(body), extra]);
    prefixes.push(p);
    len += p.length;
  };
  for (let i = 0; i < depth; i++) {
    wrap(6, Buffer.concat([pbField(1, Buffer.from('then_branch')), varint((20 << 3) | 0), varint(5)])); // AttributeProto: name, type=GRAPH, g (field 6)
    wrap(5, pbField(4, Buffer.from('If'))); // NodeProto.attribute (5), op_type (4)
    wrap(1); // GraphProto.node (1)
  }
  wrap(7); // ModelProto.graph
  const head = Buffer.concat([varint((1 << 3) | 0), varint(8)]); // ir_version 8
  return Buffer.concat([head, ...prefixes.reverse()]);
}

function onnxCase(id: string, bytes: () => Buffer, expect: Expect, extra: Partial<Run> = {}) {
  add('onnx', id, async (dir) => {
    await put(dir, 'in/model.onnx', bytes());
    return { args: ['import', 'in/model.onnx'], expect, names: ['model.onnx'], problem: P.onnx, ...extra };
  });
}
const onnxOk = () => onnxModelBytes();
const onnxFrom = (model: Record<string, unknown>) => {
  const ty = onnxModelType();
  return Buffer.from(ty.encode(ty.fromObject(model)).finish());
};
const tinyGraph = (dims: unknown[], initDims: unknown[] = [4, 3]) => ({
  ir_version: 8,
  opset_import: [{ domain: '', version: 13 }],
  graph: {
    name: 'g',
    node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
    initializer: [{ name: 'W', dims: initDims, data_type: 1 }],
    input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: dims } } } }],
    output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: dims } } } }],
  },
});
onnxCase('valid', onnxOk, 'accept');
onnxCase('empty', () => Buffer.alloc(0), 'refuse');
for (const [s, n] of [
  [1, 16],
  [2, 100],
  [3, 1000],
  [4, 10000],
  [5, 100000],
])
  onnxCase(`random-${n}-bytes`, () => randomBytes(s, n), 'refuse');
for (const [i, cut] of cuts(onnxOk().length, [0.02, 0.25, 0.5, 0.75, 0.9, 0.995]).entries())
  onnxCase(`truncated-${i}-at-${cut}`, () => onnxOk().subarray(0, cut), 'either');
for (let s = 1; s <= 4; s++) onnxCase(`flips-seed${s}`, () => flipBytes(onnxOk(), 100 + s, 3), 'either');
onnxCase(
  'varint-overflow',
  () => Buffer.concat([Buffer.from([0x08]), Buffer.alloc(11, 0xff), Buffer.from([0x01])]),
  'refuse',
);
onnxCase(
  'graph-length-2^62',
  () => Buffer.concat([Buffer.from([0x08, 0x08, 0x3a]), varint(2n ** 62n), Buffer.alloc(16)]),
  'refuse',
);
onnxCase('wire-type-7', () => Buffer.from([0x08, 0x08, 0x3f, 0x01, 0x02]), 'refuse');
onnxCase(
  'ir-version-2^63',
  () => Buffer.concat([Buffer.from([0x08]), varint(2n ** 63n - 1n), onnxOk().subarray(2)]),
  'either',
);
onnxCase('input-dim-2^62', () => onnxFrom(tinyGraph([{ dim_value: 2 ** 62 }])), 'either');
onnxCase('input-dim-negative', () => onnxFrom(tinyGraph([{ dim_value: -5 }])), 'either');
onnxCase('initializer-dims-2^40x2^40', () => onnxFrom(tinyGraph([{ dim_value: 4 }], [2 ** 40, 2 ** 40])), 'either');
onnxCase('initializer-dims-negative', () => onnxFrom(tinyGraph([{ dim_value: 4 }], [-4, 3])), 'either');
onnxCase('initializer-10000-dims', () => onnxFrom(tinyGraph([{ dim_value: 4 }], Array(10000).fill(1))), 'either');
onnxCase('nested-if-2000', () => nestedIfModel(2000), 'either');
onnxCase('nested-if-100k', () => nestedIfModel(100000), 'either');
onnxCase(
  'names-with-escapes',
  () =>
    onnxModelBytes({
      inputName: ESC_NAME,
      outputName: `out${ESC_NAME}`,
      graphName: ESC_NAME,
      producerName: ESC_NAME,
      metadata: { [ESC_NAME]: ESC_NAME },
    }),
  'accept',
  {
    after: [
      ['show', 'in', '--json'],
      ['show', 'in'],
    ],
  },
);
onnxCase('is-really-safetensors', () => tensorsOk(), 'refuse');
onnxCase(
  'external-data-outside',
  () =>
    onnxFrom({
      ...tinyGraph([{ dim_value: 4 }]),
      graph: {
        ...tinyGraph([{ dim_value: 4 }]).graph,
        initializer: [
          {
            name: 'W',
            dims: [4, 3],
            data_type: 1,
            data_location: 1,
            external_data: [
              { key: 'location', value: '../../../../../etc/passwd' },
              { key: 'length', value: '48' },
            ],
          },
        ],
      },
    }),
  'either',
);

// ---------------------------------------------------------------- GGUF

const ggufOk = () =>
  ggufBytes({
    metadata: { 'general.architecture': 'llama', 'general.name': 'tiny' },
    tensors: [{ name: 'w', shape: [4, 4] }],
  });
const gStr = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([u64(b.length), b]);
};
const gHead = (version: number, tensors: bigint | number, kvs: bigint | number) =>
  Buffer.concat([Buffer.from('GGUF'), u32(version), u64(tensors), u64(kvs)]);
function ggufCase(id: string, bytes: () => Buffer, expect: Expect, file = 'model.gguf') {
  add('gguf', id, async (dir) => {
    await put(dir, `in/${file}`, bytes());
    return { args: ['import', `in/${file}`], expect, names: [file], problem: P.gguf };
  });
}
ggufCase('valid', ggufOk, 'accept');
ggufCase('empty', () => Buffer.alloc(0), 'refuse');
ggufCase('magic-only', () => Buffer.from('GGUF'), 'refuse');
ggufCase('version-0', () => gHead(0, 0, 0), 'refuse');
ggufCase('version-99', () => gHead(99, 0, 0), 'either');
ggufCase('tensor-count-2^63', () => Buffer.concat([gHead(3, 2n ** 63n, 0), Buffer.alloc(64)]), 'refuse');
ggufCase('kv-count-2^63', () => Buffer.concat([gHead(3, 0, 2n ** 63n), Buffer.alloc(64)]), 'refuse');
ggufCase('key-length-2^62', () => Buffer.concat([gHead(3, 0, 1), u64(2n ** 62n), Buffer.alloc(64)]), 'refuse');
ggufCase(
  'string-value-length-2^62',
  () => Buffer.concat([gHead(3, 0, 1), gStr('k'), u32(8), u64(2n ** 62n), Buffer.alloc(64)]),
  'refuse',
);
ggufCase(
  'array-length-2^62',
  () => Buffer.concat([gHead(3, 0, 1), gStr('k'), u32(9), u32(0), u64(2n ** 62n), Buffer.alloc(64)]),
  'refuse',
);
ggufCase(
  'array-of-arrays-10000-deep',
  () => {
    const parts = [gHead(3, 0, 1), gStr('k')];
    for (let i = 0; i < 10000; i++) parts.push(u32(9), u32(9), u64(1));
    parts.push(u32(9), u32(0), u64(0));
    return Buffer.concat(parts);
  },
  'either',
);
ggufCase('value-type-99', () => Buffer.concat([gHead(3, 0, 1), gStr('k'), u32(99), Buffer.alloc(16)]), 'refuse');
const ggufTensor = (name: string, dims: (bigint | number)[], type: number, offset: bigint | number, kvAlign?: number) =>
  Buffer.concat([
    gHead(3, 1, kvAlign === undefined ? 0 : 1),
    ...(kvAlign === undefined ? [] : [gStr('general.alignment'), u32(4), u32(kvAlign)]),
    gStr(name),
    u32(dims.length),
    ...dims.map(u64),
    u32(type),
    u64(offset),
    Buffer.alloc(64),
  ]);
ggufCase('tensor-type-999', () => ggufTensor('w', [4], 999, 0), 'refuse');
ggufCase('tensor-100-dims', () => ggufTensor('w', Array(100).fill(1), 0, 0), 'refuse');
ggufCase('tensor-dims-overflow', () => ggufTensor('w', [2n ** 32n, 2n ** 32n, 2n ** 32n], 0, 0), 'refuse');
ggufCase('tensor-offset-past-end', () => ggufTensor('w', [4], 0, 2n ** 40n), 'refuse');
ggufCase('alignment-0', () => ggufTensor('w', [4], 0, 0, 0), 'either');
ggufCase('alignment-3', () => ggufTensor('w', [4], 0, 0, 3), 'either');
ggufCase('tensor-name-escapes', () => ggufTensor(ESC_NAME, [4], 0, 2n ** 40n), 'refuse');
ggufCase(
  'metadata-escapes',
  () =>
    ggufBytes({
      metadata: { 'general.architecture': ESC_NAME, [ESC_NAME]: ESC_NAME },
      tensors: [{ name: ESC_NAME, shape: [4] }],
    }),
  'either',
);
for (const [i, cut] of cuts(ggufOk().length, [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]).entries())
  ggufCase(`truncated-${i}-at-${cut}`, () => ggufOk().subarray(0, cut), 'refuse');
for (let s = 1; s <= 3; s++) ggufCase(`flips-seed${s}`, () => flipBytes(ggufOk(), 200 + s, 3, 4), 'either');
ggufCase(
  'bin-with-gguf-magic-garbage',
  () => Buffer.concat([Buffer.from('GGUF'), randomBytes(7, 200)]),
  'refuse',
  'model.bin',
);

// ---------------------------------------------------------------- PyTorch pickles

const DANGEROUS: [string, string][] = [
  ['posix', 'system'],
  ['os', 'system'],
  ['builtins', 'eval'],
  ['builtins', 'exec'],
  ['subprocess', 'Popen'],
  ['nt', 'system'],
  ['runpy', '_run_code'],
  ['__builtin__', 'eval'],
];
function pickleCase(
  id: string,
  make: (marker: string) => Promise<Buffer> | Buffer,
  file: string,
  extra: Partial<Run> & { expect?: Expect } = {},
  writeZipFile = true,
) {
  add('pytorch', id, async (dir) => {
    const marker = path.join(dir, 'EXECUTED');
    const bytes = await make(`touch ${marker}`);
    const target = path.join(dir, 'in', file);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    if (writeZipFile) await writeTorchZip(target, { prefix: 'model', pickle: bytes });
    else await fsp.writeFile(target, bytes);
    return {
      args: ['import', `in/${file}`],
      expect: 'either',
      names: [file],
      problem: P.pytorch,
      markers: [marker],
      after: [['show', 'in']],
      ...extra,
    };
  });
}
for (const [mod, name] of DANGEROUS) {
  const warns = new RegExp(`${mod.replace(/_/g, '_')}\\.${name}`);
  pickleCase(`zip-reduce-${mod}.${name}`, (cmd) => callPickle(mod, name, cmd), 'model.pt', { warns });
}
pickleCase(
  'zip-state-dict-hiding-posix.system',
  (cmd) => stateDictWithCall('posix', 'system', cmd),
  'pytorch_model.bin',
  { warns: /posix\.system/ },
);
pickleCase(
  'raw-pickle-posix.system',
  (cmd) => callPickle('posix', 'system', cmd),
  'model.pth',
  { warns: /posix\.system/ },
  false,
);
pickleCase(
  'legacy-magic-then-posix.system',
  (cmd) =>
    Buffer.concat([
      Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex'),
      Buffer.from('80024de9032e', 'hex'),
      callPickle('posix', 'system', cmd),
    ]),
  'model.ckpt',
  { warns: /posix\.system/ },
  false,
);
pickleCase('zip-garbage-pickle', () => randomBytes(11, 300), 'model.pt');
pickleCase('zip-truncated-pickle', (cmd) => callPickle('collections', 'OrderedDict', cmd).subarray(0, 10), 'model.pt');
pickleCase('zip-deep-pickle-100k', () => deepPickle(100000), 'model.pt');
pickleCase('zip-binget-unknown-memo', () => Buffer.from('8002' + '6a' + 'ffffff7f' + '2e', 'hex'), 'model.pt');
pickleCase(
  'zip-million-marks',
  () => Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(1_000_000, '('), Buffer.from('.')]),
  'model.pt',
);
pickleCase('random-bytes-pt', () => randomBytes(12, 4096), 'model.pt', {}, false);
pickleCase('empty-pt', () => Buffer.alloc(0), 'model.pt', {}, false);
pickleCase('zip-no-data-pkl', async () => Buffer.alloc(0), 'model.pt', {}, false);
add('pytorch', 'zip-member-dotdot', async (dir) => {
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  await writeHostileZip(path.join(dir, 'in/model.pt'), [
    ['../../evil/data.pkl', Buffer.from('80027d71002e', 'hex')],
    ['model/data.pkl', Buffer.from('80027d71002e', 'hex')],
  ]);
  return {
    args: ['import', 'in/model.pt'],
    expect: 'either',
    names: ['model.pt'],
    problem: P.pytorch,
    markers: [path.join(dir, 'evil')],
  };
});
add('pytorch', 'zip-bomb-data-pkl-64MiB', async (dir) => {
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  await writeZip(
    path.join(dir, 'in/model.pt'),
    [
      ['model/data.pkl', Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(64 << 20, ']')])],
      ['model/version', Buffer.from('3\n')],
    ],
    { compress: true },
  );
  return { args: ['import', 'in/model.pt'], expect: 'either', names: ['model.pt'], problem: P.pytorch };
});
for (const [i, frac] of [0.3, 0.7, 0.98].entries()) {
  add('pytorch', `zip-truncated-${i}`, async (dir) => {
    const f = path.join(dir, 'in/model.pt');
    await fsp.mkdir(path.dirname(f), { recursive: true });
    await writeTorchZip(f, { prefix: 'model' });
    const b = await fsp.readFile(f);
    await fsp.writeFile(f, b.subarray(0, Math.floor(b.length * frac)));
    return { args: ['import', 'in/model.pt'], expect: 'either', names: ['model.pt'], problem: P.pytorch };
  });
}
add('pytorch', 'zip-eocd-claims-65535-entries', async (dir) => {
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xfffffff0, 12);
  eocd.writeUInt32LE(0, 16);
  await put(dir, 'in/model.pt', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100), eocd]));
  return { args: ['import', 'in/model.pt'], expect: 'either', names: ['model.pt'], problem: P.pytorch };
});
add('pytorch', 'zip-10000-storages', async (dir) => {
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  await writeTorchZip(path.join(dir, 'in/model.pt'), { prefix: 'model', storages: Array(10000).fill(4) });
  return { args: ['import', 'in/model.pt'], expect: 'either', names: ['model.pt'], problem: P.pytorch };
});

// ---------------------------------------------------------------- Keras, TFLite, SavedModel

function fileCase(
  group: string,
  id: string,
  file: string,
  bytes: (dir: string) => Promise<Buffer> | Buffer,
  expect: Expect,
  problem: RegExp,
  importPath?: string,
) {
  add(group, id, async (dir) => {
    await put(dir, `in/${file}`, await bytes(dir));
    return { args: ['import', importPath ?? `in/${file}`], expect, names: [path.basename(file)], problem };
  });
}
const bytesOf = async (dir: string, write: (f: string) => Promise<void>) => {
  const f = path.join(dir, `tmp-${Math.random().toString(36).slice(2)}`);
  await write(f);
  const b = await fsp.readFile(f);
  await fsp.rm(f);
  return b;
};
const G = 'keras-tflite-savedmodel';
fileCase(G, 'h5-valid', 'model.h5', (d) => bytesOf(d, (f) => writeKerasH5(f)), 'accept', P.h5);
fileCase(G, 'h5-random', 'model.h5', () => randomBytes(21, 2048), 'refuse', P.h5);
fileCase(G, 'h5-empty', 'model.h5', () => Buffer.alloc(0), 'either', P.h5);
fileCase(
  G,
  'h5-signature-then-random',
  'model.h5',
  () => Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(22, 4096)]),
  'either',
  P.h5,
);
for (const frac of [0.1, 0.9])
  fileCase(
    G,
    `h5-truncated-${frac}`,
    'model.h5',
    async (d) => {
      const b = await bytesOf(d, (f) => writeKerasH5(f));
      return b.subarray(0, Math.floor(b.length * frac));
    },
    'either',
    P.h5,
  );
fileCase(
  G,
  'h5-model-config-deep-100k',
  'model.h5',
  async (d) => {
    const b = await bytesOf(d, (f) => writeKerasH5(f));
    const cfg = JSON.stringify(kerasModelConfig());
    const i = b.indexOf(cfg.slice(0, 20));
    return i < 0 ? b : Buffer.concat([b.subarray(0, i), Buffer.from(deepArray(50000)), b.subarray(i + 100000)]);
  },
  'either',
  P.h5,
);
fileCase(G, 'keras-not-a-zip', 'model.keras', () => randomBytes(23, 1000), 'refuse', P.h5);
fileCase(
  G,
  'keras-config-invalid-json',
  'model.keras',
  (d) => bytesOf(d, (f) => writeKerasArchive(f, { rawConfig: '{"class_name": ' })),
  'either',
  P.h5,
);
fileCase(
  G,
  'keras-config-deep-100k',
  'model.keras',
  (d) => bytesOf(d, (f) => writeKerasArchive(f, { rawConfig: deepObject(100000, 'config') })),
  'either',
  P.h5,
);
fileCase(
  G,
  'keras-config-escapes',
  'model.keras',
  (d) =>
    bytesOf(d, (f) =>
      writeKerasArchive(f, { name: ESC_NAME, className: ESC_NAME, layers: [{ className: ESC_NAME, name: ESC_NAME }] }),
    ),
  'either',
  P.h5,
);
fileCase(
  G,
  'keras-truncated',
  'model.keras',
  async (d) => (await bytesOf(d, (f) => writeKerasArchive(f))).subarray(0, 150),
  'either',
  P.h5,
);
const tfl = () => tfliteBytes();
fileCase(G, 'tflite-valid', 'model.tflite', tfl, 'accept', P.tflite);
fileCase(G, 'tflite-empty', 'model.tflite', () => Buffer.alloc(0), 'refuse', P.tflite);
fileCase(G, 'tflite-random', 'model.tflite', () => randomBytes(24, 1000), 'refuse', P.tflite);
fileCase(
  G,
  'tflite-root-offset-huge',
  'model.tflite',
  () => {
    const b = Buffer.from(tfl());
    b.writeUInt32LE(0xfffffff0, 0);
    return b;
  },
  'refuse',
  P.tflite,
);
fileCase(
  G,
  'tflite-identifier-wrong',
  'model.tflite',
  () => {
    const b = Buffer.from(tfl());
    b.write('XXXX', 4, 'latin1');
    return b;
  },
  'either',
  P.tflite,
);
for (const frac of [0.2, 0.7])
  fileCase(
    G,
    `tflite-truncated-${frac}`,
    'model.tflite',
    () => tfl().subarray(0, Math.floor(tfl().length * frac)),
    'either',
    P.tflite,
  );
for (let s = 1; s <= 2; s++)
  fileCase(G, `tflite-flips-seed${s}`, 'model.tflite', () => flipBytes(tfl(), 300 + s, 4, 8), 'either', P.tflite);
fileCase(
  G,
  'tflite-escapes',
  'model.tflite',
  () =>
    tfliteBytes({
      description: ESC_NAME,
      inputs: [{ name: ESC_NAME, dtype: 'float32', shape: [1, 4] }],
      signatureKey: ESC_NAME,
    }),
  'either',
  P.tflite,
);
const sm = () => savedModelBytes();
fileCase(G, 'savedmodel-valid', 'sm/saved_model.pb', sm, 'accept', P.savedmodel, 'in/sm');
fileCase(G, 'savedmodel-empty', 'sm/saved_model.pb', () => Buffer.alloc(0), 'either', P.savedmodel, 'in/sm');
fileCase(G, 'savedmodel-random', 'sm/saved_model.pb', () => randomBytes(25, 3000), 'either', P.savedmodel, 'in/sm');
for (const frac of [0.3, 0.8])
  fileCase(
    G,
    `savedmodel-truncated-${frac}`,
    'sm/saved_model.pb',
    () => sm().subarray(0, Math.floor(sm().length * frac)),
    'either',
    P.savedmodel,
    'in/sm',
  );
fileCase(
  G,
  'savedmodel-length-2^62',
  'sm/saved_model.pb',
  () => Buffer.concat([Buffer.from([0x08, 0x01, 0x12]), varint(2n ** 62n), Buffer.alloc(32)]),
  'either',
  P.savedmodel,
  'in/sm',
);
fileCase(
  G,
  'savedmodel-deep-100k',
  'sm/saved_model.pb',
  () => {
    const parts: Buffer[] = [];
    let len = 0;
    for (let i = 0; i < 100000; i++) {
      const p = Buffer.concat([varint((2 << 3) | 2), varint(len)]);
      parts.push(p);
      len += p.length;
    }
    return Buffer.concat(parts.reverse());
  },
  'either',
  P.savedmodel,
  'in/sm',
);
add(G, 'savedmodel-variables-index-garbage', async (dir) => {
  await put(dir, 'in/sm/saved_model.pb', sm());
  await put(dir, 'in/sm/variables/variables.index', randomBytes(26, 500));
  await put(dir, 'in/sm/variables/variables.data-00000-of-00001', randomBytes(27, 500));
  return {
    args: ['import', 'in/sm'],
    expect: 'either',
    names: ['variables.index', 'saved_model.pb'],
    problem: P.savedmodel,
  };
});

// ---------------------------------------------------------------- logs and configs beside good weights

function logCase(
  id: string,
  file: string,
  content: Buffer | string | ((dir: string) => Buffer | string | Promise<Buffer | string>),
  expect: Expect,
  problem: RegExp,
  extra: Partial<Run> = {},
) {
  add('logs', id, async (dir) => {
    await put(dir, 'in/model.safetensors', tensorsOk());
    await put(dir, `in/${file}`, typeof content === 'function' ? await content(dir) : content);
    return { args: ['import', 'in'], expect, names: [path.basename(file)], problem, ...extra };
  });
}
const big = (n: number, unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
logCase('config-invalid-json', 'config.json', '{"hidden_size": 4,', 'refuse', P.json);
logCase('config-deep-arrays-100k', 'config.json', deepArray(100000), 'refuse', P.json);
logCase('config-deep-objects-100k', 'config.json', deepObject(100000), 'refuse', P.json);
logCase('config-deep-5k', 'config.json', deepObject(5000), 'either', P.json);
logCase('config-17MB', 'config.json', () => `{"x": "${big(17 << 20, 'a')}"}`, 'refuse', P.json);
logCase('config-bom', 'config.json', '\ufeff{"hidden_size": 4}', 'either', P.json);
logCase('config-nul-bytes', 'config.json', '{"a\u0000": 1}\u0000\u0000', 'either', P.json);
logCase('config-top-level-array', 'config.json', '[1, 2, 3]', 'either', P.json);
logCase(
  'config-proto-pollution',
  'config.json',
  '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"x": 1}}}',
  'either',
  P.json,
);
logCase(
  'config-invalid-utf8',
  'config.json',
  Buffer.from([0x7b, 0x22, 0x61, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
  'either',
  P.json,
);
logCase(
  'config-raw-escape-in-syntax-error',
  'config.json',
  '{"a": 1,\x1b[2J\x1b]0;pwned\x07 FORGED}',
  'refuse',
  P.json,
);
logCase('config-template-unknown', 'config.json', '{"$template": "no-such-template"}', 'either', /template|no-such/i);
logCase(
  'config-template-deep-100k',
  'config.json',
  `{"$template": "image-classification", "x": ${deepArray(100000)}}`,
  'either',
  P.json,
);
logCase(
  'config-template-deep-10k',
  'config.json',
  `{"$template": "text-classification", "labels": ${deepArray(10000)}}`,
  'either',
  P.json,
);
logCase(
  'config-template-escape-keys',
  'config.json',
  JSON.stringify({ $template: 'image-classification', [ESC_NAME]: ESC_NAME }),
  'either',
  P.json,
);
logCase(
  'config-1M-keys',
  'config.json',
  () => JSON.stringify(Object.fromEntries(Array.from({ length: 1_000_000 }, (_, i) => [`k${i}`, i]))),
  'either',
  P.json,
);
logCase(
  'config-base-model-escapes',
  'config.json',
  JSON.stringify({ base_model: ESC_NAME, _name_or_path: `../../${ESC_NAME}` }),
  'either',
  P.json,
);
logCase('hparams-invalid-yaml', 'hparams.yaml', 'a: [1, 2\nb: : :\n', 'refuse', P.yaml);
logCase(
  'hparams-billion-laughs',
  'hparams.yaml',
  [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
    ),
  ].join('\n'),
  'either',
  P.yaml,
);
logCase('hparams-deep-100k', 'hparams.yaml', deepArray(100000), 'either', P.yaml);
logCase(
  'hparams-python-object-apply',
  'hparams.yaml',
  (dir) => `lr: !!python/object/apply:os.system ["touch ${path.join(dir, 'EXECUTED')}"]\n`,
  'either',
  P.yaml,
  {},
);
logCase(
  'hparams-10k-anchors',
  'hparams.yaml',
  Array.from({ length: 10000 }, (_, i) => `k${i}: &a${i} ${i}`).join('\n'),
  'either',
  P.yaml,
);
logCase('metrics-json-invalid', 'metrics.json', '{"accuracy": ', 'refuse', P.log);
logCase('metrics-json-deep-100k', 'metrics.json', deepObject(100000, 'accuracy'), 'refuse', P.log);
logCase('metrics-json-deep-arrays-100k', 'metrics.json', `{"loss": ${deepArray(100000)}}`, 'refuse', P.log);
logCase(
  'metrics-json-1M-points',
  'metrics.json',
  () => JSON.stringify({ loss: Array.from({ length: 1_000_000 }, (_, i) => i / 1e6) }),
  'either',
  P.log,
);
logCase(
  'metrics-json-strings-and-nan',
  'metrics.json',
  '{"accuracy": "NaN", "loss": [null, "x", {}], "f1": 1e999}',
  'either',
  P.log,
);
logCase('metrics-json-escape-keys', 'metrics.json', JSON.stringify({ [ESC_NAME]: 0.5 }), 'either', P.log, {
  after: [['show', 'in']],
});
logCase(
  'metrics-jsonl-deep',
  'metrics.jsonl',
  `{"step": 1, "loss": 0.5}\n${deepObject(100000, 'loss')}\n`,
  'either',
  P.log,
);
logCase('metrics-jsonl-garbage', 'metrics.jsonl', '\u0000\u0001garbage\n{]\n', 'either', P.log);
logCase('trainer-state-invalid', 'trainer_state.json', '{"log_history": [', 'refuse', P.log);
logCase(
  'trainer-state-log-history-not-list',
  'trainer_state.json',
  '{"log_history": {"a": 1}, "global_step": "x"}',
  'either',
  P.log,
);
logCase('trainer-state-deep-100k', 'trainer_state.json', `{"log_history": ${deepArray(100000)}}`, 'refuse', P.log);
logCase(
  'trainer-state-200k-entries',
  'trainer_state.json',
  () => JSON.stringify({ log_history: Array.from({ length: 200000 }, (_, i) => ({ step: i, loss: 1 / (i + 1) })) }),
  'either',
  P.log,
);
logCase(
  'trainer-state-10k-keys',
  'trainer_state.json',
  () =>
    JSON.stringify({
      log_history: [Object.fromEntries([['step', 1], ...Array.from({ length: 10000 }, (_, i) => [`m${i}`, i])])],
    }),
  'either',
  P.log,
);
logCase(
  'trainer-state-escape-keys',
  'trainer_state.json',
  JSON.stringify({ log_history: [{ step: 1, [ESC_NAME]: 0.5 }], best_metric: 1, best_model_checkpoint: ESC_NAME }),
  'either',
  P.log,
  { after: [['show', 'in']] },
);
logCase(
  'csv-1M-columns',
  'metrics.csv',
  () =>
    `step,${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n0,${Array(1_000_000).fill('1').join(',')}\n`,
  'either',
  P.log,
);
logCase(
  'csv-100k-columns',
  'metrics.csv',
  () => `step,${Array.from({ length: 100000 }, (_, i) => `c${i}`).join(',')}\n0,${Array(100000).fill('1').join(',')}\n`,
  'either',
  P.log,
);
logCase('csv-ragged', 'metrics.csv', 'step,loss,acc\n1,0.5\n2,0.4,0.9,7,8\n3\n', 'either', P.log);
logCase('csv-nul-bytes', 'metrics.csv', 'step,loss\n1,\u00000.5\n\u0000\u0000\n', 'either', P.log);
logCase('csv-unclosed-quote', 'metrics.csv', 'step,"loss\n1,0.5\n2,0.4\n', 'either', P.log);
logCase('csv-20MB-line', 'metrics.csv', () => `step,loss\n1,${big(20 << 20, '9')}\n`, 'either', P.log);
logCase('csv-binary-garbage', 'metrics.csv', randomBytes(31, 5000), 'either', P.log);
logCase('csv-header-only', 'metrics.csv', 'step,loss\n', 'either', P.log);
logCase('csv-escape-columns', 'metrics.csv', `step,"${ESC_NAME}"\n1,0.5\n2,0.4\n`, 'either', P.log, {
  after: [['show', 'in']],
});
logCase(
  'csv-200k-rows',
  'metrics.csv',
  () => 'step,loss\n' + Array.from({ length: 200000 }, (_, i) => `${i},${1 / (i + 1)}`).join('\n') + '\n',
  'either',
  P.log,
);
logCase('yolo-results-garbage', 'results.csv', '   epoch,  train/box_loss\n   x, y, z\n', 'either', P.log);
logCase('keras-training-log-random', 'training.log', randomBytes(32, 3000), 'either', P.log);
const tfRec = (data: Buffer, lenOverride?: bigint) =>
  Buffer.concat([u64(lenOverride ?? BigInt(data.length)), Buffer.alloc(4), data, Buffer.alloc(4)]);
logCase(
  'tfevents-bad-crc',
  'events.out.tfevents.1.host',
  tfRec(Buffer.from('0900000000000000001a0a0a086c6f7373', 'hex')),
  'either',
  P.log,
);
logCase(
  'tfevents-length-2^62',
  'events.out.tfevents.1.host',
  Buffer.concat([u64(2n ** 62n), Buffer.alloc(64)]),
  'either',
  P.log,
);
logCase(
  'tfevents-truncated',
  'events.out.tfevents.1.host',
  tfRec(randomBytes(33, 100)).subarray(0, 50),
  'either',
  P.log,
);
logCase('tfevents-garbage', 'events.out.tfevents.1.host', randomBytes(34, 10000), 'either', P.log);
logCase(
  'tfevents-deep-protobuf',
  'events.out.tfevents.1.host',
  () => {
    const parts: Buffer[] = [];
    let len = 0;
    for (let i = 0; i < 50000; i++) {
      const p = Buffer.concat([varint((5 << 3) | 2), varint(len)]);
      parts.push(p);
      len += p.length;
    }
    return tfRec(Buffer.concat(parts.reverse()));
  },
  'either',
  P.log,
);
logCase('params-training-args-json-deep', 'training_args.json', deepArray(100000), 'either', P.json);
logCase(
  'adapter-config-escapes',
  'adapter_config.json',
  JSON.stringify({ base_model_name_or_path: ESC_NAME, peft_type: ESC_NAME }),
  'either',
  P.json,
  { after: [['show', 'in']] },
);

// ---------------------------------------------------------------- names that try to reach the terminal

function nameCase(id: string, make: (dir: string) => Promise<Omit<Run, 'problem'> & { problem?: RegExp }>) {
  add('names', id, async (dir) => ({ problem: P.any, ...(await make(dir)) }));
}
nameCase('corrupt-weights-named-with-escapes', async (dir) => {
  await put(dir, `in/${ESC_NAME}.safetensors`, Buffer.alloc(5));
  return { args: ['import', 'in'], expect: 'refuse', names: ['evil'], problem: P.safetensors };
});
nameCase('good-weights-named-with-escapes-then-show', async (dir) => {
  await put(dir, `in/${ESC_NAME}.safetensors`, tensorsOk());
  return {
    args: ['import', 'in', '--model', 'm'],
    expect: 'accept',
    names: ['evil'],
    after: [['show', 'm'], ['list', 'm'], ['verify']],
  };
});
nameCase('folder-named-with-escapes', async (dir) => {
  await put(dir, `${ESC_NAME}/model.safetensors`, tensorsOk());
  return { args: ['import', ESC_NAME], expect: 'either', names: ['evil'], after: [['list']] };
});
nameCase('model-option-with-escapes', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  return {
    args: ['import', 'in', '--model', ESC_NAME],
    expect: 'refuse',
    names: ['evil'],
    problem: /model name|invalid/i,
  };
});
nameCase('missing-path-with-escapes', async () => ({
  args: ['import', `no-such-${ESC_NAME}`],
  expect: 'refuse',
  names: ['no-such'],
  problem: /no such|not found|does not exist/i,
}));
nameCase('corrupt-onnx-named-with-cr', async (dir) => {
  await put(dir, 'in/a\rFORGED.onnx', randomBytes(41, 50));
  return { args: ['import', 'in'], expect: 'refuse', names: ['FORGED'], problem: P.onnx };
});
nameCase('bad-config-in-osc-named-folder', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await put(dir, 'in/\x1b]0;title\x07/config.json', '{bad');
  return { args: ['import', 'in'], expect: 'refuse', names: ['config.json'], problem: P.json };
});
nameCase('corrupt-gguf-named-with-c1-csi', async (dir) => {
  await put(dir, 'in/x\u009b31mFORGED.gguf', Buffer.from('GGUF'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['FORGED'], problem: P.gguf };
});
nameCase('show-ref-with-escapes', async () => ({
  args: ['show', `${ESC_NAME}@v1`],
  expect: 'refuse',
  names: ['evil'],
  problem: /model|no |invalid|reference/i,
}));
nameCase('tag-with-escapes', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  return {
    setup: [['import', 'in', '--model', 'm']],
    args: ['tag', 'm@v1', ESC_NAME],
    expect: 'either',
    names: ['evil'],
    problem: /tag/i,
    after: [
      ['show', 'm'],
      ['list', 'm'],
    ],
  };
});
nameCase('description-with-escapes', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  return {
    setup: [['import', 'in', '--model', 'm']],
    args: ['describe', 'm@v1', ESC_NAME],
    expect: 'either',
    names: ['evil'],
    problem: /description/i,
    after: [
      ['show', 'm'],
      ['list', 'm'],
      ['search', 'evil'],
    ],
  };
});
nameCase('newline-forged-line-in-weights-name', async (dir) => {
  await put(dir, 'in/w\nFORGED modelreg: all good\n.safetensors', Buffer.from('junk'));
  return {
    args: ['import', 'in'],
    expect: 'refuse',
    names: ['modelreg: all good', 'safetensors'],
    problem: P.safetensors,
  };
});
nameCase('escapes-in-folder-name-default-model', async (dir) => {
  await put(dir, '\x1b[2J\x1b[Hrun\nFORGED/model.safetensors', tensorsOk());
  return {
    args: ['import', '\x1b[2J\x1b[Hrun\nFORGED', '--json'],
    expect: 'either',
    names: ['run'],
    after: [['list']],
  };
});
nameCase('validate-file-named-with-escapes', async (dir) => {
  await put(dir, `c-${ESC_NAME}.json`, '{"$template": "image-classification", "bad": ');
  return {
    args: ['validate', `c-${ESC_NAME}.json`],
    expect: 'refuse',
    names: ['evil'],
    problem: P.json,
    stores: false,
  };
});
nameCase('export-dest-with-escapes', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  return {
    args: ['import', 'in', '--model', 'm'],
    expect: 'accept',
    names: ['m'],
    after: [['export', 'm@v1', `out-${ESC_NAME}.tar`]],
  };
});

// ---------------------------------------------------------------- links and special files

function linkCase(id: string, make: (dir: string) => Promise<Run>) {
  add('links', id, make);
}
async function outside(dir: string): Promise<string> {
  await put(dir, 'outside/secret.txt', 'SECRET\n');
  await put(dir, 'outside/model.safetensors', tensorsOk());
  return path.join(dir, 'outside');
}
linkCase('single-file-link-to-etc-passwd', async (dir) => {
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  await fsp.symlink('/etc/passwd', path.join(dir, 'in/weights.bin'));
  return { args: ['import', 'in/weights.bin'], expect: 'refuse', names: ['weights.bin'], problem: P.link };
});
linkCase('single-safetensors-link-outside', async (dir) => {
  const out = await outside(dir);
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  await fsp.symlink(path.join(out, 'model.safetensors'), path.join(dir, 'in/model.safetensors'));
  return { args: ['import', 'in/model.safetensors'], expect: 'refuse', names: ['model.safetensors'], problem: P.link };
});
linkCase('folder-that-is-a-link-outside', async (dir) => {
  const out = await outside(dir);
  await fsp.mkdir(path.join(dir, 'in/outputs'), { recursive: true });
  await fsp.symlink(out, path.join(dir, 'in/outputs/run1'));
  return { args: ['import', 'in/outputs/run1'], expect: 'refuse', names: ['run1'], problem: P.link };
});
linkCase('link-to-outside-file-in-folder', async (dir) => {
  const out = await outside(dir);
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink(path.join(out, 'secret.txt'), path.join(dir, 'in/notes.txt'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['notes.txt'], problem: P.link };
});
linkCase('link-to-outside-folder-in-folder', async (dir) => {
  const out = await outside(dir);
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink(out, path.join(dir, 'in/extra'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['extra'], problem: P.link };
});
linkCase('link-to-dev-zero-named-bin', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink('/dev/zero', path.join(dir, 'in/pytorch_model.bin'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['pytorch_model.bin'], problem: P.link };
});
linkCase('link-loop', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink('b', path.join(dir, 'in/a'));
  await fsp.symlink('a', path.join(dir, 'in/b'));
  return { args: ['import', 'in'], expect: 'either', names: ['in/a', 'in/b'], problem: /link|loop|ELOOP/i };
});
linkCase('link-to-parent-folder', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink('..', path.join(dir, 'in/up'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['up'], problem: P.link };
});
linkCase('broken-link', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink('/nonexistent/x', path.join(dir, 'in/dangling.json'));
  return { args: ['import', 'in'], expect: 'either', names: ['dangling.json'], problem: /link|broken/i };
});
linkCase('link-inside-folder', async (dir) => {
  await put(dir, 'in/real/model.safetensors', tensorsOk());
  await fsp.symlink('real/model.safetensors', path.join(dir, 'in/model.safetensors'));
  return { args: ['import', 'in'], expect: 'accept', names: [], problem: P.any };
});
linkCase('hard-link-to-outside-file', async (dir) => {
  const out = await outside(dir);
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.link(path.join(out, 'secret.txt'), path.join(dir, 'in/notes.txt'));
  return { args: ['import', 'in'], expect: 'either', names: ['notes.txt'], problem: P.any };
});
linkCase('config-json-link-to-etc-shadow', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  await fsp.symlink('/etc/shadow', path.join(dir, 'in/config.json'));
  return { args: ['import', 'in'], expect: 'refuse', names: ['config.json'], problem: P.link };
});
linkCase('fifo-as-import-target', async (dir) => {
  await fsp.mkdir(path.join(dir, 'in'), { recursive: true });
  mkfifo(path.join(dir, 'in/model.safetensors'));
  return {
    args: ['import', 'in/model.safetensors'],
    expect: 'refuse',
    names: ['model.safetensors'],
    problem: P.special,
  };
});
linkCase('fifo-named-config-json-in-folder', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  mkfifo(path.join(dir, 'in/config.json'));
  return { args: ['import', 'in'], expect: 'either', names: ['config.json'], problem: P.special };
});
linkCase('fifo-named-config-json-beside-single-file', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  mkfifo(path.join(dir, 'in/config.json'));
  return { args: ['import', 'in/model.safetensors'], expect: 'either', names: ['config.json'], problem: P.special };
});
linkCase('fifo-named-weights-in-folder', async (dir) => {
  await put(dir, 'in/config.json', '{}');
  await put(dir, 'in/model.safetensors', tensorsOk());
  mkfifo(path.join(dir, 'in/extra.safetensors'));
  return { args: ['import', 'in'], expect: 'either', names: ['extra.safetensors'], problem: P.special };
});
linkCase('fifo-named-metrics-csv', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  mkfifo(path.join(dir, 'in/metrics.csv'));
  return { args: ['import', 'in'], expect: 'either', names: ['metrics.csv'], problem: P.special };
});
linkCase('link-to-fifo-named-trainer-state', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  mkfifo(path.join(dir, 'in/pipe'));
  await fsp.symlink('pipe', path.join(dir, 'in/trainer_state.json'));
  return { args: ['import', 'in'], expect: 'either', names: ['trainer_state.json'], problem: P.special };
});
linkCase('socket-named-config-json', async (dir) => {
  await put(dir, 'in/model.safetensors', tensorsOk());
  const sock = path.join(dir, 'in/config.json');
  // Left listening (unref'd, so it does not hold the test run open): closing it would remove the file.
  await new Promise<void>((resolve) => {
    const s = net.createServer();
    s.listen(sock, () => resolve());
    s.unref();
  });
  return { args: ['import', 'in'], expect: 'either', names: ['config.json'], problem: P.special };
});
linkCase('dev-null-as-import-target', async () => ({
  args: ['import', '/dev/null'],
  expect: 'refuse',
  names: ['/dev/null'],
  problem: P.special,
}));
linkCase('folder-named-model-safetensors', async (dir) => {
  await put(dir, 'in/model.safetensors/inner.txt', 'x');
  await put(dir, 'in/real.safetensors', tensorsOk());
  return { args: ['import', 'in'], expect: 'either', names: ['model.safetensors'], problem: P.any };
});
linkCase('import-archive-on-fifo', async (dir) => {
  mkfifo(path.join(dir, 'archive.tar'));
  return { args: ['import-archive', 'archive.tar'], expect: 'refuse', names: ['archive.tar'], problem: P.special };
});
linkCase('import-archive-folder-with-fifo-manifest', async (dir) => {
  await fsp.mkdir(path.join(dir, 'exported/files'), { recursive: true });
  mkfifo(path.join(dir, 'exported/manifest.json'));
  return {
    args: ['import-archive', 'exported'],
    expect: 'refuse',
    names: ['manifest.json', 'exported'],
    problem: P.special,
  };
});
linkCase('dataset-add-fifo-csv', async (dir) => {
  mkfifo(path.join(dir, 'data.csv'));
  return { args: ['dataset', 'add', 'data.csv'], expect: 'refuse', names: ['data.csv'], problem: P.special };
});
linkCase('validate-fifo', async (dir) => {
  mkfifo(path.join(dir, 'config.json'));
  return {
    args: ['validate', 'config.json'],
    expect: 'refuse',
    names: ['config.json'],
    problem: P.special,
    stores: false,
  };
});
linkCase('dataset-fifo-image', async (dir) => {
  await put(dir, 'ds/cat/a.png', solidPng([1, 2, 3]));
  await put(dir, 'ds/dog/b.png', solidPng([3, 2, 1]));
  mkfifo(path.join(dir, 'ds/dog/c.png'));
  return { args: ['dataset', 'add', 'ds'], expect: 'either', names: ['c.png'], problem: P.special };
});
linkCase('dataset-class-folder-link-outside', async (dir) => {
  await put(dir, 'out-imgs/x.png', solidPng([9, 9, 9]));
  await put(dir, 'ds/cat/a.png', solidPng([1, 2, 3]));
  await fsp.symlink(path.join(dir, 'out-imgs'), path.join(dir, 'ds/dog'));
  return { args: ['dataset', 'add', 'ds'], expect: 'refuse', names: ['dog'], problem: P.link };
});
linkCase('dataset-image-link-outside', async (dir) => {
  await put(dir, 'out-imgs/x.png', solidPng([9, 9, 9]));
  await put(dir, 'ds/cat/a.png', solidPng([1, 2, 3]));
  await fsp.mkdir(path.join(dir, 'ds/dog'));
  await fsp.symlink(path.join(dir, 'out-imgs/x.png'), path.join(dir, 'ds/dog/x.png'));
  return { args: ['dataset', 'add', 'ds'], expect: 'refuse', names: ['x.png'], problem: P.link };
});
linkCase('dataset-image-link-to-etc-passwd', async (dir) => {
  await put(dir, 'ds/cat/a.png', solidPng([1, 2, 3]));
  await fsp.mkdir(path.join(dir, 'ds/dog'));
  await fsp.symlink('/etc/passwd', path.join(dir, 'ds/dog/passwd.png'));
  return { args: ['dataset', 'add', 'ds'], expect: 'refuse', names: ['passwd.png'], problem: P.link };
});
linkCase('dataset-csv-link-outside', async (dir) => {
  await put(dir, 'elsewhere/data.csv', 'x,label\n1,a\n2,b\n');
  await fsp.mkdir(path.join(dir, 'ds'));
  await fsp.symlink(path.join(dir, 'elsewhere/data.csv'), path.join(dir, 'ds/data.csv'));
  return { args: ['dataset', 'add', 'ds'], expect: 'refuse', names: ['data.csv'], problem: P.link };
});
linkCase('git-bare-repo-laid-out-as-folder-fsmonitor', async (dir) => {
  const marker = path.join(dir, 'EXECUTED');
  const hook = `touch ${marker}; false`;
  await put(dir, 'in/HEAD', 'ref: refs/heads/main\n');
  await put(
    dir,
    'in/config',
    `[core]\n\trepositoryformatversion = 0\n\tbare = true\n\tfsmonitor = "${hook}"\n[diff "x"]\n\ttextconv = "${hook}"\n[core]\n\tpager = "${hook}"\n`,
  );
  await put(dir, 'in/objects/info/.keep', '');
  await put(dir, 'in/refs/heads/.keep', '');
  await put(dir, 'in/hooks/post-checkout', `#!/bin/sh\n${hook}\n`);
  await fsp.chmod(path.join(dir, 'in/hooks/post-checkout'), 0o755);
  await put(dir, 'in/model.safetensors', tensorsOk());
  return { args: ['import', 'in'], expect: 'either', names: ['in'], problem: P.any, markers: [marker] };
});
linkCase('file-named-HEAD-in-git-output', async (dir) => {
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  await put(dir, 'train.py', 'print(1)\n');
  execFileSync('git', [
    '-C',
    dir,
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@e',
    '-c',
    'commit.gpgsign=false',
    'add',
    '-A',
  ]);
  execFileSync('git', [
    '-C',
    dir,
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@e',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '-q',
    '-m',
    'x',
  ]);
  await put(dir, 'in/model.safetensors', tensorsOk());
  await put(dir, 'in/HEAD', 'x');
  await put(dir, 'in/--output=x', 'x');
  return { args: ['import', 'in'], expect: 'accept', names: ['HEAD'], problem: P.any };
});

// ---------------------------------------------------------------- archives for import-archive

const stFile = () => ({ path: 'model.safetensors', data: tensorsOk() });
function archiveCase(
  id: string,
  bytes: () => Promise<Buffer> | Buffer,
  expect: Expect,
  names: string[],
  problem = P.archive,
  extra: Partial<Run> = {},
  file = 'archive.tar',
) {
  add('archive', id, async (dir) => {
    await put(dir, file, await bytes());
    return { args: ['import-archive', file], expect, names: [file, ...names], problem, ...extra };
  });
}
const manifestOf = (files = [stFile()], extra: Record<string, unknown> = {}) => archiveManifest('m', files, extra);
const withEntries = (entries: TarEntry[], files = [stFile()], extraManifest: Record<string, unknown> = {}) =>
  tarBytes([
    { name: 'manifest.json', data: manifestOf(files, extraManifest) },
    { name: 'metrics.json', data: Buffer.from('[]') },
    ...entries,
  ]);
const validArchive = () => archiveBytes('m', [stFile()]);
archiveCase('valid', validArchive, 'accept', [], P.archive, { after: [['verify'], ['show', 'm']] });
archiveCase('valid-gzip', async () => gzip(await validArchive()), 'accept', [], P.archive, {}, 'archive.tar.gz');
archiveCase(
  'valid-with-directory-entries',
  () =>
    withEntries([
      { name: 'files/', type: 'directory' },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'accept',
  [],
);
archiveCase(
  'entry-dotdot',
  () =>
    withEntries([
      { name: '../evil', data: Buffer.from('x') },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['../evil'],
);
archiveCase('entry-absolute', () => withEntries([{ name: '/tmp/evil', data: Buffer.from('x') }]), 'refuse', [
  '/tmp/evil',
]);
archiveCase('entry-files-dotdot', () => withEntries([{ name: 'files/../../evil', data: Buffer.from('x') }]), 'refuse', [
  'files/../../evil',
]);
archiveCase('entry-backslash', () => withEntries([{ name: 'files\\..\\evil', data: Buffer.from('x') }]), 'refuse', [
  'evil',
]);
archiveCase('entry-drive-letter', () => withEntries([{ name: 'C:/evil', data: Buffer.from('x') }]), 'refuse', [
  'C:/evil',
]);
archiveCase(
  'entry-symlink',
  () => withEntries([{ name: 'files/model.safetensors', type: 'symlink', linkname: '/etc/passwd' }]),
  'refuse',
  ['files/model.safetensors', '/etc/passwd'],
);
archiveCase(
  'entry-hardlink',
  () => withEntries([{ name: 'files/model.safetensors', type: 'link', linkname: 'manifest.json' }]),
  'refuse',
  ['files/model.safetensors'],
);
archiveCase('entry-fifo', () => withEntries([{ name: 'files/model.safetensors', type: 'fifo' }]), 'refuse', [
  'files/model.safetensors',
]);
archiveCase(
  'entry-char-device',
  () => withEntries([{ name: 'files/model.safetensors', type: 'character-device' }]),
  'refuse',
  ['files/model.safetensors'],
);
archiveCase(
  'entry-block-device',
  () => withEntries([{ name: 'files/model.safetensors', type: 'block-device' }]),
  'refuse',
  ['files/model.safetensors'],
);
archiveCase(
  'manifest-twice',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      { name: 'manifest.json', data: manifestOf() },
    ]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'file-twice',
  () =>
    withEntries([
      { name: 'files/model.safetensors', data: tensorsOk() },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['model.safetensors'],
);
archiveCase(
  'file-twice-via-dot-path',
  () =>
    withEntries([
      { name: 'files/model.safetensors', data: tensorsOk() },
      { name: './files/./model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['model.safetensors'],
);
archiveCase(
  'manifest-not-first',
  () =>
    tarBytes([
      { name: 'files/model.safetensors', data: tensorsOk() },
      { name: 'manifest.json', data: manifestOf() },
    ]),
  'refuse',
  ['manifest.json', 'files/model.safetensors'],
);
archiveCase(
  'manifest-invalid-json',
  () => tarBytes([{ name: 'manifest.json', data: Buffer.from('{"format": ') }]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-deep-100k',
  () => tarBytes([{ name: 'manifest.json', data: Buffer.from(deepObject(100000, 'format')) }]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-deep-in-details',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: Buffer.from(
          manifestOf()
            .toString()
            .replace('"details": {}', `"details": ${deepObject(100000)}`),
        ),
      },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-deep-in-signature',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: Buffer.from(
          manifestOf()
            .toString()
            .replace('"signature": {}', `"signature": {"inputs": ${deepArray(100000)}}`),
        ),
      },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'either',
  ['manifest.json'],
);
archiveCase(
  'manifest-17MB',
  () =>
    tarBytes([
      { name: 'manifest.json', data: Buffer.from(`{"format": "modelreg-archive", "x": "${big(17 << 20, 'a')}"}`) },
    ]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-wrong-format',
  () => tarBytes([{ name: 'manifest.json', data: Buffer.from('{"format": "zip", "formatVersion": 1}') }]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-format-version-2',
  () => tarBytes([{ name: 'manifest.json', data: manifestOf([stFile()], { formatVersion: 2 }) }]),
  'refuse',
  ['manifest.json'],
);
archiveCase(
  'manifest-file-path-dotdot',
  () =>
    tarBytes([{ name: 'manifest.json', data: archiveManifest('m', [{ path: '../../evil', data: Buffer.from('x') }]) }]),
  'refuse',
  ['../../evil', 'manifest.json'],
);
archiveCase(
  'manifest-file-path-absolute',
  () =>
    tarBytes([
      { name: 'manifest.json', data: archiveManifest('m', [{ path: '/etc/cron.d/x', data: Buffer.from('x') }]) },
    ]),
  'refuse',
  ['/etc/cron.d/x', 'manifest.json'],
);
archiveCase(
  'manifest-file-listed-twice',
  () => tarBytes([{ name: 'manifest.json', data: archiveManifest('m', [stFile(), stFile()]) }]),
  'refuse',
  ['model.safetensors'],
);
archiveCase(
  'manifest-sha-not-hex',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: Buffer.from(
          manifestOf()
            .toString()
            .replace(/"sha256": "[0-9a-f]+"/, '"sha256": "../../../../etc/passwd"'),
        ),
      },
    ]),
  'refuse',
  ['manifest.json', 'model.safetensors'],
);
archiveCase(
  'manifest-size-negative',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: Buffer.from(
          manifestOf()
            .toString()
            .replace(/"size": \d+/, '"size": -5'),
        ),
      },
    ]),
  'refuse',
  ['manifest.json', 'model.safetensors'],
);
archiveCase(
  'manifest-size-2^60',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: Buffer.from(
          manifestOf()
            .toString()
            .replace(/"size": \d+/, '"size": 1152921504606846976'),
        ),
      },
    ]),
  'refuse',
  ['manifest.json', 'model.safetensors'],
);
archiveCase(
  'manifest-model-dotdot',
  () => archiveBytes('../../evil', [stFile()]),
  'refuse',
  ['../../evil'],
  /model name|invalid|manifest/i,
);
archiveCase(
  'manifest-model-escapes',
  () => archiveBytes(ESC_NAME, [stFile()]),
  'refuse',
  ['evil'],
  /model name|invalid|manifest/i,
);
archiveCase(
  'manifest-path-escapes-then-show',
  () =>
    archiveBytes('m', [{ path: `${ESC_NAME}.safetensors`, data: tensorsOk() }], {
      description: ESC_NAME,
      tags: [ESC_NAME],
      source: { kind: ESC_NAME, uri: ESC_NAME },
    }),
  'either',
  ['evil'],
  P.archive,
  {
    after: [
      ['show', 'm'],
      ['list', 'm'],
      ['lineage', 'm@v1'],
      ['search', 'evil'],
    ],
  },
);
archiveCase(
  'manifest-git-hostile',
  () =>
    archiveBytes('m', [stFile()], {
      git: { commit: `--output=/tmp/x ${ESC_NAME}`, branch: ESC_NAME, subject: ESC_NAME, dirty: false, root: '/etc' },
    }),
  'either',
  [],
  P.archive,
  { after: [['show', 'm']] },
);
archiveCase(
  'file-altered-bytes',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      { name: 'files/model.safetensors', data: flipBytes(tensorsOk(), 5, 1, 100) },
    ]),
  'refuse',
  ['model.safetensors'],
  /SHA-256|corrupt|altered|match/i,
);
archiveCase(
  'file-size-differs',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      { name: 'files/model.safetensors', data: tensorsOk().subarray(0, 50) },
    ]),
  'refuse',
  ['model.safetensors'],
  /bytes|size/i,
);
archiveCase(
  'file-missing',
  () => tarBytes([{ name: 'manifest.json', data: manifestOf() }]),
  'refuse',
  ['model.safetensors'],
  /missing/i,
);
archiveCase(
  'file-unlisted',
  () =>
    withEntries([
      { name: 'files/model.safetensors', data: tensorsOk() },
      { name: 'files/extra.sh', data: Buffer.from('#!/bin/sh\n') },
    ]),
  'refuse',
  ['extra.sh'],
  /not listed|unlisted/i,
);
archiveCase(
  'unexpected-top-level-entry',
  () =>
    withEntries([
      { name: 'files/model.safetensors', data: tensorsOk() },
      { name: 'run.sh', data: Buffer.from('x') },
    ]),
  'refuse',
  ['run.sh'],
);
archiveCase(
  'entry-name-escapes',
  () => withEntries([{ name: `files/${ESC_NAME}`, data: Buffer.from('x') }]),
  'refuse',
  ['evil'],
);
archiveCase(
  'entry-name-newline-forged',
  () => withEntries([{ name: 'x\nFORGED Imported m@v1 (1 files)', data: Buffer.from('x') }]),
  'refuse',
  ['Imported m@v1'],
);
archiveCase(
  'pax-path-dotdot',
  () => withEntries([{ name: 'files/model.safetensors', data: Buffer.from('x'), pax: { path: '../../evil' } }]),
  'refuse',
  ['../../evil'],
);
archiveCase(
  'long-name-dotdot',
  () =>
    withEntries([
      {
        name: `files/${'a/'.repeat(80)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../evil`,
        data: Buffer.from('x'),
      },
    ]),
  'refuse',
  ['evil'],
);
archiveCase(
  '100k-listed-files-missing',
  () =>
    tarBytes([
      {
        name: 'manifest.json',
        data: archiveManifest(
          'm',
          Array.from({ length: 100000 }, (_, i) => ({ path: `f${i}.bin`, data: Buffer.from([i & 255]) })),
        ),
      },
    ]),
  'refuse',
  ['f0.bin'],
  /missing/i,
);
archiveCase(
  'metrics-invalid-json',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      { name: 'metrics.json', data: Buffer.from('[{') },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['metrics.json'],
);
archiveCase(
  'metrics-deep-100k',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      { name: 'metrics.json', data: Buffer.from(deepArray(100000)) },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['metrics.json'],
);
archiveCase(
  'metrics-lengths-differ',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      {
        name: 'metrics.json',
        data: Buffer.from('[{"source":"a","series":[{"key":"loss","steps":[1,2],"values":[1]}]}]'),
      },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'refuse',
  ['metrics.json'],
);
archiveCase(
  'metrics-1M-series',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      {
        name: 'metrics.json',
        data: Buffer.from(
          JSON.stringify([
            {
              source: 'a',
              series: Array.from({ length: 1_000_000 }, (_, i) => ({ key: `k${i}`, steps: [1], values: [1] })),
            },
          ]),
        ),
      },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'either',
  ['metrics.json'],
);
archiveCase(
  'metrics-escape-keys',
  () =>
    tarBytes([
      { name: 'manifest.json', data: manifestOf() },
      {
        name: 'metrics.json',
        data: Buffer.from(
          JSON.stringify([
            {
              source: ESC_NAME,
              series: [{ key: ESC_NAME, steps: [1], values: [1] }],
              best: { key: ESC_NAME, value: 1 },
            },
          ]),
        ),
      },
      { name: 'files/model.safetensors', data: tensorsOk() },
    ]),
  'either',
  ['metrics.json'],
  P.archive,
  { after: [['show', 'm']] },
);
archiveCase(
  'declared-size-10GB-truncated',
  async () => {
    const b = await validArchive();
    const h = Buffer.from(b.subarray(1536, 2048));
    return Buffer.concat([b.subarray(0, 1536), h, Buffer.alloc(1024)]).subarray(0, 3000);
  },
  'refuse',
  ['model.safetensors'],
);
for (const [i, cut] of [0.05, 0.3, 0.6, 0.9, 0.99].entries())
  archiveCase(
    `truncated-${i}`,
    async () => {
      const b = await validArchive();
      return b.subarray(0, Math.floor(b.length * cut));
    },
    'refuse',
    ['manifest.json', 'metrics.json', 'model.safetensors'],
  );
for (const [i, cut] of [0.1, 0.5, 0.9].entries())
  archiveCase(
    `gzip-truncated-${i}`,
    async () => {
      const b = gzip(await validArchive());
      return b.subarray(0, Math.floor(b.length * cut));
    },
    'refuse',
    [],
    P.archive,
    {},
    'archive.tar.gz',
  );
for (let s = 1; s <= 2; s++)
  archiveCase(
    `gzip-of-random-${s}`,
    () => gzip(randomBytes(400 + s, 5000)),
    'refuse',
    [],
    P.archive,
    {},
    'archive.tgz',
  );
for (let s = 1; s <= 2; s++) archiveCase(`random-bytes-${s}`, () => randomBytes(410 + s, 3000 * s), 'refuse', []);
archiveCase(
  'gzip-magic-then-garbage',
  () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), randomBytes(420, 500)]),
  'refuse',
  [],
);
archiveCase('empty-file', () => Buffer.alloc(0), 'refuse', []);
archiveCase('zero-blocks-only', () => Buffer.alloc(1024), 'refuse', []);
archiveCase('one-byte', () => Buffer.from([0]), 'refuse', []);
for (let s = 1; s <= 3; s++)
  archiveCase(
    `header-flips-seed${s}`,
    async () => {
      const b = await validArchive();
      return flipBytes(b, 500 + s, 2, 0).subarray(0, b.length);
    },
    'either',
    ['manifest.json', 'metrics.json', 'model.safetensors'],
  );
add('archive', 'folder-with-link-outside', async (dir) => {
  await put(dir, 'exported/manifest.json', manifestOf());
  await fsp.mkdir(path.join(dir, 'exported/files'), { recursive: true });
  await fsp.symlink('/etc/passwd', path.join(dir, 'exported/files/model.safetensors'));
  return {
    args: ['import-archive', 'exported'],
    expect: 'refuse',
    names: ['model.safetensors'],
    problem: /link|regular|outside/i,
  };
});
add('archive', 'folder-with-fifo-file', async (dir) => {
  await put(dir, 'exported/manifest.json', manifestOf());
  await fsp.mkdir(path.join(dir, 'exported/files'), { recursive: true });
  mkfifo(path.join(dir, 'exported/files/model.safetensors'));
  return { args: ['import-archive', 'exported'], expect: 'refuse', names: ['model.safetensors'], problem: P.special };
});
add('archive', 'folder-without-manifest', async (dir) => {
  await put(dir, 'exported/files/model.safetensors', tensorsOk());
  return { args: ['import-archive', 'exported'], expect: 'refuse', names: ['exported'], problem: /manifest/ };
});
add('archive', 'folder-manifest-link-outside', async (dir) => {
  await put(dir, 'elsewhere/manifest.json', manifestOf());
  await put(dir, 'exported/files/model.safetensors', tensorsOk());
  await fsp.symlink(path.join(dir, 'elsewhere/manifest.json'), path.join(dir, 'exported/manifest.json'));
  return { args: ['import-archive', 'exported'], expect: 'either', names: ['manifest.json'], problem: P.link };
});
add('archive', 'folder-valid', async (dir) => {
  await put(dir, 'exported/manifest.json', manifestOf());
  await put(dir, 'exported/files/model.safetensors', tensorsOk());
  return { args: ['import-archive', 'exported'], expect: 'accept', names: [], problem: P.any };
});

// ---------------------------------------------------------------- datasets

function datasetCase(
  id: string,
  make: (dir: string) => Promise<{ target: string; names: string[] }>,
  expect: Expect,
  extra: Partial<Run> = {},
) {
  add('dataset', id, async (dir) => {
    const { target, names } = await make(dir);
    return { args: ['dataset', 'add', target], expect, names, problem: P.dataset, ...extra };
  });
}
const csvCase = (
  id: string,
  text: string | Buffer | (() => string | Buffer),
  expect: Expect,
  extra: Partial<Run> = {},
  file = 'data.csv',
) =>
  datasetCase(
    id,
    async (dir) => ({
      target: (await put(dir, file, typeof text === 'function' ? text() : text), file),
      names: [file],
    }),
    expect,
    extra,
  );
csvCase('csv-valid', 'x1,x2,label\n1,0,a\n0,1,b\n', 'accept');
csvCase('csv-no-label-column', 'x1,x2,y\n1,0,a\n', 'refuse');
csvCase('csv-empty', '', 'refuse');
csvCase('csv-header-only', 'x1,label\n', 'refuse');
csvCase(
  'csv-100k-columns',
  () =>
    `${Array.from({ length: 100000 }, (_, i) => `c${i}`).join(',')},label\n${Array(100000).fill('1').join(',')},a\n`,
  'either',
);
csvCase(
  'csv-1M-columns',
  () =>
    `${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')},label\n${Array(1_000_000).fill('1').join(',')},a\n`,
  'either',
);
csvCase('csv-ragged', 'x1,x2,label\n1,a\n1,2,3,4,5,b\n\n', 'either');
csvCase('csv-nul-bytes', 'x1,label\n1\u0000,a\u0000\n', 'either');
csvCase(
  'csv-invalid-utf8',
  Buffer.from([0x78, 0x2c, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x0a, 0x31, 0x2c, 0xff, 0xfe, 0x0a]),
  'either',
);
csvCase('csv-unclosed-quote', 'x1,label\n1,"a\n2,b\n', 'either');
csvCase('csv-20MB-line', () => `x1,label\n${big(20 << 20, '7')},a\n`, 'either');
csvCase(
  'csv-200k-rows',
  () =>
    'x1,x2,label\n' + Array.from({ length: 200000 }, (_, i) => `${i % 7},${i % 3},${'abc'[i % 3]}`).join('\n') + '\n',
  'accept',
);
csvCase('csv-non-numeric-features', 'x1,x2,label\nfoo,bar,a\n1e999,-1e999,b\nNaN,Infinity,a\n', 'either');
csvCase('csv-label-escapes', `x1,label\n1,"${ESC_NAME}"\n2,b\n`, 'either', { after: [['datasets']] });
csvCase(
  'csv-1M-distinct-labels',
  () => 'x,label\n' + Array.from({ length: 1_000_000 }, (_, i) => `1,l${i}`).join('\n') + '\n',
  'either',
);
csvCase('csv-binary-garbage', randomBytes(600, 20000), 'either');
csvCase('jsonl-invalid-line', '{"x": 1, "label": "a"}\n{"x": \n', 'refuse', {}, 'data.jsonl');
csvCase(
  'jsonl-deep-line',
  () => `{"x": 1, "label": "a"}\n{"x": ${deepArray(100000)}, "label": "b"}\n`,
  'either',
  {},
  'data.jsonl',
);
csvCase('jsonl-non-objects', '[1,2]\n"x"\n3\n', 'refuse', {}, 'data.jsonl');
csvCase('jsonl-missing-label', '{"x": 1}\n{"x": 2}\n', 'refuse', {}, 'data.jsonl');
csvCase('jsonl-label-object', '{"x": 1, "label": {"a": [1]}}\n{"x": 2, "label": null}\n', 'either', {}, 'data.jsonl');
csvCase(
  'jsonl-proto-keys',
  '{"__proto__": 1, "x": 1, "label": "a"}\n{"constructor": 2, "x": 1, "label": "b"}\n',
  'either',
  {},
  'data.jsonl',
);
const npzCase = (
  id: string,
  members: () => [string, Buffer][],
  expect: Expect,
  names: string[] = ['data.npz'],
  extra: Partial<Run> = {},
) =>
  datasetCase(
    id,
    async (dir) => {
      await writeZip(path.join(dir, 'data.npz'), members());
      return { target: 'data.npz', names };
    },
    expect,
    extra,
  );
const xOk = () => npyBytes('<f4', [3, 2], f32([1, 2, 3, 4, 5, 6]));
const yOk = () => npyBytes('<i8', [3], i64([0, 1, 0]));
npzCase(
  'npz-valid',
  () => [
    ['x.npy', xOk()],
    ['y.npy', yOk()],
  ],
  'accept',
);
datasetCase(
  'npz-not-a-zip',
  async (dir) => ({ target: (await put(dir, 'data.npz', randomBytes(601, 500)), 'data.npz'), names: ['data.npz'] }),
  'refuse',
);
datasetCase(
  'npz-truncated',
  async (dir) => {
    await writeZip(path.join(dir, 'full.npz'), [
      ['x.npy', xOk()],
      ['y.npy', yOk()],
    ]);
    const b = await fsp.readFile(path.join(dir, 'full.npz'));
    await put(dir, 'data.npz', b.subarray(0, Math.floor(b.length / 2)));
    await fsp.rm(path.join(dir, 'full.npz'));
    return { target: 'data.npz', names: ['data.npz'] };
  },
  'refuse',
);
npzCase(
  'npy-header-garbage',
  () => [
    ['x.npy', Buffer.concat([Buffer.from('\x93NUMPY\x01\x00\x10\x00', 'latin1'), Buffer.from('garbage!garbage\n')])],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-shape-2^60',
  () => [
    ['x.npy', npyBytes('<f4', [2 ** 60, 2], f32([1, 2]))],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-shape-negative',
  () => [
    ['x.npy', npyBytes('<f4', [-3, 2], f32([1, 2]))],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-dtype-unknown',
  () => [
    ['x.npy', npyBytes('<c32', [3, 2], Buffer.alloc(192))],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
add('dataset', 'npy-object-dtype-pickle', async (dir) => {
  const marker = path.join(dir, 'EXECUTED');
  await writeZip(path.join(dir, 'data.npz'), [
    ['x.npy', npyBytes('|O', [3], callPickle('posix', 'system', `touch ${marker}`))],
    ['y.npy', yOk()],
  ]);
  return {
    args: ['dataset', 'add', 'data.npz'],
    expect: 'refuse',
    names: ['x.npy', 'data.npz'],
    problem: /object|pickle|dtype/i,
    markers: [marker],
  };
});
npzCase(
  'npy-fortran-order',
  () => [
    ['x.npy', npyBytes('<f4', [3, 2], f32([1, 2, 3, 4, 5, 6]), { fortran: true })],
    ['y.npy', yOk()],
  ],
  'either',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-labels-float',
  () => [
    ['x.npy', xOk()],
    ['y.npy', npyBytes('<f4', [3], f32([0, 1, 0.5]))],
  ],
  'refuse',
  ['y.npy', 'data.npz'],
);
npzCase(
  'npy-row-mismatch',
  () => [
    ['x.npy', xOk()],
    ['y.npy', npyBytes('<i8', [2], i64([0, 1]))],
  ],
  'refuse',
  ['x.npy', 'y.npy', 'data.npz'],
);
npzCase(
  'npy-negative-label',
  () => [
    ['x.npy', xOk()],
    ['y.npy', npyBytes('<i8', [3], i64([0, -1, 0]))],
  ],
  'refuse',
  ['y.npy', 'data.npz'],
);
npzCase(
  'npy-huge-label',
  () => [
    ['x.npy', xOk()],
    ['y.npy', npyBytes('<i8', [3], i64([0, 2 ** 40, 0]))],
  ],
  'refuse',
  ['y.npy', 'data.npz'],
);
npzCase(
  'npy-data-truncated',
  () => [
    ['x.npy', npyBytes('<f4', [3, 2], f32([1, 2]))],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-header-deep',
  () => [
    ['x.npy', npyBytes('', '', Buffer.alloc(0), { rawHeader: '{'.repeat(20000) })],
    ['y.npy', yOk()],
  ],
  'refuse',
  ['x.npy', 'data.npz'],
);
npzCase(
  'npy-header-64k',
  () => [
    [
      'x.npy',
      npyBytes('', '', Buffer.alloc(0), {
        rawHeader: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'x': '${'a'.repeat(65000)}'}`,
      }),
    ],
    ['y.npy', yOk()],
  ],
  'either',
  ['x.npy', 'data.npz'],
);
datasetCase(
  'npz-member-dotdot',
  async (dir) => {
    await writeHostileZip(path.join(dir, 'data.npz'), [
      ['../../x.npy', xOk()],
      ['/tmp/y.npy', yOk()],
    ]);
    return { target: 'data.npz', names: ['x.npy', 'data.npz'] };
  },
  'either',
);
npzCase(
  'npz-member-escapes',
  () => [
    [`${ESC_NAME}.npy`, xOk()],
    ['y.npy', yOk()],
  ],
  'either',
  ['evil', 'data.npz'],
);
npzCase(
  'npz-no-pair',
  () => [
    ['a.npy', xOk()],
    ['b.npy', yOk()],
  ],
  'refuse',
);
datasetCase(
  'npy-folder-valid',
  async (dir) => {
    await put(dir, 'arr/inputs.npy', xOk());
    await put(dir, 'arr/labels.npy', yOk());
    return { target: 'arr', names: [] };
  },
  'accept',
);
datasetCase(
  'npy-folder-labels-2d',
  async (dir) => {
    await put(dir, 'arr/inputs.npy', xOk());
    await put(dir, 'arr/labels.npy', npyBytes('<i8', [3, 2], i64([0, 1, 0, 1, 0, 1])));
    return { target: 'arr', names: ['labels.npy'] };
  },
  'refuse',
);
datasetCase(
  'npy-folder-inputs-truncated',
  async (dir) => {
    await put(dir, 'arr/inputs.npy', xOk().subarray(0, 30));
    await put(dir, 'arr/labels.npy', yOk());
    return { target: 'arr', names: ['inputs.npy'] };
  },
  'refuse',
);
const imgDataset = async (dir: string, extra: (root: string) => Promise<void> = async () => undefined) => {
  await put(dir, 'ds/red/a.png', solidPng([255, 0, 0]));
  await put(dir, 'ds/blue/b.png', solidPng([0, 0, 255]));
  await extra(path.join(dir, 'ds'));
  return { target: 'ds', names: ['ds'] };
};
const pngHeaderOnly = (w: number, h: number) => {
  const b = Buffer.from(solidPng([1, 1, 1]));
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
};
datasetCase('images-valid', (d) => imgDataset(d), 'accept');
datasetCase(
  'images-corrupt-png',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, 'red/bad.png', '\x89PNG\r\n\x1a\n garbage');
    }),
  'either',
);
datasetCase(
  'images-zero-byte',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, 'red/empty.png', '');
      await put(r, 'blue/empty.jpg', '');
    }),
  'either',
);
datasetCase(
  'images-png-bomb-header',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, 'red/bomb.png', pngHeaderOnly(100000, 100000));
    }),
  'either',
);
datasetCase(
  'images-jpeg-garbage',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, 'blue/x.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(602, 3000)]));
    }),
  'either',
);
datasetCase(
  'images-class-names-escapes',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, `${ESC_NAME}/c.png`, solidPng([0, 255, 0]));
    }),
  'either',
  { after: [['datasets']] },
);
datasetCase(
  'images-root-named-escapes',
  async (dir) => {
    await put(dir, `ds-${ESC_NAME}/red/a.png`, solidPng([255, 0, 0]));
    await put(dir, `ds-${ESC_NAME}/blue/b.png`, solidPng([0, 0, 255]));
    return { target: `ds-${ESC_NAME}`, names: ['evil'] };
  },
  'either',
  { after: [['datasets']] },
);
datasetCase(
  'images-inconsistent-splits',
  (d) =>
    imgDataset(d, async (r) => {
      await put(r, 'train/red/c.png', solidPng([255, 0, 0]));
    }),
  'refuse',
);
datasetCase(
  'images-not-in-class-folders',
  async (dir) => {
    await put(dir, 'ds/a.png', solidPng([255, 0, 0]));
    await put(dir, 'ds/b.png', solidPng([0, 0, 255]));
    return { target: 'ds', names: ['ds'] };
  },
  'refuse',
);
datasetCase(
  'images-1000-empty-classes',
  (d) =>
    imgDataset(d, async (r) => {
      for (let i = 0; i < 1000; i++) await fsp.mkdir(path.join(r, `c${i}`));
    }),
  'either',
);
datasetCase(
  'images-link-inside',
  (d) =>
    imgDataset(d, async (r) => {
      await fsp.symlink(path.join(r, 'red/a.png'), path.join(r, 'blue/a-link.png'));
    }),
  'either',
);
datasetCase(
  'images-png-wrong-crc',
  (d) =>
    imgDataset(d, async (r) => {
      const b = Buffer.from(solidPng([1, 2, 3]));
      b[29] ^= 0xff;
      await put(r, 'red/crc.png', b);
    }),
  'either',
);
datasetCase(
  'several-tables',
  async (dir) => {
    await put(dir, 'ds/a.csv', 'x,label\n1,a\n');
    await put(dir, 'ds/b.csv', 'x,label\n1,a\n');
    return { target: 'ds', names: ['a.csv', 'ds'] };
  },
  'refuse',
);
datasetCase(
  'single-npy',
  async (dir) => ({ target: (await put(dir, 'x.npy', xOk()), 'x.npy'), names: ['x.npy'] }),
  'refuse',
);
datasetCase('missing-path', async () => ({ target: 'nope.csv', names: ['nope.csv'] }), 'refuse');

// ---------------------------------------------------------------- validate (the editor's config check on the command line)

function validateCase(id: string, text: string | Buffer | (() => string | Buffer), expect: Expect, problem = P.json) {
  add('validate', id, async (dir) => {
    await put(dir, 'config.json', typeof text === 'function' ? text() : text);
    return {
      args: ['validate', 'config.json', '--template', 'image-classification'],
      expect,
      names: ['config.json'],
      problem,
      stores: false,
    };
  });
}
validateCase('invalid-json', '{"labels": [', 'refuse');
validateCase('deep-arrays-100k', deepArray(100000), 'either');
validateCase('deep-objects-100k', deepObject(100000), 'either');
validateCase('template-deep-10k', `{"$template": "image-classification", "labels": ${deepArray(10000)}}`, 'either');
validateCase('template-deep-100k', `{"$template": "image-classification", "labels": ${deepObject(100000)}}`, 'either');
validateCase('binary-garbage', randomBytes(700, 4000), 'refuse');
validateCase('17MB', () => `{"x": "${big(17 << 20, 'a')}"}`, 'either');
validateCase(
  'escape-keys-and-values',
  JSON.stringify({ $template: 'image-classification', [ESC_NAME]: 1, labels: [ESC_NAME], description: ESC_NAME }),
  'either',
);
validateCase('escape-in-syntax-error', '{"a": \x1b[2J\x1b]0;x\x07FORGED }', 'refuse');
validateCase('bom', '\ufeff{"$template": "image-classification"}', 'either');
validateCase(
  '100k-keys',
  () => JSON.stringify(Object.fromEntries(Array.from({ length: 100000 }, (_, i) => [`k${i}`, i]))),
  'either',
);
validateCase('template-object', '{"$template": {"a": 1}}', 'either');
validateCase('template-path-traversal', '{"$template": "../../../../etc/passwd"}', 'either', /template|passwd/i);
validateCase('template-escapes', JSON.stringify({ $template: ESC_NAME }), 'either', /template|evil/i);
add('validate', 'missing-file', async () => ({
  args: ['validate', 'nope.json'],
  expect: 'refuse',
  names: ['nope.json'],
  problem: /no such|not found|cannot read/i,
  stores: false,
}));
add('validate', 'directory', async (dir) => {
  await fsp.mkdir(path.join(dir, 'config.json'));
  return {
    args: ['validate', 'config.json'],
    expect: 'refuse',
    names: ['config.json'],
    problem: /folder|directory|EISDIR|cannot read|not a (regular )?file/i,
    stores: false,
  };
});

// modelreg.json (training recipes): `validate` reads it as `train` does.
function recipeCase(id: string, make: (dir: string) => Promise<unknown>, expect: Expect, problem: RegExp) {
  add('validate', `modelreg-json-${id}`, async (dir) => {
    await make(dir);
    return { args: ['validate', 'modelreg.json'], expect, names: ['modelreg.json'], problem, stores: false };
  });
}
const recipeText = (text: string | Buffer) => (dir: string) => put(dir, 'modelreg.json', text);
recipeCase('fifo', async (dir) => mkfifo(path.join(dir, 'modelreg.json')), 'refuse', P.special);
recipeCase(
  'link-to-etc-passwd',
  async (dir) => fsp.symlink('/etc/passwd', path.join(dir, 'modelreg.json')),
  'refuse',
  P.link,
);
add('validate', 'modelreg-json-link-out-of-folder', async (dir) => {
  await put(dir, 'outside/modelreg.json', '{"train": {"a": {"command": ["x"]}}}');
  await fsp.mkdir(path.join(dir, 'ws'));
  await fsp.symlink(path.join(dir, 'outside/modelreg.json'), path.join(dir, 'ws/modelreg.json'));
  return {
    args: ['validate', 'ws/modelreg.json'],
    expect: 'refuse',
    names: ['modelreg.json'],
    problem: P.link,
    stores: false,
  };
});
recipeCase('deep-arrays-100k', recipeText(`{"train": {"a": {"command": ${deepArray(100000)}}}}`), 'either', P.json);
recipeCase('deep-objects-100k', recipeText(`{"train": ${deepObject(100000)}}`), 'either', P.json);
recipeCase('2MB', recipeText(`{"train": {}, "x": "${'a'.repeat(2 << 20)}"}`), 'refuse', /too large/);
recipeCase(
  'escape-names',
  recipeText(
    JSON.stringify({
      train: { [ESC_NAME]: { command: [`\${${ESC_NAME}}`], [ESC_NAME]: 1, env: { [ESC_NAME]: ESC_NAME } } },
    }),
  ),
  'refuse',
  /recipe|placeholder|not allowed|name/i,
);
recipeCase('binary-garbage', recipeText(randomBytes(701, 4000)), 'refuse', P.json);

// ---------------------------------------------------------------- convert (hostile files put in through an archive, which stores without inspecting)

/** A GRU graph as torch.onnx exports it (X [seq, batch, in] → Y, Y_h). */
export function gruModelBytes(hidden = 4, input = 3, directions = 1): Buffer {
  const floats = (n: number) => f32(Array.from({ length: n }, (_, i) => ((i % 5) - 2) / 10));
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  });
  return onnxFrom({
    ir_version: 8,
    opset_import: [{ domain: '', version: 14 }],
    producer_name: 'pytorch',
    graph: {
      name: 'gru',
      node: [
        {
          op_type: 'GRU',
          name: 'gru',
          input: ['X', 'W', 'R', 'B'],
          output: ['Y', 'Y_h'],
          attribute: [
            { name: 'hidden_size', type: 2, i: hidden },
            { name: 'linear_before_reset', type: 2, i: 1 },
            ...(directions === 2 ? [{ name: 'direction', type: 3, s: Buffer.from('bidirectional') }] : []),
          ],
        },
      ],
      initializer: [
        {
          name: 'W',
          dims: [directions, 3 * hidden, input],
          data_type: 1,
          raw_data: floats(directions * 3 * hidden * input),
        },
        {
          name: 'R',
          dims: [directions, 3 * hidden, hidden],
          data_type: 1,
          raw_data: floats(directions * 3 * hidden * hidden),
        },
        { name: 'B', dims: [directions, 6 * hidden], data_type: 1, raw_data: floats(directions * 6 * hidden) },
      ],
      input: [info('X', ['seq', 'batch', input])],
      output: [info('Y', ['seq', directions, 'batch', hidden]), info('Y_h', [directions, 'batch', hidden])],
    },
  });
}

function convertCase(
  id: string,
  file: string,
  bytes: (marker: string) => Buffer | Promise<Buffer>,
  to: string,
  expect: Expect,
  extra: Partial<Run> & { params?: string[] } = {},
) {
  add('convert', id, async (dir) => {
    const marker = path.join(dir, 'EXECUTED');
    const data = await bytes(`touch ${marker}`);
    await put(dir, 'in/m.tar', await archiveBytes('m', [{ path: file, data }]));
    const { params = [], ...rest } = extra;
    return {
      prepare: [['import-archive', 'in/m.tar']],
      args: ['convert', 'm@v1', '--to', to, ...params.flatMap((p) => ['--param', p])],
      expect,
      names: [file],
      problem: P.convert,
      markers: [marker],
      ...rest,
    };
  });
}
const st = (header: Record<string, unknown>, data = 64) => stJson(header, data);
convertCase(
  'fp16-valid',
  'model.safetensors',
  () => safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [64, 64], fill: 0.5 }]),
  'fp16',
  'accept',
  { after: [['verify'], ['show', 'm@v2']] },
);
convertCase('fp16-header-length-huge', 'model.safetensors', () => stRaw('{}', 64, 2n ** 63n), 'fp16', 'refuse');
convertCase('fp16-header-not-json', 'model.safetensors', () => stRaw('{nope', 64), 'fp16', 'refuse');
convertCase('fp16-dtype-Q99', 'model.safetensors', () => st({ w: t('Q99', [16], [0, 64]) }), 'fp16', 'refuse');
convertCase(
  'fp16-offsets-past-end',
  'model.safetensors',
  () => st({ w: t('F32', [16], [0, 64]) }, 16),
  'fp16',
  'refuse',
);
convertCase(
  'fp16-offsets-overlap',
  'model.safetensors',
  () => st({ a: t('F32', [16], [0, 64]), b: t('F32', [16], [0, 64]) }),
  'fp16',
  'refuse',
);
convertCase(
  'fp16-shape-lies',
  'model.safetensors',
  () => st({ w: t('F32', [2 ** 20, 2 ** 20], [0, 64]) }),
  'fp16',
  'refuse',
);
convertCase('bf16-shape-negative', 'model.safetensors', () => st({ w: t('F32', [-16], [0, 64]) }), 'bf16', 'refuse');
convertCase(
  'fp16-metadata-deep',
  'model.safetensors',
  () => stRaw(`{"__metadata__":${deepObject(100000)},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'fp16',
  'refuse',
);
convertCase(
  'fp16-duplicate-keys',
  'model.safetensors',
  () => stRaw(`{"w":${JSON.stringify(t('F32', [16], [0, 64]))},"w":${JSON.stringify(t('F32', [16], [0, 64]))}}`, 64),
  'fp16',
  'refuse',
);
convertCase('fp16-F4-odd', 'model.safetensors', () => st({ w: t('F4', [3], [0, 2]) }, 2), 'fp16', 'refuse');
convertCase(
  'fp16-tensor-names-escapes',
  'model.safetensors',
  () => safetensorsBytes([{ name: ESC_NAME, dtype: 'F32', shape: [4] }], { [ESC_NAME]: ESC_NAME }),
  'fp16',
  'either',
  { after: [['show', 'm']] },
);
convertCase(
  'fp32-truncated-data',
  'model.safetensors',
  () => safetensorsBytes([{ name: 'w', dtype: 'F16', shape: [64] }]).subarray(0, 100),
  'fp32',
  'refuse',
);
convertCase('onnx-fp16-garbage', 'model.onnx', () => randomBytes(800, 2000), 'onnx-fp16', 'refuse');
convertCase('onnx-int8-truncated', 'model.onnx', () => onnxModelBytes().subarray(0, 60), 'onnx-int8', 'refuse');
convertCase(
  'onnx-fp16-external-data-outside',
  'model.onnx',
  () =>
    onnxFrom({
      ...tinyGraph([{ dim_value: 4 }]),
      graph: {
        ...tinyGraph([{ dim_value: 4 }]).graph,
        initializer: [
          {
            name: 'W',
            dims: [4, 3],
            data_type: 1,
            data_location: 1,
            external_data: [{ key: 'location', value: '../../../../../../etc/passwd' }],
          },
        ],
      },
    }),
  'onnx-fp16',
  'refuse',
);
convertCase('onnx-fp16-nested-if-100k', 'model.onnx', () => nestedIfModel(100000), 'onnx-fp16', 'refuse');
convertCase('onnx-fp16-gru', 'model.onnx', () => gruModelBytes(), 'onnx-fp16', 'either');
convertCase('onnx-fp16-gru-bidirectional', 'model.onnx', () => gruModelBytes(4, 3, 2), 'onnx-fp16', 'either');
convertCase('onnx-int8-valid', 'model.onnx', () => onnxModelBytes({ features: 16, classes: 8 }), 'onnx-int8', 'either');
convertCase(
  'safetensors-from-posix-system-pickle',
  'model.pt',
  async (cmd) => {
    const f = `/tmp/pk-${process.pid}-${Math.random()}`;
    await writeTorchZip(f, { prefix: 'model', pickle: callPickle('posix', 'system', cmd) });
    const b = await fsp.readFile(f);
    await fsp.rm(f);
    return b;
  },
  'safetensors',
  'refuse',
  { problem: /posix\.system|refus|not allowed|unsafe|global/i },
);
convertCase(
  'safetensors-from-hidden-payload',
  'pytorch_model.bin',
  async (cmd) => {
    const f = `/tmp/pk-${process.pid}-${Math.random()}`;
    await writeTorchZip(f, { prefix: 'model', pickle: stateDictWithCall('os', 'system', cmd) });
    const b = await fsp.readFile(f);
    await fsp.rm(f);
    return b;
  },
  'safetensors',
  'refuse',
  { problem: /os\.system|refus|not allowed|unsafe|global/i },
);
convertCase(
  'safetensors-from-deep-pickle',
  'model.pt',
  async () => {
    const f = `/tmp/pk-${process.pid}-${Math.random()}`;
    await writeTorchZip(f, { prefix: 'model', pickle: deepPickle(100000) });
    const b = await fsp.readFile(f);
    await fsp.rm(f);
    return b;
  },
  'safetensors',
  'refuse',
);
convertCase(
  'safetensors-from-garbage-zip',
  'model.pt',
  () => Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(801, 500)]),
  'safetensors',
  'refuse',
);
convertCase('param-unknown', 'model.safetensors', () => tensorsOk(), 'fp16', 'refuse', {
  params: ['nonsense=1'],
  names: ['nonsense'],
  problem: /param|nonsense|unknown/i,
});
convertCase('param-hostile-value', 'model.safetensors', () => tensorsOk(), 'fp16', 'refuse', {
  params: [`keep=${ESC_NAME}`],
  names: ['keep', 'evil'],
  problem: /param|keep|tensor|match|no /i,
  expect: 'either',
});
convertCase('to-unknown', 'model.safetensors', () => tensorsOk(), '../../bin/sh', 'refuse', {
  names: ['../../bin/sh'],
  problem: /converter|profile/i,
});

// ---------------------------------------------------------------- evaluate

function evaluateCase(
  id: string,
  make: (dir: string) => Promise<{ setup?: string[][]; prepare?: string[][]; args?: string[]; names: string[] }>,
  expect: Expect,
  extra: Partial<Run> = {},
) {
  add('evaluate', id, async (dir) => {
    const m = await make(dir);
    return {
      setup: m.setup,
      prepare: m.prepare,
      args: m.args ?? ['evaluate', 'm@v1', '--dataset', 'd'],
      expect,
      names: m.names,
      problem: P.evaluate,
      ...extra,
    };
  });
}
const mlp = () =>
  onnxModelBytes({ features: 2, classes: 3, weights: [1, 0, 0, 0, 1, 0], bias: [0, 0, 0.5], softmax: false });
async function goodModel(dir: string, onnx = mlp(), config?: unknown): Promise<string[]> {
  await put(dir, 'model/model.onnx', onnx);
  if (config) await put(dir, 'model/config.json', JSON.stringify(config));
  return ['import', 'model', '--model', 'm'];
}
const csvSetup = async (dir: string, text: string, file = 'data.csv') => {
  await put(dir, file, text);
  return ['dataset', 'add', file, '--name', 'd'];
};
evaluateCase(
  'valid',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n0,0,c\n')],
    names: [],
  }),
  'accept',
  { after: [['evaluations', 'm@v1']] },
);
evaluateCase(
  'labels-with-escapes',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, `x1,x2,label\n1,0,"${ESC_NAME}"\n0,1,b\n0,0,"c\x1b]0;t\x07"\n`)],
    names: [],
  }),
  'either',
);
evaluateCase(
  'nan-and-huge-features',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\nNaN,1,a\n1e308,-1e308,b\nInfinity,0,c\n')],
    names: [],
  }),
  'either',
);
evaluateCase(
  'width-mismatch',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,x3,x4,x5,label\n1,0,0,0,0,a\n0,1,0,0,0,b\n')],
    names: ['data.csv', 'x1', 'input'],
  }),
  'refuse',
);
evaluateCase(
  'dataset-changed-after-registration',
  async (dir) => {
    return { setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')], names: ['data.csv'] };
  },
  'refuse',
  { problem: /changed|SHA|hash|modified|differs/i },
);
evaluateCase(
  'dataset-deleted-after-registration',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
    names: ['data.csv'],
  }),
  'either',
  { problem: /missing|no such|not found|gone|cannot read|changed/i },
);
evaluateCase(
  'onnx-garbage-via-archive',
  async (dir) => {
    await put(dir, 'in/m.tar', await archiveBytes('m', [{ path: 'model.onnx', data: randomBytes(900, 3000) }]));
    return {
      setup: [await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
      prepare: [['import-archive', 'in/m.tar']],
      names: ['model.onnx'],
    };
  },
  'refuse',
);
evaluateCase(
  'onnx-nested-if-via-archive',
  async (dir) => {
    await put(dir, 'in/m.tar', await archiveBytes('m', [{ path: 'model.onnx', data: nestedIfModel(100000) }]));
    return {
      setup: [await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
      prepare: [['import-archive', 'in/m.tar']],
      names: ['model.onnx'],
    };
  },
  'refuse',
);
evaluateCase(
  'onnx-gru-via-archive',
  async (dir) => {
    await put(dir, 'in/m.tar', await archiveBytes('m', [{ path: 'model.onnx', data: gruModelBytes() }]));
    return {
      setup: [await csvSetup(dir, 'x1,x2,x3,label\n1,0,0,a\n0,1,0,b\n')],
      prepare: [['import-archive', 'in/m.tar']],
      names: ['model.onnx'],
    };
  },
  'either',
);
evaluateCase(
  'more-classes-than-model',
  async (dir) => ({
    setup: [
      await goodModel(dir, onnxModelBytes({ features: 2, classes: 50 })),
      await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n'),
    ],
    names: [],
  }),
  'either',
);
evaluateCase(
  'images-corrupt-and-bomb',
  async (dir) => {
    const config = {
      preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 },
      labels: ['red', 'green', 'blue'],
    };
    await put(dir, 'ds/red/a.png', solidPng([255, 0, 0]));
    await put(dir, 'ds/blue/b.png', solidPng([0, 0, 255]));
    await put(dir, 'ds/red/bad.png', '\x89PNG\r\n\x1a\n garbage');
    await put(dir, 'ds/blue/bomb.png', pngHeaderOnly(100000, 100000));
    await put(dir, 'ds/blue/zero.jpg', '');
    await put(dir, `ds/green/${ESC_NAME}.png`, Buffer.from('not an image'));
    return {
      setup: [await goodModel(dir, channelMeanModelBytes(), config), ['dataset', 'add', 'ds', '--name', 'd']],
      names: [],
    };
  },
  'either',
  { after: [['evaluations', 'm@v1']] },
);
evaluateCase(
  'images-large-png',
  async (dir) => {
    const config = {
      preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 },
      labels: ['red', 'green', 'blue'],
    };
    const img = new PNG({ width: 3000, height: 3000 });
    await put(dir, 'ds/red/big.png', PNG.sync.write(img));
    await put(dir, 'ds/blue/b.png', solidPng([0, 0, 255]));
    return {
      setup: [await goodModel(dir, channelMeanModelBytes(), config), ['dataset', 'add', 'ds', '--name', 'd']],
      names: [],
    };
  },
  'either',
);
evaluateCase(
  'image-root-replaced-by-link-outside',
  async (dir) => {
    const config = {
      preprocessing: { size: [4, 4], scale: 1 / 255, mean: 0, std: 1 },
      labels: ['red', 'green', 'blue'],
    };
    await put(dir, 'ds/red/a.png', solidPng([255, 0, 0]));
    await put(dir, 'ds/blue/b.png', solidPng([0, 0, 255]));
    return {
      setup: [await goodModel(dir, channelMeanModelBytes(), config), ['dataset', 'add', 'ds', '--name', 'd']],
      names: ['a.png', 'ds'],
    };
  },
  'refuse',
  { problem: /link|outside|changed|SHA|hash/i },
);
for (const batch of ['0', '-1', '1e12', 'abc']) {
  evaluateCase(
    `batch-${batch}`,
    async (dir) => ({
      setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
      args: ['evaluate', 'm@v1', '--dataset', 'd', '--batch', batch],
      names: ['batch', batch],
    }),
    'either',
    { problem: /batch/i },
  );
}
evaluateCase(
  'split-unknown',
  async (dir) => ({
    setup: [await goodModel(dir), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
    args: ['evaluate', 'm@v1', '--dataset', 'd', '--split', ESC_NAME],
    names: ['split', 'evil'],
  }),
  'refuse',
  { problem: /split/i },
);
evaluateCase(
  'dataset-unknown',
  async (dir) => ({
    setup: [await goodModel(dir)],
    args: ['evaluate', 'm@v1', '--dataset', ESC_NAME],
    names: ['dataset', 'evil'],
  }),
  'refuse',
  { problem: /dataset/i },
);
evaluateCase(
  'npz-wrong-shape',
  async (dir) => {
    await writeZip(path.join(dir, 'data.npz'), [
      ['x.npy', npyBytes('<f4', [3, 5], f32(Array(15).fill(1)))],
      ['y.npy', yOk()],
    ]);
    return {
      setup: [await goodModel(dir), ['dataset', 'add', 'data.npz', '--name', 'd']],
      names: ['data.npz', 'x', 'input'],
    };
  },
  'refuse',
);
evaluateCase(
  'int64-input-model',
  async (dir) => {
    const m = onnxFrom({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [{ op_type: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: 2, i: 1 }] }],
        input: [
          {
            name: 'x',
            type: { tensor_type: { elem_type: 7, shape: { dim: [{ dim_param: 'b' }, { dim_value: 2 }] } } },
          },
        ],
        output: [
          {
            name: 'y',
            type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'b' }, { dim_value: 2 }] } } },
          },
        ],
      },
    });
    return {
      setup: [await goodModel(dir, m), await csvSetup(dir, 'x1,x2,label\n1,0,a\n0,1,b\n')],
      names: ['model.onnx'],
    };
  },
  'either',
);

/** Per-case steps the runner does between setup and the run (they change inputs after registration). */
export const BETWEEN: Record<string, (dir: string) => Promise<void>> = {
  'evaluate/dataset-changed-after-registration': async (dir) => {
    await fsp.writeFile(path.join(dir, 'data.csv'), 'x1,x2,label\n1,0,b\n0,1,a\n');
  },
  'evaluate/dataset-deleted-after-registration': async (dir) => {
    await fsp.rm(path.join(dir, 'data.csv'));
  },
  'evaluate/image-root-replaced-by-link-outside': async (dir) => {
    await put(dir, 'elsewhere/red/a.png', solidPng([1, 1, 1]));
    await put(dir, 'elsewhere/blue/b.png', solidPng([2, 2, 2]));
    await fsp.rename(path.join(dir, 'ds'), path.join(dir, 'ds-old'));
    await fsp.symlink(path.join(dir, 'elsewhere'), path.join(dir, 'ds'));
  },
};

export const CORPUS: readonly Case[] = cases;
export const GROUPS: readonly string[] = [...new Set(cases.map((c) => c.group))];

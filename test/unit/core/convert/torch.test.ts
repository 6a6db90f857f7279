import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'fs';
import { readFile, writeFile } from 'fs/promises';
import * as path from 'path';
import * as yazl from 'yazl';
import { CancelledError, InputError } from '../../../../src/core/errors';
import { safeUnpickle, scanPickle } from '../../../../src/core/inspect/weights/pickleReader';
import { torchToSafetensors } from '../../../../src/core/convert/torch';
import { BUILTIN_CONVERTERS, convertersFor, convertVersion } from '../../../../src/core/convert/convert';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { versionWarnings } from '../../../../src/core/inspect/warnings';
import { Registry } from '../../../../src/core/registry/registry';
import { readSafetensors as inspectSafetensors } from '../../../../src/core/inspect/weights/safetensors';
import { writeTorchZip, writeZip } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { CLI_JS, repoPath } from '../../helpers/paths';

// ---------------------------------------------------------------- a pickle writer, as Python's pickler (protocol 2) emits

class PickleWriter {
  private parts: Buffer[] = [];
  private memoSize = 0;
  /** Globals and strings already written, by memo slot: pickle refers to them with BINGET. */
  private memo = new Map<string, number>();

  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  raw(b: Buffer | string): this {
    this.parts.push(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
    return this;
  }
  put(): this {
    return this.op(0x71, this.memoSize++); // BINPUT
  }
  private cached(key: string, write: () => void): this {
    const slot = this.memo.get(key);
    if (slot !== undefined) return this.op(0x68, slot); // BINGET
    write();
    this.memo.set(key, this.memoSize);
    return this.put();
  }
  proto(v = 2): this {
    return this.op(0x80, v);
  }
  global(module: string, name: string): this {
    return this.cached(`g:${module}.${name}`, () => this.raw(`c${module}\n${name}\n`));
  }
  str(s: string): this {
    return this.cached(`s:${s}`, () => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      this.op(0x58).raw(len).raw(b); // BINUNICODE
    });
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a).raw(b);
  }
  mark(): this {
    return this.op(0x28);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  /** MARK … TUPLE, the items already written after mark(). */
  tuple(): this {
    return this.op(0x74).put();
  }
  /** A tuple of ints the way pickle writes it: (), TUPLE1-3, or MARK … TUPLE. */
  ints(xs: number[]): this {
    if (xs.length === 0) return this.emptyTuple();
    if (xs.length <= 3) {
      xs.forEach((x) => this.int(x));
      return this.op(0x84 + xs.length).put();
    }
    this.mark();
    xs.forEach((x) => this.int(x));
    return this.tuple();
  }
  reduce(): this {
    return this.op(0x52).put();
  }
  emptyDict(): this {
    return this.op(0x7d).put();
  }
  setitem(): this {
    return this.op(0x73);
  }
  setitems(): this {
    return this.op(0x75);
  }
  newTrue(): this {
    return this.op(0x88);
  }
  newFalse(): this {
    return this.op(0x89);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  build(): this {
    return this.op(0x62);
  }
  stop(): this {
    return this.op(0x2e);
  }
  /** collections.OrderedDict() as pickled: GLOBAL, EMPTY_TUPLE, REDUCE. */
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').emptyTuple().reduce();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

interface TensorSpec {
  storageType: string;
  key: string;
  numel: number;
  offset?: number;
  shape: number[];
  stride?: number[];
  parameter?: boolean;
}

const rowMajor = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** A tensor exactly as torch 2.x pickles it (Tensor.__reduce_ex__ → _rebuild_tensor_v2). */
function writeTensor(w: PickleWriter, t: TensorSpec): void {
  if (t.parameter) w.global('torch._utils', '_rebuild_parameter');
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', t.storageType).str(t.key).str('cpu').int(t.numel).tuple().binpersid();
  w.int(t.offset ?? 0)
    .ints(t.shape)
    .ints(t.stride ?? rowMajor(t.shape))
    .newFalse();
  w.orderedDict(); // backward hooks
  w.tuple().reduce();
  if (t.parameter) w.newTrue().orderedDict().op(0x87).put().reduce(); // (tensor, requires_grad, hooks)
}

/** An OrderedDict state_dict with torch's `_metadata` attribute (set through BUILD). */
function writeStateDict(w: PickleWriter, entries: [string, TensorSpec | string | number][]): void {
  w.orderedDict().mark();
  for (const [k, v] of entries) {
    w.str(k);
    if (typeof v === 'string') w.str(v);
    else if (typeof v === 'number') w.int(v);
    else writeTensor(w, v);
  }
  w.setitems();
  w.emptyDict()
    .str('_metadata')
    .orderedDict()
    .str('')
    .emptyDict()
    .str('version')
    .int(1)
    .setitem()
    .setitem()
    .setitem()
    .build();
}

function statePickle(entries: [string, TensorSpec | string | number][]): Buffer {
  const w = new PickleWriter().proto(2);
  writeStateDict(w, entries);
  return w.stop().bytes();
}

// ---------------------------------------------------------------- storages and safetensors parsing

const f32 = (xs: number[]) => {
  const b = Buffer.alloc(xs.length * 4);
  xs.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};
const f32be = (xs: number[]) => {
  const b = Buffer.alloc(xs.length * 4);
  xs.forEach((x, i) => b.writeFloatBE(x, i * 4));
  return b;
};
const f64be = (xs: number[]) => {
  const b = Buffer.alloc(xs.length * 8);
  xs.forEach((x, i) => b.writeDoubleBE(x, i * 8));
  return b;
};
const u16 = (xs: number[]) => {
  const b = Buffer.alloc(xs.length * 2);
  xs.forEach((x, i) => b.writeUInt16LE(x, i * 2));
  return b;
};
const i64 = (xs: bigint[]) => {
  const b = Buffer.alloc(xs.length * 8);
  xs.forEach((x, i) => b.writeBigInt64LE(x, i * 8));
  return b;
};

/** Elements of a strided view, in row-major order (written independently of the converter). */
function view<T>(values: T[], offset: number, shape: number[], stride: number[]): T[] {
  const out: T[] = [];
  const walk = (d: number, at: number) => {
    if (d === shape.length) return void out.push(values[at]);
    for (let i = 0; i < shape[d]; i++) walk(d + 1, at + i * stride[d]);
  };
  walk(0, offset);
  return out;
}

interface Parsed {
  headerLength: number;
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  metadata: Record<string, string>;
  names: string[];
  data(name: string): Buffer;
  floats(name: string): number[];
}

async function readSafetensors(file: string): Promise<Parsed> {
  const buf = await readFile(file);
  const headerLength = Number(buf.readBigUInt64LE(0));
  const raw = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  const { __metadata__: metadata, ...header } = raw;
  const start = 8 + headerLength;
  const data = (name: string) => {
    const [a, b] = header[name].data_offsets;
    return buf.subarray(start + a, start + b);
  };
  const floats = (name: string) => {
    const d = data(name);
    return Array.from({ length: d.length / 4 }, (_, i) => d.readFloatLE(i * 4));
  };
  return { headerLength, header, metadata, names: Object.keys(header), data, floats };
}

async function expectInputError(p: Promise<unknown>, file: string, pattern: RegExp): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.strictEqual(e.file, file);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected an InputError');
}

function unpickleError(data: Buffer): InputError {
  try {
    safeUnpickle(data, 'x.pt');
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    return e;
  }
  return assert.fail('expected an InputError');
}

const refusalText = (name: string) =>
  `x.pt: refused to unpickle: ${name} is not allowed (only tensor and container types are); the file may run code when loaded with torch.load`;

const run = (src: string, dest: string, extra: Partial<Parameters<typeof torchToSafetensors.convert>[2]> = {}) =>
  torchToSafetensors.convert(src, dest, { params: {}, ...extra });

// ---------------------------------------------------------------- tests

describe('torch → safetensors', () => {
  it('accepts torch extensions and names the output .safetensors', () => {
    const file = (p: string) =>
      ({ path: p, sha256: '', size: 1, role: 'weights' }) as Parameters<typeof torchToSafetensors.accepts>[0];
    for (const p of ['model.pt', 'a/b.PTH', 'pytorch_model.bin', 'last.ckpt'])
      assert.ok(torchToSafetensors.accepts(file(p)), p);
    for (const p of ['model.safetensors', 'model.onnx', 'pt', 'config.json'])
      assert.ok(!torchToSafetensors.accepts(file(p)), p);
    assert.strictEqual(torchToSafetensors.outputPath('weights/model.pt'), 'weights/model.safetensors');
    assert.strictEqual(torchToSafetensors.outputPath('pytorch_model.bin'), 'pytorch_model.safetensors');
    assert.strictEqual(torchToSafetensors.id, 'safetensors');
    assert.strictEqual(torchToSafetensors.targetFormat, 'safetensors');
  });

  it('converts a torch 2.x state_dict: F32/F16/I64, storage offsets, shared storages, strided views, parameters', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'model.pt');
    const dest = path.join(dir, 'model.safetensors');
    const weight = [1.5, -2, 3.25, 0, 7, -0.5];
    const halfBits = [0x3800, 0xc000, 0x6400, 0x3400]; // 0.5, -2, 1024, 0.25
    const longs = [100n, -5n, 1n << 40n, 9n];
    const offsetStorage = [10, 11, 12, 13, 14];
    const shared = [1, 2, 3, 4, 5, 6];
    const matrix = [0, 1, 2, 3, 4, 5];
    const cube = Array.from({ length: 24 }, (_, i) => i * 0.25);
    const pickle = statePickle([
      ['layer.weight', { storageType: 'FloatStorage', key: '0', numel: 6, shape: [2, 3] }],
      ['layer.half', { storageType: 'HalfStorage', key: '1', numel: 4, shape: [4] }],
      ['bn.ids', { storageType: 'LongStorage', key: '2', numel: 4, shape: [3] }],
      ['bn.num_batches_tracked', { storageType: 'LongStorage', key: '2', numel: 4, offset: 3, shape: [] }],
      ['offset.f32', { storageType: 'FloatStorage', key: '3', numel: 5, offset: 2, shape: [2] }],
      ['tied.a', { storageType: 'FloatStorage', key: '4', numel: 6, shape: [2, 3] }],
      ['tied.a_again', { storageType: 'FloatStorage', key: '4', numel: 6, shape: [2, 3] }],
      ['tied.b', { storageType: 'FloatStorage', key: '4', numel: 6, offset: 3, shape: [3] }],
      ['proj.t', { storageType: 'FloatStorage', key: '5', numel: 6, shape: [3, 2], stride: [1, 3] }],
      ['cube.permuted', { storageType: 'FloatStorage', key: '6', numel: 24, shape: [4, 2, 3], stride: [1, 12, 4] }],
      ['param.p', { storageType: 'FloatStorage', key: '7', numel: 2, shape: [1, 2], stride: [7, 1], parameter: true }],
      ['note', 'not a tensor'],
    ]);
    await writeTorchZip(src, {
      prefix: 'model',
      pickle,
      storages: [
        f32(weight),
        u16(halfBits),
        i64(longs),
        f32(offsetStorage),
        f32(shared),
        f32(matrix),
        f32(cube),
        f32([8, 9]),
      ],
    });
    const logs: string[] = [];
    let read = 0;
    const result = await run(src, dest, { log: (l) => logs.push(l), onBytes: (n) => (read += n) });

    const st = await readSafetensors(dest);
    assert.strictEqual(st.headerLength % 8, 0);
    assert.deepStrictEqual(st.metadata, { format: 'pt', source: 'model.pt' });
    const names = [
      'bn.ids',
      'bn.num_batches_tracked',
      'cube.permuted',
      'layer.half',
      'layer.weight',
      'offset.f32',
      'param.p',
      'proj.t',
      'tied.a',
      'tied.a_again',
      'tied.b',
    ];
    assert.deepStrictEqual([...st.names].sort(), names);
    // Data in key-sorted order, back to back.
    let at = 0;
    for (const n of names) {
      assert.strictEqual(st.header[n].data_offsets[0], at, n);
      at = st.header[n].data_offsets[1];
    }
    assert.strictEqual((await readFile(dest)).length, 8 + st.headerLength + at);

    assert.deepStrictEqual(st.header['layer.weight'], {
      dtype: 'F32',
      shape: [2, 3],
      data_offsets: st.header['layer.weight'].data_offsets,
    });
    assert.deepStrictEqual(st.floats('layer.weight'), weight);
    assert.strictEqual(st.header['layer.half'].dtype, 'F16');
    assert.deepStrictEqual(st.data('layer.half'), u16(halfBits));
    assert.strictEqual(st.header['bn.ids'].dtype, 'I64');
    assert.deepStrictEqual(st.data('bn.ids'), i64(longs.slice(0, 3)));
    assert.deepStrictEqual(st.header['bn.num_batches_tracked'].shape, []);
    assert.deepStrictEqual(st.data('bn.num_batches_tracked'), i64([9n]));
    assert.deepStrictEqual(st.floats('offset.f32'), [12, 13]);
    assert.deepStrictEqual(st.floats('tied.a'), shared);
    assert.deepStrictEqual(st.floats('tied.a_again'), shared);
    assert.deepStrictEqual(st.floats('tied.b'), [4, 5, 6]);
    assert.deepStrictEqual(st.header['proj.t'].shape, [3, 2]);
    assert.deepStrictEqual(st.floats('proj.t'), [0, 3, 1, 4, 2, 5]);
    assert.deepStrictEqual(st.header['cube.permuted'].shape, [4, 2, 3]);
    assert.deepStrictEqual(st.floats('cube.permuted'), view(cube, 0, [4, 2, 3], [1, 12, 4]));
    assert.deepStrictEqual(st.floats('param.p'), [8, 9]);

    assert.deepStrictEqual(result, {
      tensors: 11,
      bytesBefore: (await readFile(src)).length,
      bytesAfter: (await readFile(dest)).length,
      dtypes: { F32: 8, F16: 1, I64: 2 },
    });
    // The project's own safetensors reader (which checks sizes and tiling) accepts the output.
    const info = await inspectSafetensors(dest);
    assert.strictEqual(info.tensorCount, 11);
    assert.strictEqual(info.parameterCount, 6 + 4 + 3 + 1 + 2 + 6 + 6 + 3 + 6 + 24 + 2);
    assert.ok(read >= at, `onBytes reported ${read} bytes`);
    assert.ok(
      logs.some((l) => /skipped 1 entries.*note/.test(l)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => /11 tensors from the top level/.test(l)),
      logs.join('\n'),
    );
  });

  it('takes the state_dict out of a Lightning checkpoint', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'last.ckpt');
    const dest = path.join(dir, 'last.safetensors');
    const w = new PickleWriter().proto(2).emptyDict().mark();
    w.str('epoch').int(3);
    w.str('global_step').int(1200);
    w.str('pytorch-lightning_version').str('2.1.0');
    w.str('state_dict');
    writeStateDict(w, [
      ['model.linear.weight', { storageType: 'FloatStorage', key: '0', numel: 4, shape: [2, 2] }],
      ['model.linear.bias', { storageType: 'DoubleStorage', key: '1', numel: 2, shape: [2] }],
    ]);
    w.str('hparams_name').str('kwargs');
    w.setitems().stop();
    const bias = Buffer.alloc(16);
    bias.writeDoubleLE(0.125, 0);
    bias.writeDoubleLE(-3, 8);
    await writeTorchZip(src, { prefix: 'last', pickle: w.bytes(), storages: [f32([1, 2, 3, 4]), bias] });
    const logs: string[] = [];
    const result = await run(src, dest, { log: (l) => logs.push(l) });
    const st = await readSafetensors(dest);
    assert.deepStrictEqual([...st.names].sort(), ['model.linear.bias', 'model.linear.weight']);
    assert.deepStrictEqual(st.floats('model.linear.weight'), [1, 2, 3, 4]);
    assert.strictEqual(st.header['model.linear.bias'].dtype, 'F64');
    assert.deepStrictEqual(st.data('model.linear.bias'), bias);
    assert.deepStrictEqual(result.dtypes, { F32: 1, F64: 1 });
    assert.ok(
      logs.some((l) => /from "state_dict"/.test(l)),
      logs.join('\n'),
    );
  });

  it('byte-swaps a big-endian checkpoint, contiguous and strided', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'be.pt');
    const dest = path.join(dir, 'be.safetensors');
    const pickle = statePickle([
      ['a', { storageType: 'FloatStorage', key: '0', numel: 3, shape: [3] }],
      ['b', { storageType: 'DoubleStorage', key: '1', numel: 6, shape: [3, 2], stride: [1, 3] }],
      ['c', { storageType: 'ByteStorage', key: '2', numel: 3, shape: [3] }],
    ]);
    await writeTorchZip(src, {
      pickle,
      byteorder: 'big',
      storages: [f32be([1, -2.5, 3]), f64be([0, 1, 2, 3, 4, 5]), Buffer.from([7, 8, 9])],
    });
    await run(src, dest);
    const st = await readSafetensors(dest);
    assert.deepStrictEqual(st.floats('a'), [1, -2.5, 3]);
    const b = st.data('b');
    assert.deepStrictEqual(
      Array.from({ length: 6 }, (_, i) => b.readDoubleLE(i * 8)),
      [0, 3, 1, 4, 2, 5],
    );
    assert.deepStrictEqual(st.data('c'), Buffer.from([7, 8, 9]));
    assert.strictEqual(st.header.c.dtype, 'U8');
  });

  it('reads deflated storage members too', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'deflated.pth');
    const dest = path.join(dir, 'deflated.safetensors');
    const values = Array.from({ length: 5000 }, (_, i) => (i % 17) - 8);
    const pickle = statePickle([
      ['w', { storageType: 'FloatStorage', key: '0', numel: 5000, offset: 1000, shape: [2000] }],
      ['i', { storageType: 'IntStorage', key: '1', numel: 3, shape: [3] }],
    ]);
    const ints = Buffer.alloc(12);
    [5, -6, 7].forEach((v, k) => ints.writeInt32LE(v, k * 4));
    const zip = new yazl.ZipFile();
    zip.addBuffer(pickle, 'archive/data.pkl', { compress: true });
    zip.addBuffer(f32(values), 'archive/data/0', { compress: true });
    zip.addBuffer(ints, 'archive/data/1', { compress: true });
    zip.end();
    await new Promise<void>((resolve, reject) =>
      zip.outputStream.pipe(createWriteStream(src)).on('close', resolve).on('error', reject),
    );
    await run(src, dest);
    const st = await readSafetensors(dest);
    assert.deepStrictEqual(st.floats('w'), values.slice(1000, 3000));
    assert.deepStrictEqual(st.data('i'), ints);
    assert.strictEqual(st.header.i.dtype, 'I32');
  });

  it('refuses a pickle that would run a command, and runs nothing', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'pwned');
    const src = path.join(dir, 'evil.pt');
    const dest = path.join(dir, 'evil.safetensors');
    // {'x': os.system('touch <marker>')}
    const w = new PickleWriter()
      .proto(2)
      .emptyDict()
      .str('x')
      .global('os', 'system')
      .str(`touch ${marker}`)
      .op(0x85)
      .put()
      .reduce()
      .setitem()
      .stop();
    await writeTorchZip(src, { pickle: w.bytes() });
    const e = await expectInputError(run(src, dest), src, /refused to unpickle: os\.system is not allowed/);
    assert.strictEqual(
      e.problem,
      'refused to unpickle: os.system is not allowed (only tensor and container types are); the file may run code when loaded with torch.load',
    );
    assert.ok(!existsSync(marker), 'the command ran');
    assert.ok(!existsSync(dest), 'an output was left behind');
  });

  it('refuses every non-allowlisted global, whichever opcode names it', () => {
    const marker = path.join(tempDir(), 'pwned');
    const callWith = (module: string, name: string) =>
      new PickleWriter().proto(2).global(module, name).str(`touch ${marker}`).op(0x85).put().reduce().stop().bytes();
    for (const [m, n] of [
      ['os', 'system'],
      ['posix', 'system'],
      ['builtins', 'eval'],
      ['subprocess', 'Popen'],
      ['__builtin__', 'getattr'],
      ['torch', 'load'],
      ['collections', 'defaultdict'],
    ]) {
      assert.strictEqual(unpickleError(callWith(m, n)).message, refusalText(`${m}.${n}`));
    }
    // Protocol 4's STACK_GLOBAL takes module and name from the stack.
    const short = (s: string) => Buffer.concat([Buffer.from([0x8c, s.length]), Buffer.from(s)]);
    const stackGlobal = Buffer.concat([
      Buffer.from([0x80, 0x04]),
      short('os'),
      Buffer.from([0x94]),
      short('system'),
      Buffer.from([0x94, 0x93, 0x94]),
      short(`touch ${marker}`),
      Buffer.from([0x85, 0x52, 0x2e]),
    ]);
    assert.strictEqual(unpickleError(stackGlobal).message, refusalText('os.system'));
    // INST and OBJ instantiate classes; EXT1 names a global by registry code.
    const inst = Buffer.concat([
      Buffer.from('(', 'latin1'),
      short(`touch ${marker}`),
      Buffer.from(`ios\nsystem\n.`, 'latin1'),
    ]);
    assert.strictEqual(unpickleError(inst).message, refusalText('os.system (INST)'));
    const obj = new PickleWriter().proto(2).mark().global('collections', 'OrderedDict').op(0x6f).stop().bytes();
    assert.strictEqual(unpickleError(obj).message, refusalText('collections.OrderedDict (OBJ)'));
    assert.strictEqual(
      unpickleError(Buffer.from([0x80, 0x02, 0x82, 0x05, 0x2e])).message,
      refusalText('extension code 5 (EXT)'),
    );
    assert.ok(!existsSync(marker), 'the command ran');
  });

  it('refuses a pickle that piles millions of values on the stack (a memory bomb), in the import scan too', () => {
    const bomb = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(2_000_000, ']'), Buffer.from('.')]);
    assert.match(unpickleError(bomb).message, /more than 1000000 values on the stack/);
    assert.throws(() => scanPickle(bomb, 'x.pt'), /x\.pt: malformed pickle: more than 1000000 values on the stack/);
  });

  it('rejects unknown opcodes, truncation and malformed streams with the offset', () => {
    const good = statePickle([['w', { storageType: 'FloatStorage', key: '0', numel: 1, shape: [1] }]]);
    assert.match(
      unpickleError(Buffer.from([0x80, 0x02, 0x7d, 0xff, 0x2e])).message,
      /^x\.pt: unknown or unsupported pickle opcode 0xff \(pickle offset 3\)$/,
    );
    assert.match(unpickleError(Buffer.from([0x80, 0x02, 0x7d, 0x53, 0x2e])).message, /opcode 0x53/); // STRING: protocol 0 py2 str, not supported
    for (const cut of [1, 5, 20, good.length - 40, good.length - 1]) {
      assert.match(unpickleError(good.subarray(0, cut)).message, /truncated pickle/, `cut at ${cut}`);
    }
    assert.match(
      unpickleError(Buffer.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x41])).message,
      /truncated pickle: needs 2147483647 more bytes/,
    );
    assert.match(unpickleError(Buffer.from([0x80, 0x02, 0x68, 0x03, 0x2e])).message, /memo entry 3 is not set/);
    assert.match(unpickleError(Buffer.from([0x80, 0x02, 0x73, 0x2e])).message, /stack underflow/);
    assert.match(
      unpickleError(Buffer.from([0x80, 0x02, 0x5d, 0x4b, 0x01, 0x4b, 0x02, 0x73, 0x2e])).message,
      /SETITEM\(S\) on something that is not a dict/,
    );
    assert.match(unpickleError(Buffer.from([0x80, 0x06, 0x2e])).message, /unsupported pickle protocol 6/);
    // A persistent id that is not a torch storage.
    assert.match(
      unpickleError(Buffer.from('\x80\x02X\x03\x00\x00\x00abcQ.', 'latin1')).message,
      /unsupported persistent id/,
    );
  });

  it("reads what Python's own pickler writes, protocols 0–5", function () {
    if (spawnSync('python3', ['-c', 'import pickle'], { stdio: 'ignore' }).status !== 0) this.skip();
    const dir = tempDir();
    // Fake torch modules so that the real pickler writes torch's globals, persistent ids and reduce tuples.
    const script = String.raw`
import collections, pickle, sys, types
torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils'); torch._utils = utils
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = 'torch._utils'; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
def _rebuild_parameter(*a): pass
_rebuild_parameter.__module__ = 'torch._utils'; utils._rebuild_parameter = _rebuild_parameter
for n in ['FloatStorage', 'HalfStorage', 'LongStorage']:
    c = type(n, (), {}); c.__module__ = 'torch'; setattr(torch, n, c)
class Storage:
    def __init__(self, key, typ): self.key, self.typ = key, typ
class Tensor:
    def __init__(self, storage, offset, shape, stride): self.a = (storage, offset, shape, stride, False, collections.OrderedDict())
    def __reduce_ex__(self, proto): return (_rebuild_tensor_v2, self.a)
class Parameter:
    def __init__(self, t): self.t = t
    def __reduce_ex__(self, proto): return (_rebuild_parameter, (self.t, True, collections.OrderedDict()))
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return ('storage', obj.typ, obj.key, 'cpu', 6) if isinstance(obj, Storage) else None
s0, s1 = Storage('0', torch.FloatStorage), Storage('1', torch.HalfStorage)
sd = collections.OrderedDict()
sd['w'] = Tensor(s0, 0, (2, 3), (3, 1))
sd['w.t'] = Tensor(s0, 0, (3, 2), (1, 3))
sd['h'] = Tensor(s1, 2, (2,), (1,))
sd['p'] = Parameter(Tensor(s0, 1, (), ()))
sd._metadata = collections.OrderedDict([('', {'version': 1})])
values = {'int': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**62, -2**70, 2**100],
          'float': [0.5, -1e300, 3.0], 'bool': [True, False], 'none': None,
          'str': ['', 'plain', 'caf\u00e9 \u2603 \U0001F600', 'back\\slash\nnewline'],
          'tuple': (1, (2, 3), ()), 'set': {1, 2}, 'frozen': frozenset([3]), 'nested': {'a': [{'b': []}]}}
out = sys.argv[1]
for proto in range(6):
    v = dict(values)
    if proto >= 3: v['bytes'] = b'\x00\xffab'
    if proto >= 5: v['bytearray'] = bytearray(b'xy')
    with open(f'{out}/values{proto}.pkl', 'wb') as f: pickle.dump(v, f, protocol=proto)
    if proto >= 2:
        with open(f'{out}/state{proto}.pkl', 'wb') as f: P(f, protocol=proto).dump(sd)
`;
    execFileSync('python3', ['-c', script, dir]);
    const plain = (v: unknown): unknown => {
      if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
      if (v instanceof Set) return { set: [...v].map(plain) };
      if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
      if (Array.isArray(v)) return v.map(plain);
      if (typeof v === 'bigint') return { big: v.toString() };
      return v;
    };
    for (let proto = 0; proto <= 5; proto++) {
      const got = plain(safeUnpickle(readFileSync(path.join(dir, `values${proto}.pkl`)), 'v.pkl')) as Record<
        string,
        unknown
      >;
      const expected: Record<string, unknown> = {
        int: [
          0,
          1,
          -1,
          255,
          256,
          65535,
          65536,
          -(2 ** 31),
          2 ** 31,
          { big: (2n ** 62n).toString() },
          { big: (-(2n ** 70n)).toString() },
          { big: (2n ** 100n).toString() },
        ],
        float: [0.5, -1e300, 3],
        bool: [true, false],
        none: null,
        str: ['', 'plain', 'café ☃ 😀', 'back\\slash\nnewline'],
        tuple: [1, [2, 3], []],
        set: { set: [1, 2] },
        frozen: { set: [3] },
        nested: { a: [{ b: [] }] },
      };
      if (proto >= 3) expected.bytes = { hex: '00ff6162' };
      if (proto >= 5) expected.bytearray = { hex: '7879' };
      assert.deepStrictEqual(got, expected, `protocol ${proto}`);
      if (proto < 2) continue;
      const state = safeUnpickle(readFileSync(path.join(dir, `state${proto}.pkl`)), 's.pkl');
      assert.deepStrictEqual(
        state,
        new Map<string, unknown>([
          ['w', { kind: 'tensor', storageKey: '0', dtype: 'F32', offset: 0, shape: [2, 3], stride: [3, 1] }],
          ['w.t', { kind: 'tensor', storageKey: '0', dtype: 'F32', offset: 0, shape: [3, 2], stride: [1, 3] }],
          ['h', { kind: 'tensor', storageKey: '1', dtype: 'F16', offset: 2, shape: [2], stride: [1] }],
          ['p', { kind: 'tensor', storageKey: '0', dtype: 'F32', offset: 1, shape: [], stride: [] }],
        ]),
        `state protocol ${proto}`,
      );
    }
  });

  it('converts a real torch.save file when torch is installed', async function () {
    if (spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) this.skip();
    const dir = tempDir();
    const src = path.join(dir, 'real.pt');
    const dest = path.join(dir, 'real.safetensors');
    execFileSync('python3', [
      '-c',
      String.raw`
import sys, torch
m = torch.arange(6, dtype=torch.float32).reshape(2, 3)
sd = {'w': m, 'w.t': m.t(), 'h': torch.tensor([0.5, -2.0], dtype=torch.float16), 'n': torch.tensor(7), 'row': m[1]}
torch.save(sd, sys.argv[1])
`,
      src,
    ]);
    await run(src, dest);
    const st = await readSafetensors(dest);
    assert.deepStrictEqual(st.floats('w'), [0, 1, 2, 3, 4, 5]);
    assert.deepStrictEqual(st.floats('w.t'), [0, 3, 1, 4, 2, 5]);
    assert.deepStrictEqual(st.floats('row'), [3, 4, 5]);
    assert.deepStrictEqual(st.data('h'), u16([0x3800, 0xc000]));
    assert.deepStrictEqual(st.data('n'), i64([7n]));
  });

  it('names the file when the input is not a convertible checkpoint', async () => {
    const dir = tempDir();
    const dest = (n: string) => path.join(dir, `${n}.safetensors`);

    const notZip = path.join(dir, 'text.pt');
    await writeFile(notZip, 'hello, not a checkpoint');
    await expectInputError(run(notZip, dest('a')), notZip, /not a PyTorch zip checkpoint/);

    const legacy = path.join(dir, 'legacy.pt');
    await writeFile(legacy, Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex'));
    await expectInputError(run(legacy, dest('b')), legacy, /legacy \(pre-1\.6\)/);

    const noPkl = path.join(dir, 'nopkl.pt');
    await writeZip(noPkl, [
      ['archive/data/0', Buffer.alloc(4)],
      ['archive/version', Buffer.from('3\n')],
    ]);
    await expectInputError(run(noPkl, dest('c')), noPkl, /without <prefix>\/data\.pkl/);

    const noTensors = path.join(dir, 'notensors.ckpt');
    await writeTorchZip(noTensors, {
      pickle: new PickleWriter().proto(2).emptyDict().str('epoch').int(3).setitem().stop().bytes(),
    });
    await expectInputError(run(noTensors, dest('d')), noTensors, /no tensors found/);

    const missing = path.join(dir, 'missing.pt');
    await writeTorchZip(missing, {
      pickle: statePickle([['w', { storageType: 'FloatStorage', key: '9', numel: 1, shape: [1] }]]),
    });
    await expectInputError(run(missing, dest('e')), missing, /storage 9, but the archive has no archive\/data\/9/);

    const short = path.join(dir, 'short.pt');
    await writeTorchZip(short, {
      pickle: statePickle([['w', { storageType: 'FloatStorage', key: '0', numel: 4, offset: 1, shape: [2, 2] }]]),
      storages: [f32([1, 2, 3, 4])],
    });
    await expectInputError(run(short, dest('f')), short, /needs bytes 4–20 of storage 0, which has only 16/);

    const truncated = path.join(dir, 'truncated.pt');
    await writeTorchZip(truncated, {
      pickle: statePickle([['w', { storageType: 'FloatStorage', key: '0', numel: 1, shape: [1] }]]).subarray(0, 30),
    });
    await expectInputError(run(truncated, dest('g')), truncated, /truncated pickle/);

    const bogusOrder = path.join(dir, 'order.pt');
    await writeTorchZip(bogusOrder, { byteorder: 'middle' });
    await expectInputError(run(bogusOrder, dest('h')), bogusOrder, /unknown byteorder "middle"/);

    for (const n of 'abcdefgh') assert.ok(!existsSync(dest(n)), `output ${n} left behind`);
  });

  it('stops on cancel and leaves no output', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'model.pt');
    const dest = path.join(dir, 'model.safetensors');
    await writeTorchZip(src, {
      pickle: statePickle([
        ['w', { storageType: 'FloatStorage', key: '0', numel: 4, shape: [4] }],
        ['v', { storageType: 'FloatStorage', key: '1', numel: 1, shape: [1] }],
      ]),
      storages: [f32([1, 2, 3, 4]), f32([5])],
    });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(run(src, dest, { signal: ac.signal }), CancelledError);
    // Cancelled mid-way: reads are byteorder, data.pkl, then the first storage, copied after the output is opened.
    const ac2 = new AbortController();
    let reads = 0;
    await assert.rejects(
      run(src, dest, {
        signal: ac2.signal,
        onBytes: () => {
          if (++reads === 3) ac2.abort();
        },
      }),
      CancelledError,
    );
    assert.strictEqual(reads, 3);
    assert.ok(!existsSync(dest));
  });
});

// ---------------------------------------------------------------- stored versions (real torch.save files from test/fixtures/weights)

const REAL = repoPath('test/fixtures/weights');
const cli = CLI_JS;

describe('torch checkpoints in the registry', () => {
  let work: string;
  let r: Registry;
  /** A folder holding copies of the fixtures, imported as `model`. */
  const importCopies = async (model: string, files: Record<string, string>) => {
    const out = path.join(work, model);
    mkdirSync(out, { recursive: true });
    for (const [name, fixture] of Object.entries(files)) copyFileSync(path.join(REAL, fixture), path.join(out, name));
    return importTrainingOutput(r, out, { model });
  };
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(() => r.close());

  it('import of a pickle naming posix.system runs nothing, and `modelreg import` and `show` warn about it', () => {
    const out = path.join(work, 'evil');
    mkdirSync(out);
    copyFileSync(path.join(REAL, 'hostile.pt'), path.join(out, 'model.pt'));
    copyFileSync(path.join(REAL, 'hostile_pickle.pt'), path.join(out, 'bare.pt'));
    // The pickles would run `touch MARKER` in the working directory of whoever loads them.
    const cwd = tempDir();
    const imported = spawnSync(
      process.execPath,
      [cli, '--registry', path.join(cwd, 'reg'), 'import', out, '--model', 'evil'],
      { cwd, encoding: 'utf8' },
    );
    assert.strictEqual(imported.status, 0, imported.stderr);
    assert.match(
      imported.stderr,
      /modelreg: warning: model\.pt: loading this file with torch\.load would call posix\.system/,
    );
    const shown = spawnSync(process.execPath, [cli, '--registry', path.join(cwd, 'reg'), 'show', 'evil@v1'], {
      cwd,
      encoding: 'utf8',
    });
    assert.strictEqual(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /WARNING +bare\.pt: loading this file with torch\.load would call posix\.system/);
    assert.match(shown.stdout, /WARNING +model\.pt: loading this file with torch\.load would call posix\.system/);
    const json = JSON.parse(
      spawnSync(process.execPath, [cli, '--registry', path.join(cwd, 'reg'), 'show', 'evil@v1', '--json'], {
        cwd,
        encoding: 'utf8',
      }).stdout,
    );
    assert.deepStrictEqual(versionWarnings(json.details), [
      'bare.pt: loading this file with torch.load would call posix.system',
      'model.pt: loading this file with torch.load would call posix.system',
    ]);
    assert.deepStrictEqual(readdirSync(cwd), ['reg'], 'the pickle ran (MARKER) or something else was written');
    assert.ok(!existsSync(path.join(process.cwd(), 'MARKER')));
  });

  it("messages and __metadata__.source name the version's file, not the store object", async () => {
    await importCopies('tiny', { 'model.pt': 'tiny_state_dict.pt' });
    const lines: string[] = [];
    const v2 = await convertVersion(r, 'tiny@v1', torchToSafetensors, { log: (l) => lines.push(l) });
    const st = await readSafetensors(
      r.store.objectPath((await r.files(v2.id)).find((f) => f.path === 'model.safetensors')!.sha256),
    );
    assert.deepStrictEqual(st.metadata, { format: 'pt', source: 'tiny@v1:model.pt' });
    assert.ok(
      lines.some((l) => l.startsWith('tiny@v1:model.pt: 9 tensors from the top level')),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /objects|[0-9a-f]{40}/.test(l)), lines.join('\n'));

    await importCopies('evil', { 'model.pt': 'hostile.pt' });
    const e = await expectInputError(
      convertVersion(r, 'evil@v1', torchToSafetensors),
      'evil@v1:model.pt',
      /refused to unpickle: posix\.system is not allowed/,
    );
    assert.doesNotMatch(e.message, /objects/);
  });

  it("is offered only for files read as torch checkpoints: not for a TF.js model's .bin shards", async () => {
    const tfjs = await importCopies('web', {
      'model.json': 'tfjs-layers/model.json',
      'group1-shard1of2.bin': 'tfjs-layers/group1-shard1of2.bin',
      'group1-shard2of2.bin': 'tfjs-layers/group1-shard2of2.bin',
    });
    assert.strictEqual(tfjs.format, 'tfjs');
    assert.strictEqual(tfjs.parameterCount, 23);
    assert.deepStrictEqual(
      convertersFor(await r.files(tfjs.id), BUILTIN_CONVERTERS, tfjs.details).map((c) => c.id),
      [],
    );
    await assert.rejects(
      convertVersion(r, 'web@v1', torchToSafetensors),
      /safetensors \(PyTorch → safetensors\) has nothing to convert in web@v1/,
    );

    const torch = await importCopies('hf', {
      'pytorch_model.bin': 'tiny_state_dict.pt',
      'vocab.bin': 'tfjs-layers/group1-shard1of2.bin',
    });
    assert.strictEqual(torch.parameterCount, 139);
    assert.deepStrictEqual(
      convertersFor(await r.files(torch.id), BUILTIN_CONVERTERS, torch.details).map((c) => c.id),
      ['safetensors'],
    );
    const v2 = await convertVersion(r, 'hf@v1', torchToSafetensors);
    // vocab.bin is no checkpoint: kept as it was, and only the checkpoint was converted.
    assert.deepStrictEqual(
      (await r.files(v2.id)).map((f) => f.path),
      ['pytorch_model.safetensors', 'vocab.bin'],
    );
    assert.strictEqual(v2.parameterCount, 139);
  });
});

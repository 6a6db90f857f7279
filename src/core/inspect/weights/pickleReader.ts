/**
 * A restricted pickle reader for torch.save's data.pkl. It interprets the pickle opcodes as data
 * only: it never imports or calls anything. GLOBAL/STACK_GLOBAL may name only the handful of
 * container and tensor-rebuilding callables below, and those are emulated here, so a checkpoint
 * that would run code under torch.load (os.system, eval, …) is refused before anything happens.
 *
 * What comes out:
 * - dict and collections.OrderedDict → Map (keys keep their pickled value; a Map also keeps hostile
 *   keys such as "__proto__" as plain keys). Instance attributes set by BUILD (torch's `_metadata`
 *   on a state_dict) are dropped: they only matter to load_state_dict.
 * - list and tuple → array; set and frozenset → Set; str → string; bytes/bytearray → Buffer;
 *   int → number, or bigint beyond 2^53; float → number; None → null; bool → boolean.
 * - torch._utils._rebuild_tensor_v2 → TorchTensor (a description; the bytes stay in the zip);
 *   nn.Parameter (_rebuild_parameter…) → the tensor it wraps; torch.Size → array.
 */
import { InputError } from '../../errors';

/** A tensor as torch.save describes it: which storage, its element type, and the view on it. */
export interface TorchTensor {
  kind: 'tensor';
  /** The storage's key: its zip member is `<prefix>/data/<storageKey>`. */
  storageKey: string;
  /** safetensors dtype name, from the storage type (FloatStorage → F32). */
  dtype: string;
  /** Offset into the storage, in elements. */
  offset: number;
  shape: number[];
  /** In elements, one per dimension. */
  stride: number[];
}

/** torch storage type (the old-style classes persistent ids name) → safetensors dtype. */
const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** torch dtype objects (pickled as globals such as torch.float32) → safetensors dtype. */
const TORCH_DTYPES: Record<string, string> = {
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  double: 'F64',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** What the allowlisted names stand for once loaded; only these ever sit on the stack as "globals". */
type Callable = 'OrderedDict' | 'set' | 'frozenset' | 'Size' | 'rebuild_tensor_v2' | 'rebuild_parameter';
type Global =
  | { kind: 'global'; name: string; call: Callable }
  | { kind: 'global'; name: string; storageDtype: string }
  | { kind: 'global'; name: string; dtype: string }
  | { kind: 'global'; name: string; opaque: true };

/** In a scan, what calling or instantiating a global outside the allowlist stands for: nothing is called. */
export interface OpaqueObject {
  kind: 'object';
  /** The global that would be called (module.name). */
  cls: string;
  args: unknown;
  /** What BUILD would set on it. */
  state?: unknown;
}

/** What scanPickle learns from a pickle without running any of it. */
export interface PickleScan {
  /** The value, with objects of globals outside the allowlist as OpaqueObject. */
  value: unknown;
  /** Offset just after the STOP opcode (legacy torch files hold several pickles in a row). */
  end: number;
  /** Every global the pickle names (module.name), in order of first appearance. */
  globals: string[];
  /** Those outside the tensor/container allowlist: what torch.load (or pickle.load) would import and call. */
  unsafeGlobals: string[];
  /** Every tensor the pickle rebuilds, in order. */
  tensors: TorchTensor[];
}

interface Storage {
  kind: 'storage';
  key: string;
  dtype: string;
}

function lookupGlobal(module: string, name: string): Global | undefined {
  const full = `${module}.${name}`;
  const callables: Record<string, Callable> = {
    'collections.OrderedDict': 'OrderedDict',
    'builtins.set': 'set',
    '__builtin__.set': 'set', // protocol 2 writes Python 2 names
    'builtins.frozenset': 'frozenset',
    '__builtin__.frozenset': 'frozenset',
    'torch.Size': 'Size',
    'torch._utils._rebuild_tensor_v2': 'rebuild_tensor_v2',
    'torch._utils._rebuild_parameter': 'rebuild_parameter',
    'torch._utils._rebuild_parameter_with_state': 'rebuild_parameter',
  };
  if (Object.prototype.hasOwnProperty.call(callables, full))
    return { kind: 'global', name: full, call: callables[full] };
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name))
    return { kind: 'global', name: full, storageDtype: STORAGE_DTYPES[name] };
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_DTYPES, name))
    return { kind: 'global', name: full, dtype: TORCH_DTYPES[name] };
  return undefined;
}

/** Values the stack may hold at once (see interpret's loop). */
const MAX_STACK = 1_000_000;

const refusal = (what: string) =>
  `refused to unpickle: ${what} is not allowed (only tensor and container types are); the file may run code when loaded with torch.load`;

function isGlobal(v: unknown): v is Global {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'global';
}
export function isOpaqueObject(v: unknown): v is OpaqueObject {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && (v as { kind?: unknown }).kind === 'object';
}
export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && (v as { kind?: unknown }).kind === 'tensor';
}
function isStorage(v: unknown): v is Storage {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'storage';
}

/** int → number when exactly representable, else bigint. */
function toInt(b: bigint): number | bigint {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** Python's raw-unicode-escape: latin-1 bytes with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeEscape(b: Buffer): string {
  return b
    .toString('latin1')
    .replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4?: string, u8?: string) =>
      String.fromCodePoint(parseInt(u4 ?? u8 ?? '0', 16)),
    );
}

/**
 * Reads one pickle (protocols 0–5; torch writes 2) and returns its value, without executing anything.
 * Throws InputError naming `where` for anything outside the allowlist, unknown opcodes and truncation.
 */
export function safeUnpickle(data: Buffer, where: string): unknown {
  return interpret(data, 0, where, false).value;
}

/**
 * Walks the pickle at `start` the same way, but lets globals outside the allowlist through as
 * opaque names (nothing is imported or called, ever) so that import can say what loading the
 * file would run, and count the tensors of whole pickled models. Throws InputError for malformed
 * pickles and unknown opcodes.
 */
export function scanPickle(data: Buffer, where: string, start = 0): PickleScan {
  return interpret(data, start, where, true);
}

function interpret(data: Buffer, start: number, where: string, lenient: boolean): PickleScan {
  let pos = start;
  const globals = new Set<string>();
  const unsafeGlobals = new Set<string>();
  const tensors: TorchTensor[] = [];
  const stack: unknown[] = [];
  const marks: number[] = []; // stack heights at each MARK
  const memo = new Map<number, unknown>();
  let opAt = 0;

  const fail = (problem: string): never => {
    throw new InputError(where, `${problem} (pickle offset ${opAt})`);
  };
  const take = (n: number): Buffer => {
    if (n < 0 || pos + n > data.length) fail(`truncated pickle: needs ${n} more bytes, ${data.length - pos} left`);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): Buffer => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: a text argument has no end of line');
    const b = data.subarray(pos, end);
    pos = end + 1;
    return b;
  };
  const u64 = (): number => {
    const n = take(8).readBigUInt64LE();
    if (n > BigInt(data.length)) fail(`truncated pickle: length ${n} runs past the end`);
    return Number(n);
  };
  const markHeight = () => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (stack.length <= markHeight()) fail('malformed pickle: stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= markHeight()) fail('malformed pickle: stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (!marks.length) fail('malformed pickle: no MARK to pop to');
    return stack.splice(marks.pop()!);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`malformed pickle: memo entry ${i} is not set`);
    return memo.get(i);
  };
  const memoPut = (i: number) => memo.set(i, top());
  const loadGlobal = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    globals.add(full);
    const g = lookupGlobal(module, name);
    if (g) return g;
    if (!lenient) throw new InputError(where, refusal(full));
    unsafeGlobals.add(full);
    return { kind: 'global', name: full, opaque: true };
  };
  const opaque = (cls: string, args: unknown): OpaqueObject => ({ kind: 'object', cls, args });
  const asText = (v: unknown, what: string): string =>
    typeof v === 'string' ? v : fail(`malformed pickle: ${what} is not a string`);
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('malformed pickle: SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('malformed pickle: SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) fail('malformed pickle: APPEND(S) on something that is not a list');
    (target as unknown[]).push(...items);
  };

  /** torch.save's persistent ids: ('storage', storage type, key, location, numel). */
  const persistentLoad = (pid: unknown): Storage | OpaqueObject => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 3)
      return lenient
        ? opaque('persistent id', pid)
        : fail('unsupported persistent id: only torch storages are expected');
    const [, type, key] = pid;
    if (!isGlobal(type) || !('storageDtype' in type))
      return lenient ? opaque('persistent id', pid) : fail('persistent id names a storage type that is not supported');
    return { kind: 'storage', key: String(key), dtype: type.storageDtype };
  };

  const dims = (v: unknown, what: string): number[] => {
    // A scan keeps absurd dimensions (2^80, negative) as numbers: the caller refuses them naming the tensor.
    if (lenient && Array.isArray(v) && v.every((d) => typeof d === 'number' || typeof d === 'bigint'))
      return v.map(Number);
    if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0))
      return fail(`tensor ${what} is not a tuple of non-negative integers`);
    return v as number[];
  };

  /** REDUCE and NEWOBJ: "call" an allowlisted global, emulated. */
  const call = (fn: unknown, args: unknown): unknown => {
    if (lenient && !(isGlobal(fn) && 'call' in fn))
      return opaque(isGlobal(fn) ? fn.name : isOpaqueObject(fn) ? `${fn.cls}()` : 'a value', args);
    if (!isGlobal(fn) || !('call' in fn)) return fail(`cannot call ${isGlobal(fn) ? fn.name : 'a non-callable value'}`);
    if (!Array.isArray(args)) return fail(`arguments to ${fn.name} are not a tuple`);
    switch (fn.call) {
      case 'OrderedDict': {
        const m = new Map<unknown, unknown>();
        if (args.length === 1 && Array.isArray(args[0]))
          for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
        return m;
      }
      case 'set':
      case 'frozenset':
        return new Set(args.length && Array.isArray(args[0]) ? args[0] : []);
      case 'Size':
        return dims(args[0] ?? [], 'size');
      case 'rebuild_tensor_v2': {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        const [storage, offset, size, stride] = args;
        if (!isStorage(storage))
          return lenient
            ? opaque('torch._utils._rebuild_tensor_v2', args)
            : fail('_rebuild_tensor_v2 without a storage');
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
          return fail('tensor storage offset is not a non-negative integer');
        const shape = dims(size, 'size');
        const strides = dims(stride, 'stride');
        if (shape.length !== strides.length) return fail('tensor size and stride differ in length');
        const t: TorchTensor = {
          kind: 'tensor',
          storageKey: storage.key,
          dtype: storage.dtype,
          offset,
          shape: [...shape],
          stride: [...strides],
        };
        tensors.push(t);
        return t;
      }
      case 'rebuild_parameter':
        // (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor for our purposes.
        if (!isTorchTensor(args[0]))
          return lenient ? opaque(fn.name, args) : fail('_rebuild_parameter without a tensor');
        return args[0];
    }
  };

  /**
   * joblib.dump writes each numpy array's bytes into the stream right after its wrapper's BUILD
   * (joblib/numpy_pickle.py, NumpyArrayWrapper.read_array): a padding length byte and padding when
   * the wrapper has numpy_array_alignment_bytes, then the raw elements, or a whole pickle of
   * their own for object arrays. Skip them, scanning the nested pickle too.
   */
  const skipJoblibArray = (w: OpaqueObject) => {
    const state = w.state instanceof Map ? w.state : undefined;
    const dtype = state?.get('dtype');
    const code = isOpaqueObject(dtype) && Array.isArray(dtype.args) ? dtype.args[0] : undefined;
    const shape = state?.get('shape');
    if (
      typeof code !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
    ) {
      fail('a joblib array wrapper without a readable dtype and shape');
    }
    const m = /^[<>|=]?([?biufcmMSUV])(\d*)$/.exec(code as string);
    if (code === 'O' || code === '|O') {
      const inner = interpret(data, pos, where, true);
      for (const g of inner.globals) globals.add(g);
      for (const g of inner.unsafeGlobals) unsafeGlobals.add(g);
      pos = inner.end;
      return;
    }
    if (!m) return fail(`a joblib array of dtype ${String(code)}, which this reader cannot skip`);
    const width = m[1] === '?' ? 1 : m[1] === 'U' ? 4 * Number(m[2] || 1) : Number(m[2] || 1);
    if (state?.has('numpy_array_alignment_bytes')) take(take(1)[0]);
    const n = (shape as number[]).reduce((a, b) => a * b, 1) * width;
    if (!Number.isSafeInteger(n)) fail('a joblib array of impossible size');
    take(n);
  };

  for (;;) {
    opAt = pos;
    if (pos >= data.length) fail('truncated pickle: ends without STOP');
    // torch and pickle push at most ~1,000 items between MARK and SETITEMS; millions is a memory bomb.
    if (stack.length > MAX_STACK) fail(`malformed pickle: more than ${MAX_STACK} values on the stack`);
    const op = data[pos++];
    switch (op) {
      case 0x80: {
        // PROTO
        const v = take(1)[0];
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95:
        u64();
        break; // FRAME: only a length hint; the frame's opcodes follow inline
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length) fail('malformed pickle: STOP with a stack that is not one value');
        return { value: stack[0], end: pos, globals: [...globals], unsafeGlobals: [...unsafeGlobals], tensors };
      }
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x30:
        if (stack.length > markHeight()) stack.pop();
        else popMark();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP

      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      } // APPENDS
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x8f:
        stack.push(new Set());
        break; // EMPTY_SET
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('malformed pickle: ADDITEMS on something that is not a set');
        for (const i of items) (s as Set<unknown>).add(i);
        break;
      }
      case 0x91:
        stack.push(new Set(popMark()));
        break; // FROZENSET

      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x49: {
        // INT (text; "00"/"01" are protocol 0's booleans)
        const s = line().toString('latin1').trim();
        if (s === '00' || s === '01') stack.push(s === '01');
        else if (/^[+-]?\d+$/.test(s)) stack.push(toInt(BigInt(s)));
        else fail('malformed INT argument');
        break;
      }
      case 0x4c: {
        // LONG (text, trailing L)
        const s = line().toString('latin1').trim().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail('malformed LONG argument');
        stack.push(toInt(BigInt(s)));
        break;
      }
      case 0x4a:
        stack.push(take(4).readInt32LE());
        break; // BININT
      case 0x4b:
        stack.push(take(1)[0]);
        break; // BININT1
      case 0x4d:
        stack.push(take(2).readUInt16LE());
        break; // BININT2
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? take(1)[0] : take(4).readInt32LE();
        const b = take(n);
        if (n === 0) {
          stack.push(0);
          break;
        }
        let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
        if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
        stack.push(toInt(v));
        break;
      }
      case 0x47:
        stack.push(take(8).readDoubleBE());
        break; // BINFLOAT
      case 0x46: {
        // FLOAT (text)
        const s = line().toString('latin1').trim();
        const v = Number(s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s);
        if (Number.isNaN(v) && s !== 'nan') fail('malformed FLOAT argument');
        stack.push(v);
        break;
      }

      case 0x58:
        stack.push(take(take(4).readUInt32LE()).toString('utf8'));
        break; // BINUNICODE
      case 0x8c:
        stack.push(take(take(1)[0]).toString('utf8'));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(take(u64()).toString('utf8'));
        break; // BINUNICODE8
      case 0x56:
        stack.push(rawUnicodeEscape(line()));
        break; // UNICODE
      // Python 2 str; torch.load decodes them as UTF-8.
      case 0x54:
        stack.push(take(take(4).readInt32LE()).toString('utf8'));
        break; // BINSTRING
      case 0x55:
        stack.push(take(take(1)[0]).toString('utf8'));
        break; // SHORT_BINSTRING
      case 0x42:
        stack.push(Buffer.from(take(take(4).readUInt32LE())));
        break; // BINBYTES
      case 0x43:
        stack.push(Buffer.from(take(take(1)[0])));
        break; // SHORT_BINBYTES
      case 0x8e:
        stack.push(Buffer.from(take(u64())));
        break; // BINBYTES8
      case 0x96:
        stack.push(Buffer.from(take(u64())));
        break; // BYTEARRAY8

      case 0x70: {
        // PUT (text index)
        const s = line().toString('latin1').trim();
        if (!/^\d+$/.test(s)) fail('malformed PUT argument');
        memoPut(Number(s));
        break;
      }
      case 0x71:
        memoPut(take(1)[0]);
        break; // BINPUT
      case 0x72:
        memoPut(take(4).readUInt32LE());
        break; // LONG_BINPUT
      case 0x94:
        memoPut(memo.size);
        break; // MEMOIZE
      case 0x67: {
        // GET (text index)
        const s = line().toString('latin1').trim();
        if (!/^\d+$/.test(s)) fail('malformed GET argument');
        stack.push(memoGet(Number(s)));
        break;
      }
      case 0x68:
        stack.push(memoGet(take(1)[0]));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(take(4).readUInt32LE()));
        break; // LONG_BINGET

      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line().toString('utf8');
        const name = line().toString('utf8');
        stack.push(loadGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = asText(pop(), 'STACK_GLOBAL name');
        const module = asText(pop(), 'STACK_GLOBAL module');
        stack.push(loadGlobal(module, name));
        break;
      }
      case 0x69: {
        // INST "module\nname\n": instantiates a class by name; never allowed
        const module = line().toString('utf8');
        const name = line().toString('utf8');
        if (!lenient) throw new InputError(where, refusal(`${module}.${name} (INST)`));
        loadGlobal(module, name);
        stack.push(opaque(`${module}.${name}`, popMark()));
        break;
      }
      case 0x6f: {
        // OBJ: instantiates the class after the MARK; never allowed
        const items = marks.length ? stack.slice(marks[marks.length - 1]) : [];
        if (!lenient)
          throw new InputError(where, refusal(isGlobal(items[0]) ? `${items[0].name} (OBJ)` : 'the OBJ opcode'));
        popMark();
        stack.push(opaque(isGlobal(items[0]) ? items[0].name : 'a value', items.slice(1)));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84: {
        // EXT1/2/4: globals from the copyreg extension registry
        const code = op === 0x82 ? take(1)[0] : op === 0x83 ? take(2).readUInt16LE() : take(4).readInt32LE();
        if (!lenient) throw new InputError(where, refusal(`extension code ${code} (EXT)`));
        const g = `copyreg extension ${code}`;
        globals.add(g);
        unsafeGlobals.add(g);
        stack.push({ kind: 'global', name: g, opaque: true });
        break;
      }
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      } // REDUCE
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); only our container classes make sense here
        const args = pop();
        const cls = pop();
        if (lenient && !(isGlobal(cls) && 'call' in cls)) {
          stack.push(call(cls, args));
          break;
        }
        if (!isGlobal(cls) || !('call' in cls) || !['OrderedDict', 'set', 'frozenset', 'Size'].includes(cls.call))
          fail(`NEWOBJ on ${isGlobal(cls) ? cls.name : 'a non-class value'}`);
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs); never allowed
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!lenient) fail(`NEWOBJ_EX on ${isGlobal(cls) ? cls.name : 'a non-class value'}`);
        stack.push(opaque(isGlobal(cls) ? cls.name : 'a value', [args, kwargs]));
        break;
      }
      case 0x62: {
        // BUILD: sets state on the object below; kept only for what torch emits
        const state = pop();
        const target = top();
        if (lenient && isOpaqueObject(target)) {
          target.state = state;
          if (target.cls === 'joblib.numpy_pickle.NumpyArrayWrapper') skipJoblibArray(target);
          break;
        }
        if (!(target instanceof Map) && !isTorchTensor(target) && !lenient)
          fail('BUILD on a value that is not a dict or tensor');
        break; // dropped: a state_dict's _metadata, a tensor's python attributes
      }
      case 0x51:
        stack.push(persistentLoad(pop()));
        break; // BINPERSID
      case 0x50:
        stack.push(persistentLoad(line().toString('latin1')));
        break; // PERSID (text id: never a storage)

      default:
        fail(`unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

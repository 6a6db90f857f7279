/**
 * What a pickle reveals without being run: the globals it names (what pickle.load, torch.load or
 * joblib.load would import and call), the tensors it rebuilds, and for scikit-learn the estimator.
 * The opcodes are walked by pickleReader's scanner, which never imports or calls anything.
 */
import { InputError } from '../../errors';
import { isOpaqueObject, isTorchTensor, scanPickle, type PickleScan, type TorchTensor } from './pickleReader';
import type { WeightInfo } from '../types';
import { countInto, elementCount, readAt, withFile } from './read';

/** Pickles are read whole to be scanned; past this, the rest is not looked at (and we say so). */
export const PICKLE_SCAN_LIMIT = 256 * 1024 * 1024;

/** Namespaces whose globals a scikit-learn model names as a matter of course. */
const SKLEARN_EXPECTED =
  /^(sklearn|numpy|scipy|joblib)\.|^(copyreg\._reconstructor|builtins\.object|__builtin__\.object|_codecs\.encode|collections\.\w+)$/;
/** Modules of frameworks and containers: listed after anything else, so that os.system is never cut off. */
const FAMILIAR = /^(torch|numpy|sklearn|scipy|joblib|collections|copyreg|_codecs|__main__|__torch__)\b/;

/** "loading this file with torch.load would call posix.system, …": the names most alarming first. */
export function loadWarning(loader: string, globals: string[]): string | undefined {
  if (!globals.length) return undefined;
  const sorted = [...globals].sort((a, b) => Number(FAMILIAR.test(a)) - Number(FAMILIAR.test(b)));
  const shown = sorted.slice(0, 6);
  const more = sorted.length - shown.length;
  return `loading this file with ${loader} would call ${shown.join(', ')}${more ? ` and ${more} more` : ''}`;
}

/** Where a Lightning / training-loop checkpoint keeps the model's state_dict (as convert/torch looks). */
const NESTED_KEYS = ['state_dict', 'model', 'module'];

/**
 * Counts the tensors of a scanned torch pickle: those of its state_dict (top level, or under
 * state_dict/model/module, so optimizer slots are not counted), or else every tensor it rebuilds
 * (a whole pickled nn.Module). Absurd shapes are refused naming the tensor.
 */
export function countTorchTensors(
  file: string,
  scan: PickleScan,
): Pick<WeightInfo, 'parameterCount' | 'tensorCount' | 'dtypes'> {
  const entries: [string, TorchTensor][] = [];
  const tensorsOf = (m: Map<unknown, unknown>) =>
    [...m].filter(([, v]) => isTorchTensor(v)) as [unknown, TorchTensor][];
  const root = scan.value;
  let dict: Map<unknown, unknown> | undefined;
  if (root instanceof Map) {
    if (tensorsOf(root).length) dict = root;
    else
      for (const k of NESTED_KEYS) {
        const v = root.get(k);
        if (v instanceof Map && tensorsOf(v).length) {
          dict = v;
          break;
        }
      }
  }
  if (dict) for (const [k, t] of tensorsOf(dict)) entries.push([String(k), t]);
  else [...new Set(scan.tensors)].forEach((t, i) => entries.push([`#${i} (storage ${t.storageKey})`, t]));
  if (!entries.length) return {};
  const dtypes: Record<string, number> = {};
  let parameterCount = 0;
  for (const [name, t] of entries) {
    parameterCount += elementCount(file, name, t.shape);
    countInto(dtypes, t.dtype);
  }
  if (!Number.isSafeInteger(parameterCount))
    throw new InputError(file, 'the tensors declare more than 2^53 elements in all');
  return { parameterCount, tensorCount: entries.length, dtypes };
}

/** `.pkl` / `.pickle` / `.joblib`: a pickled Python object, most often a scikit-learn model. */
export async function readPickleFile(file: string): Promise<WeightInfo> {
  return withFile(file, async (fh, size) => {
    const head = await readAt(fh, 0, Math.min(size, PICKLE_SCAN_LIMIT));
    const details: Record<string, unknown> = {};
    // joblib's compressed files (zlib, gzip, bz2, xz, lz4) are not pickles until inflated.
    if (
      head[0] === 0x78 ||
      head.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])) ||
      head.subarray(0, 3).toString('latin1') === 'BZh' ||
      head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ||
      head.subarray(0, 4).equals(Buffer.from([0x04, 0x22, 0x4d, 0x18]))
    ) {
      return {
        format: 'pickle',
        framework: 'pickle',
        details: {
          compressed: true,
          warnings: [
            'a compressed pickle (joblib compress=…): its contents were not scanned; loading it runs whatever code it names',
          ],
        },
      };
    }
    if (head[0] !== 0x80 || head[1] < 2 || head[1] > 5)
      throw new InputError(file, 'not a pickle (protocol 2–5): no PROTO opcode at the start');
    details.pickleProtocol = head[1];
    let scan: PickleScan;
    try {
      scan = scanPickle(head, file);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const cut = size > head.length ? ` (only the first ${head.length} bytes were read)` : '';
      return {
        format: 'pickle',
        framework: 'pickle',
        details: {
          ...details,
          warnings: [`the pickle could not be scanned to the end${cut}: ${e.problem}; loading it may run code`],
        },
      };
    }
    details.globals = scan.globals.slice(0, 100);
    const sklearn = scan.globals.find((g) => /^sklearn\.[\w.]+\.[A-Z]\w*$/.test(g));
    const warnings: string[] = [];
    let framework = 'pickle';
    if (sklearn) {
      framework = 'scikit-learn';
      const estimator = sklearn.slice(sklearn.lastIndexOf('.') + 1);
      details.estimator = estimator;
      details.description = `scikit-learn pickle (${estimator})`;
      const version =
        isOpaqueObject(scan.value) && scan.value.state instanceof Map
          ? scan.value.state.get('_sklearn_version')
          : undefined;
      if (typeof version === 'string') details.sklearnVersion = version;
      // Loading runs scikit-learn's and numpy's own code; anything else is what to warn about.
      const w = loadWarning(
        'pickle.load or joblib.load',
        scan.unsafeGlobals.filter((g) => !SKLEARN_EXPECTED.test(g)),
      );
      if (w) warnings.push(w);
    } else {
      const w = loadWarning('pickle.load', scan.unsafeGlobals);
      if (w) warnings.push(w);
      if (scan.tensors.length) Object.assign(details, { torchTensors: scan.tensors.length });
    }
    if (warnings.length) details.warnings = warnings;
    return { format: 'pickle', framework, details };
  });
}

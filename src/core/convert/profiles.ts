/**
 * External tool chains as profiles: how to find the tool, its parameters with defaults, the command
 * line, and which files it leaves behind. Built-in profiles cover ONNX export from PyTorch, tf2onnx,
 * the TFLite converter, Ascend ATC, TensorRT trtexec and OpenVINO ovc; users add their own (same
 * shape) in settings. A profile runs as a real child process (no shell) with its log streamed.
 */
import { spawn } from 'child_process';
import { constants, promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, RegistryError } from '../errors';
import { looksSecret } from '../util/redact';
import { ParamSpec } from './types';

export interface ToolProfile {
  id: string;
  title: string;
  description: string;
  /** The executable: a name looked up on PATH, or an absolute path. */
  tool: string;
  /** Arguments that print the tool's version (first line kept); omit when the tool has none. */
  versionArgs?: string[];
  /** How to get the tool, shown when it is missing. */
  install: string;
  /** File names (suffixes, lower case) the profile converts, e.g. [".onnx"]; "saved_model.pb" for a SavedModel folder. */
  inputs: string[];
  targetFormat: string;
  params: ParamSpec[];
  /**
   * Arguments, with ${input} (the input file), ${inputDir}, ${outputDir}, ${stem} (input name without
   * extension) and ${param:NAME} replaced; "${param:NAME*}" alone splits the value into several
   * arguments, and an argument that ends up empty is dropped.
   */
  args: string[];
  /** Files the tool writes into ${outputDir} (same placeholders); all must exist after it succeeds. */
  outputs: string[];
  /**
   * Environment variables the tool gets beyond the minimal set (see toolEnv): names, or prefixes
   * ending in "*" ("ASCEND_*"). Nothing else of the caller's environment reaches it.
   */
  env?: string[];
}

const PY_TORCH_EXPORT = [
  'import sys, torch',
  'src, out, shape, opset = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")], int(sys.argv[4])',
  'm = torch.jit.load(src) if src.endswith((".pt", ".pth")) else torch.load(src, weights_only=False)',
  'm.eval()',
  'torch.onnx.export(m, torch.randn(*shape), out, opset_version=opset, input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})',
].join('\n');

const PY_TFLITE = [
  'import sys, tensorflow as tf',
  'c = tf.lite.TFLiteConverter.from_saved_model(sys.argv[1])',
  'if sys.argv[3] == "dynamic-range": c.optimizations = [tf.lite.Optimize.DEFAULT]',
  'if sys.argv[3] == "fp16": c.optimizations = [tf.lite.Optimize.DEFAULT]; c.target_spec.supported_types = [tf.float16]',
  'open(sys.argv[2], "wb").write(c.convert())',
].join('\n');

export const BUILTIN_PROFILES: ToolProfile[] = [
  {
    id: 'torch-onnx',
    title: 'PyTorch → ONNX (torch.onnx.export)',
    description: 'TorchScript .pt (or a pickled nn.Module) exported with your Python environment',
    tool: 'python3',
    versionArgs: ['-c', 'import torch; print("torch", torch.__version__)'],
    install: "pip install torch onnx (in the Python on PATH, or set the profile tool to your venv's python)",
    inputs: ['.pt', '.pth'],
    targetFormat: 'onnx',
    params: [
      { name: 'input_shape', description: 'example input shape, comma-separated', default: '1,3,224,224' },
      { name: 'opset', description: 'ONNX opset', default: '17' },
    ],
    args: ['-c', PY_TORCH_EXPORT, '${input}', '${outputDir}/${stem}.onnx', '${param:input_shape}', '${param:opset}'],
    outputs: ['${stem}.onnx'],
    env: ['CUDA_*'],
  },
  {
    id: 'tf2onnx',
    title: 'TensorFlow SavedModel → ONNX (tf2onnx)',
    description: 'python -m tf2onnx.convert on the SavedModel folder',
    tool: 'python3',
    versionArgs: ['-c', 'import tf2onnx; print("tf2onnx", tf2onnx.__version__)'],
    install: 'pip install tensorflow tf2onnx',
    inputs: ['saved_model.pb'],
    targetFormat: 'onnx',
    params: [{ name: 'opset', description: 'ONNX opset', default: '17' }],
    args: [
      '-m',
      'tf2onnx.convert',
      '--saved-model',
      '${inputDir}',
      '--output',
      '${outputDir}/model.onnx',
      '--opset',
      '${param:opset}',
    ],
    outputs: ['model.onnx'],
    env: ['TF_*', 'CUDA_*'],
  },
  {
    id: 'tflite',
    title: 'TensorFlow SavedModel → TFLite',
    description: 'tf.lite.TFLiteConverter, optionally with dynamic-range or fp16 quantisation',
    tool: 'python3',
    versionArgs: ['-c', 'import tensorflow as tf; print("tensorflow", tf.__version__)'],
    install: 'pip install tensorflow',
    inputs: ['saved_model.pb'],
    targetFormat: 'tflite',
    params: [
      { name: 'optimize', description: 'quantisation', default: 'none', choices: ['none', 'dynamic-range', 'fp16'] },
    ],
    args: ['-c', PY_TFLITE, '${inputDir}', '${outputDir}/model.tflite', '${param:optimize}'],
    outputs: ['model.tflite'],
    env: ['TF_*', 'CUDA_*'],
  },
  {
    id: 'atc',
    title: 'Ascend ATC → .om',
    description: 'Huawei CANN atc: ONNX, TensorFlow .pb or Caffe model → offline model for an Ascend SoC',
    tool: 'atc',
    versionArgs: ['--version'],
    install: 'Install the Ascend CANN toolkit and source set_env.sh (atc comes with it)',
    inputs: ['.onnx', '.pb', '.prototxt'],
    targetFormat: 'om',
    params: [
      {
        name: 'soc_version',
        description: 'target SoC',
        default: 'Ascend310P3',
        choices: ['Ascend310', 'Ascend310P3', 'Ascend310B1', 'Ascend910', 'Ascend910B'],
      },
      { name: 'framework', description: '0 Caffe, 3 TensorFlow, 5 ONNX', default: '5', choices: ['0', '3', '5'] },
      { name: 'extra', description: 'more atc arguments, e.g. --input_shape=input:1,3,224,224', default: '' },
    ],
    args: [
      '--model=${input}',
      '--framework=${param:framework}',
      '--output=${outputDir}/${stem}',
      '--soc_version=${param:soc_version}',
      '${param:extra*}',
    ],
    outputs: ['${stem}.om'],
    // What CANN's set_env.sh exports besides PATH, LD_LIBRARY_PATH and PYTHONPATH.
    env: ['ASCEND_*', 'TOOLCHAIN_HOME'],
  },
  {
    id: 'trtexec',
    title: 'TensorRT trtexec → engine',
    description: 'NVIDIA TensorRT: ONNX → serialized engine for this GPU',
    tool: 'trtexec',
    install: 'Install TensorRT and put its bin folder (trtexec) on PATH',
    inputs: ['.onnx'],
    targetFormat: 'tensorrt',
    params: [
      {
        name: 'precision',
        description: 'extra precision flags',
        default: '--fp16',
        choices: ['', '--fp16', '--int8', '--fp16 --int8', '--best'],
      },
      { name: 'extra', description: 'more trtexec arguments', default: '' },
    ],
    args: ['--onnx=${input}', '--saveEngine=${outputDir}/${stem}.engine', '${param:precision*}', '${param:extra*}'],
    outputs: ['${stem}.engine'],
    env: ['CUDA_*'],
  },
  {
    id: 'ovc',
    title: 'OpenVINO ovc → IR',
    description: 'OpenVINO model conversion: ONNX (and more) → .xml + .bin',
    tool: 'ovc',
    versionArgs: ['--version'],
    install: 'pip install openvino (provides ovc)',
    inputs: ['.onnx', '.pb', '.tflite'],
    targetFormat: 'openvino',
    params: [
      { name: 'compress_to_fp16', description: 'store weights as fp16', default: 'True', choices: ['True', 'False'] },
    ],
    args: ['${input}', '--output_model', '${outputDir}/${stem}.xml', '--compress_to_fp16=${param:compress_to_fp16}'],
    outputs: ['${stem}.xml', '${stem}.bin'],
  },
];

/** Checks a profile from settings; the message names the profile and the field. */
export function checkProfile(p: unknown, where: string): ToolProfile {
  const o = (p ?? {}) as Record<string, unknown>;
  const bad = (field: string, want: string) =>
    new RegistryError(`${where}: profile ${JSON.stringify(o.id ?? '?')}: "${field}" must be ${want}`);
  const str = (f: string) => {
    if (typeof o[f] !== 'string' || !o[f]) throw bad(f, 'a non-empty string');
  };
  const strs = (f: string) => {
    if (!Array.isArray(o[f]) || (o[f] as unknown[]).some((x) => typeof x !== 'string'))
      throw bad(f, 'a list of strings');
  };
  ['id', 'tool', 'targetFormat'].forEach(str);
  ['inputs', 'args', 'outputs'].forEach(strs);
  if (o.versionArgs !== undefined) strs('versionArgs');
  if (o.env !== undefined) strs('env');
  const params = (o.params ?? []) as Record<string, unknown>[];
  if (
    !Array.isArray(params) ||
    params.some((q) => typeof q?.name !== 'string' || typeof (q.default ?? '') !== 'string')
  )
    throw bad('params', 'a list of {name, default, description}');
  return {
    id: o.id as string,
    title: (o.title as string) ?? (o.id as string),
    description: (o.description as string) ?? '',
    tool: o.tool as string,
    versionArgs: o.versionArgs as string[] | undefined,
    install: (o.install as string) ?? `Install ${o.tool as string} and put it on PATH`,
    inputs: (o.inputs as string[]).map((s) => s.toLowerCase()),
    targetFormat: o.targetFormat as string,
    params: params.map((q) => ({
      name: q.name as string,
      default: (q.default as string) ?? '',
      description: (q.description as string) ?? '',
      ...(Array.isArray(q.choices) ? { choices: q.choices as string[] } : {}),
    })),
    args: o.args as string[],
    outputs: o.outputs as string[],
    ...(o.env ? { env: o.env as string[] } : {}),
  };
}

export function profileAccepts(p: ToolProfile, filePath: string): boolean {
  const name = filePath.toLowerCase();
  return p.inputs.some((s) => name.endsWith(s));
}

export interface ToolStatus {
  available: boolean;
  /** The executable found. */
  path?: string;
  version?: string;
  /** Why it is not available and how to get it. */
  problem?: string;
}

/**
 * What the Convert… picker shows for a tool profile (VS Code codicons in the label): while its tool
 * is looked for, once found or not, and in an untrusted workspace, where detection runs nothing.
 * `problem` is set when picking the item should only explain why it cannot run.
 */
export function toolPickItem(
  p: ToolProfile,
  status: ToolStatus | 'checking' | 'untrusted',
): { label: string; description: string; detail: string; problem?: string } {
  const item = (icon: string, detail: string, problem?: string) => ({
    label: `$(${icon}) ${p.title}`,
    description: p.id,
    detail,
    ...(problem ? { problem } : {}),
  });
  if (status === 'untrusted')
    return item('shield', `not checked: untrusted workspace (${p.tool} runs only once you trust this workspace)`);
  if (status === 'checking') return item('loading~spin', 'looking for the tool…');
  if (!status.available)
    return item(
      'warning',
      status.problem ?? `${p.tool} is not available`,
      status.problem ?? `${p.tool} is not available`,
    );
  return item('tools', `${status.path}${status.version ? ` — ${status.version}` : ''}`);
}

/** Finds the tool (PATH or absolute) and asks its version, with a timeout. */
export async function detectTool(p: ToolProfile, env: NodeJS.ProcessEnv = process.env): Promise<ToolStatus> {
  const found = await which(p.tool, env);
  if (!found) return { available: false, problem: `${p.tool} not found on PATH. ${p.install}` };
  if (!p.versionArgs) return { available: true, path: found };
  const r = await runTool(found, p.versionArgs, { env, passEnv: p.env, timeoutMs: 20_000 });
  if (r.code !== 0)
    return {
      available: false,
      path: found,
      problem: `${found} ${p.versionArgs.join(' ')} failed (exit ${r.code}): ${lastLines(r.output, 3)}. ${p.install}`,
    };
  return {
    available: true,
    path: found,
    version: r.output
      .split('\n')
      .find((l) => l.trim())
      ?.trim(),
  };
}

/** The tool's absolute path: as given when absolute, else the first on PATH (relative PATH entries such as "." are skipped: they would find a program in whatever folder we run from). */
export async function which(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = path.isAbsolute(tool)
    ? [tool]
    : tool.includes('/') || tool.includes(path.sep)
      ? []
      : (env.PATH ?? '')
          .split(path.delimiter)
          .filter((d) => path.isAbsolute(d))
          .map((d) => path.join(d, tool));
  for (const c of candidates) {
    if (
      await fsp.access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return c;
  }
  return undefined;
}

/** The command line for one input, placeholders filled in. */
export function commandLine(
  p: ToolProfile,
  vars: { input: string; outputDir: string },
  params: Record<string, string>,
): string[] {
  const stem = path.basename(vars.input).replace(/\.[^.]*$/, '');
  const fill = (s: string) =>
    s.replace(/\$\{(input|inputDir|outputDir|stem|param:([A-Za-z0-9_]+))\}/g, (_, key: string, param?: string) => {
      if (param !== undefined) return params[param] ?? '';
      return { input: vars.input, inputDir: path.dirname(vars.input), outputDir: vars.outputDir, stem }[key as 'input'];
    });
  const out: string[] = [];
  for (const a of p.args) {
    const splat = /^\$\{param:([A-Za-z0-9_]+)\*\}$/.exec(a);
    if (splat) out.push(...(params[splat[1]] ?? '').split(/\s+/).filter(Boolean));
    else {
      const v = fill(a);
      if (v !== '') out.push(v);
    }
  }
  return out;
}

export function outputNames(p: ToolProfile, input: string): string[] {
  const stem = path.basename(input).replace(/\.[^.]*$/, '');
  return p.outputs.map((o) => o.replace(/\$\{stem\}/g, stem));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they came. */
  output: string;
}

/** Variables every tool gets: finding programs and libraries, home, locale, temp, Python's own settings. */
const BASE_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'TZ',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TMPDIR',
  'TMP',
  'TEMP',
  'PYTHON*',
  'VIRTUAL_ENV',
  'CONDA_PREFIX',
  'CONDA_DEFAULT_ENV',
  'LD_LIBRARY_PATH',
  'DYLD_LIBRARY_PATH',
];
/** Windows cannot start most programs without these. */
const WINDOWS_ENV = [
  'SYSTEMROOT',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'SYSTEMDRIVE',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
];

const matches = (name: string, pattern: string) =>
  pattern.endsWith('*')
    ? name.toUpperCase().startsWith(pattern.slice(0, -1).toUpperCase())
    : name.toUpperCase() === pattern.toUpperCase();

/**
 * The environment an external tool (converter, evaluator, version check) runs with: the minimal set
 * above (minus anything whose name looks like a secret, e.g. PYTHON_KEYRING_PASSWORD) plus what the
 * profile names. Never the caller's AWS keys, PGPASSWORD, MODELREG_*_PASSWORD… unless named.
 */
export function toolEnv(names: string[] = [], from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const base = process.platform === 'win32' ? [...BASE_ENV, ...WINDOWS_ENV] : BASE_ENV;
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) {
    if (v === undefined) continue;
    if (names.some((n) => matches(k, n)) || (base.some((n) => matches(k, n)) && !looksSecret(k))) out[k] = v;
  }
  return out;
}

/**
 * Runs a tool without a shell; every line goes to `log` as it arrives; abort kills it (TERM, then KILL).
 * It gets toolEnv(passEnv, env) and, without a cwd, a fresh empty folder as its working directory:
 * never the workspace, where `python3 -c "import torch"` would import a torch.py lying there.
 */
export async function runTool(
  exe: string,
  args: string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    passEnv?: string[];
    signal?: AbortSignal;
    log?: (line: string) => void;
    timeoutMs?: number;
  } = {},
): Promise<RunResult> {
  const neutral = opts.cwd ? undefined : await fsp.mkdtemp(path.join(os.tmpdir(), 'modelreg-tool-'));
  try {
    return await spawnTool(exe, args, {
      ...opts,
      cwd: opts.cwd ?? neutral!,
      env: toolEnv(opts.passEnv, opts.env ?? process.env),
    });
  } finally {
    if (neutral) await fsp.rm(neutral, { recursive: true, force: true });
  }
}

function spawnTool(
  exe: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal; log?: (line: string) => void; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError());
    const child = spawn(exe, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const onData = (d: Buffer) => {
      const text = partial + d.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) opts.log?.(l);
      output += d.toString('utf8');
      if (output.length > 4 << 20) output = output.slice(-(2 << 20)); // keep the tail of a chatty tool
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    const timer = opts.timeoutMs ? setTimeout(stop, opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', stop);
      reject(new RegistryError(`cannot run ${exe}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      if (partial) opts.log?.(partial);
      if (opts.signal?.aborted) return reject(new CancelledError());
      resolve({ code, signal, output });
    });
  });
}

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** Built-in profiles plus the user's (same id replaces the built-in one). */
export function allProfiles(user: unknown[] = [], where = 'settings'): ToolProfile[] {
  const mine = user.map((p) => checkProfile(p, where));
  return [...BUILTIN_PROFILES.filter((b) => !mine.some((m) => m.id === b.id)), ...mine];
}

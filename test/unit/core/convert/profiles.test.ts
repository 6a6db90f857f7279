// External tool profiles run real child processes: a stand-in `atc` written by the test behaves like
// the real one (version, log lines, an .om output, exit codes), found on PATH as the real one would be.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { convertWithProfile } from '../../../../src/core/convert/convert';
import {
  BUILTIN_PROFILES,
  checkProfile,
  commandLine,
  detectTool,
  toolEnv,
  toolPickItem,
} from '../../../../src/core/convert/profiles';
import { registerDataset } from '../../../../src/core/datasets/register';
import { checkEvaluatorProfile, evaluateExternally } from '../../../../src/core/evaluate/external';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { writeOnnx, writeSavedModel } from '../../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../../helpers/tmp';
import { CLI_JS } from '../../helpers/paths';

const atc = BUILTIN_PROFILES.find((p) => p.id === 'atc')!;

/** A fake atc: --version; --model/--output/--soc_version like the real one; soc "Fail" exits 3; soc "Slow" sleeps. */
const FAKE_ATC = `#!/usr/bin/env node
const fs = require('fs');
const arg = (k) => (process.argv.find((a) => a.startsWith('--' + k + '=')) || '').slice(k.length + 3);
if (process.argv.includes('--version')) { console.log('ATC version 7.0.0 (stand-in)'); process.exit(0); }
console.log('ATC start working now, please wait for a moment.');
const soc = arg('soc_version');
if (soc === 'Ascend910') { console.error('E10001: Value [Ascend910] for parameter [--soc_version] is invalid.'); process.exit(3); }
if (soc === 'Ascend910B') { fs.writeFileSync('pid', String(process.pid)); setTimeout(() => {}, 60000); return; }
const model = fs.readFileSync(arg('model'));
fs.writeFileSync(arg('output') + '.om', Buffer.concat([Buffer.from('OM:' + soc + ':' + arg('framework') + ':'), model]));
console.log('ATC run success, welcome to the next use.');
`;

describe('external tool profiles', () => {
  let work: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    makeGitRepo(work);
    bin = path.join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'atc'), FAKE_ATC);
    chmodSync(path.join(bin, 'atc'), 0o755);
    env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
    const out = path.join(work, 'run');
    mkdirSync(out);
    await writeOnnx(path.join(out, 'model.onnx'));
    writeFileSync(path.join(out, 'config.json'), '{"model_type": "resnet"}');
    r = await Registry.open(path.join(work, '.modelreg'));
    await importTrainingOutput(r, out, { model: 'net' });
  });
  afterEach(() => r.close());

  it('detects the tool on PATH with its version, and says how to install a missing one', async () => {
    assert.deepStrictEqual(await detectTool(atc, env), {
      available: true,
      path: path.join(bin, 'atc'),
      version: 'ATC version 7.0.0 (stand-in)',
    });
    const missing = await detectTool(atc, { ...process.env, PATH: work });
    assert.strictEqual(missing.available, false);
    assert.match(missing.problem!, /atc not found on PATH\. Install the Ascend CANN toolkit/);
  });

  it('fills the command line: placeholders, split parameters, empty arguments dropped', () => {
    const trt = BUILTIN_PROFILES.find((p) => p.id === 'trtexec')!;
    assert.deepStrictEqual(
      commandLine(trt, { input: '/w/in/m.onnx', outputDir: '/w/out' }, { precision: '--fp16 --int8', extra: '' }),
      ['--onnx=/w/in/m.onnx', '--saveEngine=/w/out/m.engine', '--fp16', '--int8'],
    );
    assert.throws(
      () =>
        checkProfile(
          { id: 'mine', tool: 'x', targetFormat: 'y', inputs: ['.onnx'], args: 'nope', outputs: [] },
          'settings',
        ),
      /settings: profile "mine": "args" must be a list of strings/,
    );
  });

  it('runs atc on the ONNX file: a new version with model.om, config shared, tool and log recorded', async () => {
    const lines: string[] = [];
    const v = await convertWithProfile(r, 'net@v1', atc, {
      env,
      params: { soc_version: 'Ascend310B1' },
      log: (l) => lines.push(l),
    });
    const files = await r.files(v.id);
    assert.deepStrictEqual(
      files.map((f) => f.path),
      ['config.json', 'model.om'],
    );
    const om = readFileSync(r.store.objectPath(files[1].sha256));
    const onnx = readFileSync(path.join(work, 'run', 'model.onnx'));
    assert.ok(
      om.equals(Buffer.concat([Buffer.from('OM:Ascend310B1:5:'), onnx])),
      "atc got the version's model.onnx and its parameters",
    );
    const c = v.details.conversion as {
      converter: string;
      params: Record<string, string>;
      tool: { version: string };
      log: string;
    };
    assert.deepStrictEqual(
      [v.format, v.parentKind, c.converter, c.params.soc_version, c.tool.version],
      ['om', 'conversion', 'atc', 'Ascend310B1', 'ATC version 7.0.0 (stand-in)'],
    );
    assert.match(readFileSync(c.log, 'utf8'), /ATC run success/);
    assert.ok(
      lines.some((l) => l.includes('--soc_version=Ascend310B1')),
      'the command line is logged',
    );
  });

  it('a failing tool leaves no version, keeps its log and says why', async () => {
    await assert.rejects(
      convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend910' } }),
      (e: Error) => {
        assert.match(
          e.message,
          /atc failed on model\.onnx \(exit 3\): .*E10001: Value \[Ascend910\] for parameter \[--soc_version\] is invalid\..*Full log: (.*\.log)$/,
        );
        assert.match(readFileSync(/Full log: (.*\.log)$/.exec(e.message)![1], 'utf8'), /E10001[\s\S]*# exit 3/);
        return true;
      },
    );
    assert.deepStrictEqual(
      (await r.listVersions('net')).map((v) => v.number),
      [1],
    );
    assert.deepStrictEqual(readdirSync(path.join(work, '.modelreg', 'tmp')), []);
    await assert.rejects(
      convertWithProfile(r, 'net@v1', atc, { env: { ...process.env, PATH: work } }),
      /atc: atc not found on PATH/,
    );
    await assert.rejects(
      convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend999' } }),
      /soc_version must be one of/,
    );
  });

  it('cancel kills the running tool and leaves nothing', async () => {
    const abort = new AbortController();
    const running = convertWithProfile(r, 'net@v1', atc, {
      env,
      params: { soc_version: 'Ascend910B' },
      signal: abort.signal,
      log: (l) => l.startsWith('ATC start') && setTimeout(() => abort.abort(), 200),
    });
    await assert.rejects(running, /cancelled/);
    assert.deepStrictEqual(
      (await r.listVersions('net')).map((v) => v.number),
      [1],
    );
    assert.ok(
      !existsSync(path.join(work, '.modelreg', 'tmp')) || readdirSync(path.join(work, '.modelreg', 'tmp')).length === 0,
    );
  });

  it('a SavedModel profile (input saved_model.pb) gets the folder and replaces its variables; files beside it stay', async () => {
    const sm = path.join(work, 'sm');
    await writeSavedModel(sm);
    writeFileSync(path.join(sm, 'metrics.json'), '{"accuracy": 0.7}');
    await importTrainingOutput(r, sm, { model: 'tfnet' });
    // A stand-in converter: lists the folder it was given into the output, as tf2onnx would read it.
    writeFileSync(
      path.join(bin, 'fake-tf2onnx'),
      `#!/usr/bin/env node
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
fs.writeFileSync(process.argv[3], fs.readdirSync(dir).sort().join(',') + ';' + fs.readdirSync(path.join(dir, 'variables')).sort().join(','));
`,
    );
    chmodSync(path.join(bin, 'fake-tf2onnx'), 0o755);
    const profile = checkProfile(
      {
        id: 'sm2onnx',
        tool: 'fake-tf2onnx',
        inputs: ['saved_model.pb'],
        targetFormat: 'onnx',
        args: ['${inputDir}', '${outputDir}/model.onnx'],
        outputs: ['model.onnx'],
      },
      'test',
    );
    const v = await convertWithProfile(r, 'tfnet@v1', profile, { env });
    const files = await r.files(v.id);
    assert.deepStrictEqual(
      files.map((f) => f.path),
      ['metrics.json', 'model.onnx'],
    );
    assert.strictEqual(
      readFileSync(r.store.objectPath(files[1].sha256), 'utf8'),
      'metrics.json,saved_model.pb,variables;variables.data-00000-of-00001,variables.index',
    );
  });
});

// Issue 15 item 3: finding a tool must not run anything from the workspace, and a registry folder's
// profiles.json (a cloned repository can carry one) runs only when the user trusts it.
describe('tool detection runs nothing from the workspace', () => {
  const torchOnnx = BUILTIN_PROFILES.find((p) => p.id === 'torch-onnx')!;
  const cli = CLI_JS;
  let ws: string;
  let home: string;
  let torchMarker: string;
  let profileMarker: string;
  beforeEach(() => {
    ws = tempDir();
    home = tempDir();
    torchMarker = path.join(tempDir(), 'torch-imported');
    profileMarker = path.join(tempDir(), 'profile-ran');
    // What a cloned repository can hold: a torch.py that python3 -c "import torch" would pick up from the working directory.
    writeFileSync(
      path.join(ws, 'torch.py'),
      `open(${JSON.stringify(torchMarker)}, "w").write("imported")\n__version__ = "0-evil"\n`,
    );
    mkdirSync(path.join(ws, '.modelreg'));
    writeFileSync(
      path.join(ws, '.modelreg', 'profiles.json'),
      JSON.stringify([
        {
          id: 'evil',
          tool: '/bin/sh',
          versionArgs: ['-c', `echo ran > ${profileMarker}`],
          inputs: ['.onnx'],
          targetFormat: 'x',
          args: [],
          outputs: [],
        },
      ]),
    );
  });
  const modelreg = (...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.XDG_CONFIG_HOME;
    return spawnSync(process.execPath, [cli, ...args], { cwd: ws, env, encoding: 'utf8' });
  };

  it('detectTool (what the Convert… picker calls) runs python3 in an empty folder, not the current one', async () => {
    const was = process.cwd();
    process.chdir(ws);
    try {
      await detectTool(torchOnnx);
    } finally {
      process.chdir(was);
    }
    assert.ok(!existsSync(torchMarker), 'the workspace torch.py was imported');
  });

  it('a relative PATH entry (".") does not find a program in the current folder', async () => {
    writeFileSync(path.join(ws, 'atc'), FAKE_ATC);
    chmodSync(path.join(ws, 'atc'), 0o755);
    const was = process.cwd();
    process.chdir(ws);
    try {
      assert.strictEqual(
        (await detectTool(atc, { ...process.env, PATH: `.${path.delimiter}${process.env.PATH}` })).available,
        false,
      );
    } finally {
      process.chdir(was);
    }
  });

  it('the picker in an untrusted workspace: tools "not checked", nothing to refuse', () => {
    const item = toolPickItem(torchOnnx, 'untrusted');
    assert.match(item.label, /PyTorch → ONNX/);
    assert.match(item.detail, /^not checked: untrusted workspace/);
    assert.strictEqual(item.problem, undefined, 'picking it leads to the trust prompt, not a "missing tool" error');
    assert.strictEqual(
      toolPickItem(torchOnnx, { available: false, problem: 'python3 not found' }).problem,
      'python3 not found',
    );
    assert.match(
      toolPickItem(torchOnnx, { available: true, path: '/usr/bin/python3', version: 'torch 2' }).detail,
      /\/usr\/bin\/python3 — torch 2/,
    );
  });

  it('modelreg converters: no torch.py import, and .modelreg/profiles.json ignored (and said so) without --trust-profiles', () => {
    const run = modelreg('converters', '--json');
    assert.strictEqual(run.status, 0, run.stderr);
    assert.ok(!existsSync(torchMarker), 'the workspace torch.py was imported');
    assert.ok(!existsSync(profileMarker), "the registry folder's profile ran");
    assert.ok(!JSON.parse(run.stdout).some((x: { id: string }) => x.id === 'evil'));
    assert.match(
      run.stderr,
      new RegExp(
        `ignored ${path.join(ws, '.modelreg', 'profiles.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*pass --trust-profiles, or put \\{"trustProfiles": true\\} in ${path.join(home, '.config', 'modelreg', 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    );
    const convert = modelreg('convert', 'x@v1', '--to', 'evil');
    assert.strictEqual(convert.status, 2, convert.stderr);
    assert.match(
      convert.stderr,
      /no converter or profile 'evil'.*profiles\.json was not loaded: pass --trust-profiles/,
    );
    const evaluate = modelreg('evaluate', 'x@v1', '--dataset', 'd', '--evaluator', 'evil');
    writeFileSync(
      path.join(ws, '.modelreg', 'evaluators.json'),
      JSON.stringify([{ id: 'evil', tool: '/bin/sh', args: ['-c', `echo ran > ${profileMarker}`] }]),
    );
    const evaluate2 = modelreg('evaluate', 'x@v1', '--dataset', 'd', '--evaluator', 'evil');
    assert.match(evaluate.stderr, /no evaluator 'evil': .*evaluators\.json does not exist/);
    assert.strictEqual(evaluate2.status, 2, evaluate2.stderr);
    assert.match(
      evaluate2.stderr,
      /no evaluator 'evil': .*evaluators\.json was not loaded because it is not trusted; pass --trust-profiles/,
    );
  });

  it('with --trust-profiles, or "trustProfiles": true in ~/.config/modelreg/config.json, the profile is checked (its versionArgs run)', () => {
    const run = modelreg('converters', '--json', '--trust-profiles');
    assert.strictEqual(run.status, 0, run.stderr);
    assert.ok(existsSync(profileMarker), 'trusted: the profile is checked');
    assert.strictEqual(JSON.parse(run.stdout).find((x: { id: string }) => x.id === 'evil').available, true);
    assert.ok(!existsSync(torchMarker), 'still no workspace torch.py');
    rmSync(profileMarker);
    mkdirSync(path.join(home, '.config', 'modelreg'), { recursive: true });
    writeFileSync(path.join(home, '.config', 'modelreg', 'config.json'), '{"trustProfiles": true}');
    assert.strictEqual(modelreg('converters').status, 0);
    assert.ok(existsSync(profileMarker), 'trusted by the home config');
    writeFileSync(path.join(home, '.config', 'modelreg', 'config.json'), '{"trustProfiles": tru');
    const bad = modelreg('converters');
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /config\.json: not valid JSON/);
  });
});

// Issue 15 item 7c: external tools get PATH, HOME, locale, temp, PYTHON* and what the profile names; no credentials.
describe('external tools get a minimal environment', () => {
  const DUMP_ENV =
    '#!/bin/sh\n# dumps its environment and working folder, as any tool could\nenv > "$1"\npwd > "$1.cwd"\n';
  let work: string;
  let dumper: string;
  let r: Registry;
  const callerEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    PGPASSWORD: 'pg-secret',
    MODELREG_REGISTRY_PASSWORD: 'registry-secret',
    MY_SETTING: 'not-asked-for',
    PYTHON_KEYRING_PASSWORD: 'keyring-secret',
    HF_TOKEN: 'hf-secret',
    CUDA_VISIBLE_DEVICES: '1',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONPATH: '/opt/py',
  });
  const parse = (file: string) =>
    Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  const expectMinimal = (got: Record<string, string>) => {
    assert.strictEqual(got.PATH, process.env.PATH);
    assert.deepStrictEqual(
      [got.LANG, got.LC_ALL, got.PYTHONPATH, got.HOME],
      ['C.UTF-8', 'C.UTF-8', '/opt/py', process.env.HOME],
    );
    for (const k of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'PGPASSWORD',
      'MODELREG_REGISTRY_PASSWORD',
      'MY_SETTING',
      'PYTHON_KEYRING_PASSWORD',
    ])
      assert.strictEqual(got[k], undefined, `${k} reached the tool`);
    assert.deepStrictEqual(
      [got.HF_TOKEN, got.CUDA_VISIBLE_DEVICES],
      ['hf-secret', '1'],
      'what the profile names by name passes',
    );
  };
  beforeEach(async () => {
    work = tempDir();
    dumper = path.join(work, 'dump-env');
    writeFileSync(dumper, DUMP_ENV);
    chmodSync(dumper, 0o755);
    const out = path.join(work, 'run');
    mkdirSync(out);
    await writeOnnx(path.join(out, 'model.onnx'));
    r = await Registry.open(path.join(work, '.modelreg'));
    await importTrainingOutput(r, out, { model: 'net' });
  });
  afterEach(() => r.close());

  it('toolEnv: the minimal set, secrets out even when they match it, named ones and prefixes in', () => {
    const env = toolEnv(['CUDA_*'], {
      PATH: '/bin',
      HOME: '/h',
      LC_CTYPE: 'C',
      PYTHONHOME: '/py',
      PYTHON_KEYRING_PASSWORD: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      CUDA_VISIBLE_DEVICES: '0',
      CUDA_HOME: '/cuda',
      OTHER: 'x',
    });
    assert.deepStrictEqual(env, {
      PATH: '/bin',
      HOME: '/h',
      LC_CTYPE: 'C',
      PYTHONHOME: '/py',
      CUDA_VISIBLE_DEVICES: '0',
      CUDA_HOME: '/cuda',
    });
  });

  it('version check (detectTool) and conversion: a real tool dumps its environment', async () => {
    const dumpFile = path.join(work, 'detect.env');
    const profile = checkProfile(
      {
        id: 'dump',
        tool: dumper,
        versionArgs: [dumpFile],
        env: ['CUDA_VISIBLE_DEVICES', 'HF_TOKEN'],
        inputs: ['.onnx'],
        targetFormat: 'x',
        args: ['${outputDir}/env.txt'],
        outputs: ['env.txt'],
      },
      'test',
    );
    assert.strictEqual((await detectTool(profile, callerEnv())).available, true);
    expectMinimal(parse(dumpFile));
    assert.ok(
      !readFileSync(dumpFile + '.cwd', 'utf8').startsWith(process.cwd()),
      'the version check ran in the current folder',
    );
    const v = await convertWithProfile(r, 'net@v1', profile, { env: callerEnv() });
    const f = (await r.files(v.id)).find((x) => x.path === 'env.txt')!;
    expectMinimal(parse(r.store.objectPath(f.sha256)));
  });

  it('an external evaluator: the same minimal environment', async () => {
    const csv = path.join(work, 'data.csv');
    writeFileSync(csv, 'x1,x2,label\n1,0,a\n0,1,b\n');
    await registerDataset(r, csv, { name: 'points' });
    const dumpFile = path.join(work, 'eval.env');
    const script = path.join(work, 'eval-dump');
    writeFileSync(script, `#!/bin/sh\nenv > ${dumpFile}\necho '{}' > "$1/metrics.json"\n: > "$1/predictions.jsonl"\n`);
    chmodSync(script, 0o755);
    const profile = checkEvaluatorProfile(
      { id: 'dump', tool: script, args: ['${outputDir}'], env: ['CUDA_VISIBLE_DEVICES', 'HF_TOKEN'] },
      'test',
    );
    await evaluateExternally(r, 'net@v1', profile, { dataset: 'points', env: callerEnv() });
    expectMinimal(parse(dumpFile));
  });
});

// External tool profiles run real child processes: a stand-in `atc` written by the test behaves like
// the real one (version, log lines, an .om output, exit codes), found on PATH as the real one would be.
import * as assert from 'assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { convertWithProfile } from '../../../src/core/convert/convert';
import { BUILTIN_PROFILES, checkProfile, commandLine, detectTool } from '../../../src/core/convert/profiles';
import { importTrainingOutput } from '../../../src/core/importers/trainingOutput';
import { Registry } from '../../../src/core/registry/registry';
import { writeOnnx, writeSavedModel } from '../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../helpers/tmp';

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
    assert.deepStrictEqual(await detectTool(atc, env), { available: true, path: path.join(bin, 'atc'), version: 'ATC version 7.0.0 (stand-in)' });
    const missing = await detectTool(atc, { ...process.env, PATH: work });
    assert.strictEqual(missing.available, false);
    assert.match(missing.problem!, /atc not found on PATH\. Install the Ascend CANN toolkit/);
  });

  it('fills the command line: placeholders, split parameters, empty arguments dropped', () => {
    const trt = BUILTIN_PROFILES.find((p) => p.id === 'trtexec')!;
    assert.deepStrictEqual(commandLine(trt, { input: '/w/in/m.onnx', outputDir: '/w/out' }, { precision: '--fp16 --int8', extra: '' }), ['--onnx=/w/in/m.onnx', '--saveEngine=/w/out/m.engine', '--fp16', '--int8']);
    assert.throws(() => checkProfile({ id: 'mine', tool: 'x', targetFormat: 'y', inputs: ['.onnx'], args: 'nope', outputs: [] }, 'settings'), /settings: profile "mine": "args" must be a list of strings/);
  });

  it('runs atc on the ONNX file: a new version with model.om, config shared, tool and log recorded', async () => {
    const lines: string[] = [];
    const v = await convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend310B1' }, log: (l) => lines.push(l) });
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path), ['config.json', 'model.om']);
    const om = readFileSync(r.store.objectPath(files[1].sha256));
    const onnx = readFileSync(path.join(work, 'run', 'model.onnx'));
    assert.ok(om.equals(Buffer.concat([Buffer.from('OM:Ascend310B1:5:'), onnx])), 'atc got the version\'s model.onnx and its parameters');
    const c = v.details.conversion as { converter: string; params: Record<string, string>; tool: { version: string }; log: string };
    assert.deepStrictEqual([v.format, v.parentKind, c.converter, c.params.soc_version, c.tool.version], ['om', 'conversion', 'atc', 'Ascend310B1', 'ATC version 7.0.0 (stand-in)']);
    assert.match(readFileSync(c.log, 'utf8'), /ATC run success/);
    assert.ok(lines.some((l) => l.includes('--soc_version=Ascend310B1')), 'the command line is logged');
  });

  it('a failing tool leaves no version, keeps its log and says why', async () => {
    await assert.rejects(convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend910' } }), (e: Error) => {
      assert.match(e.message, /atc failed on model\.onnx \(exit 3\): .*E10001: Value \[Ascend910\] for parameter \[--soc_version\] is invalid\..*Full log: (.*\.log)$/);
      assert.match(readFileSync(/Full log: (.*\.log)$/.exec(e.message)![1], 'utf8'), /E10001[\s\S]*# exit 3/);
      return true;
    });
    assert.deepStrictEqual((await r.listVersions('net')).map((v) => v.number), [1]);
    assert.deepStrictEqual(readdirSync(path.join(work, '.modelreg', 'tmp')), []);
    await assert.rejects(convertWithProfile(r, 'net@v1', atc, { env: { ...process.env, PATH: work } }), /atc: atc not found on PATH/);
    await assert.rejects(convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend999' } }), /soc_version must be one of/);
  });

  it('cancel kills the running tool and leaves nothing', async () => {
    const abort = new AbortController();
    const running = convertWithProfile(r, 'net@v1', atc, { env, params: { soc_version: 'Ascend910B' }, signal: abort.signal, log: (l) => l.startsWith('ATC start') && setTimeout(() => abort.abort(), 200) });
    await assert.rejects(running, /cancelled/);
    assert.deepStrictEqual((await r.listVersions('net')).map((v) => v.number), [1]);
    assert.ok(!existsSync(path.join(work, '.modelreg', 'tmp')) || readdirSync(path.join(work, '.modelreg', 'tmp')).length === 0);
  });

  it('a SavedModel profile (input saved_model.pb) gets the folder and replaces its variables; files beside it stay', async () => {
    const sm = path.join(work, 'sm');
    await writeSavedModel(sm);
    writeFileSync(path.join(sm, 'metrics.json'), '{"accuracy": 0.7}');
    await importTrainingOutput(r, sm, { model: 'tfnet' });
    // A stand-in converter: lists the folder it was given into the output, as tf2onnx would read it.
    writeFileSync(path.join(bin, 'fake-tf2onnx'), `#!/usr/bin/env node
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
fs.writeFileSync(process.argv[3], fs.readdirSync(dir).sort().join(',') + ';' + fs.readdirSync(path.join(dir, 'variables')).sort().join(','));
`);
    chmodSync(path.join(bin, 'fake-tf2onnx'), 0o755);
    const profile = checkProfile({ id: 'sm2onnx', tool: 'fake-tf2onnx', inputs: ['saved_model.pb'], targetFormat: 'onnx', args: ['${inputDir}', '${outputDir}/model.onnx'], outputs: ['model.onnx'] }, 'test');
    const v = await convertWithProfile(r, 'tfnet@v1', profile, { env });
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path), ['metrics.json', 'model.onnx']);
    assert.strictEqual(readFileSync(r.store.objectPath(files[1].sha256), 'utf8'), 'metrics.json,saved_model.pb,variables;variables.data-00000-of-00001,variables.index');
  });
});

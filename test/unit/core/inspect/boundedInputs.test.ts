/**
 * Hostile inputs that used to crash or hang the readers (issue 15, items 9, 10 and 21): deep
 * nesting, FIFOs and other non-regular files, logs with absurd widths or lengths, safetensors headers
 * that break the format's rules, corrupt images. Real files, a real registry, real child processes.
 */
import * as assert from 'assert';
import { execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { pathToFileURL } from 'url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { loadTemplateCatalog, ConfigLanguage, checkConfig } from '../../../../src/core';
import { InputError } from '../../../../src/core/errors';
import { ImagePool } from '../../../../src/core/evaluate/imagePool';
import { decodeImage, loadImage } from '../../../../src/core/datasets/samples';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import {
  readCsvLog,
  readMetricLogs,
  readMetricsJson,
  readParams,
  readTrainerState,
} from '../../../../src/core/inspect/logs';
import { readSafetensors } from '../../../../src/core/inspect/weights/safetensors';
import { Registry } from '../../../../src/core/registry/registry';
import { MAX_JSON_DEPTH, checkValueDepth, parseJsonBounded, scanJson } from '../../../../src/core/util/json';
import { readRegularFile, timeBoxed } from '../../../../src/core/util/readFile';
import { serverInfoRequest } from '../../../../src/shared/configProtocol';
import { eventually } from '../../../helpers/eventually';
import { writeSafetensors } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { doc } from '../config/helpers';
import { CLI_JS, compiled } from '../../helpers/paths';

const cli = CLI_JS;
const serverScript = compiled('src/server/server.js');

function modelreg(cwd: string, ...args: string[]) {
  // A generous timeout: these cases used to hang forever; the result must come back, not a kill.
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 50_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** No JavaScript stack in what the CLI printed. */
function assertNoStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+\(.*:\d+:\d+\)|RangeError|Maximum call stack/, text);
}

const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** A safetensors file from a header given as text and `dataBytes` data bytes. */
function rawSafetensors(file: string, headerText: string, dataBytes = 0): string {
  const padded = headerText + ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(padded)));
  writeFileSync(file, Buffer.concat([len, Buffer.from(padded), Buffer.alloc(dataBytes)]));
  return file;
}

async function rejectsInput(p: Promise<unknown>, file: string, problem: RegExp): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${(e as Error)?.stack ?? e}`);
    assert.strictEqual(path.basename(e.file), path.basename(file), e.message);
    assert.match(e.problem, problem);
    return e;
  }
  assert.fail(`expected ${file} to be refused with ${problem}`);
}

function mkfifo(file: string): string {
  execFileSync('mkfifo', [file]);
  return file;
}

describe('bounded JSON helper', () => {
  it('scans depth outside strings and comments, and finds repeated keys only when asked', () => {
    assert.strictEqual(scanJson(deepArray(MAX_JSON_DEPTH)), undefined);
    assert.deepStrictEqual(scanJson(deepArray(MAX_JSON_DEPTH + 1)), {
      offset: MAX_JSON_DEPTH,
      problem: `is nested more than ${MAX_JSON_DEPTH} levels deep`,
    });
    assert.strictEqual(scanJson(`{"s": "${'['.repeat(1000)}", "t": "\\"[[["} // ${'{'.repeat(500)}`), undefined);
    assert.strictEqual(scanJson('{"a": 1, "a": 2}'), undefined);
    assert.match(
      scanJson('{"a": 1, "b": {"a": 2}, "\\u0061": 3}', { uniqueKeys: true })!.problem,
      /repeats the key "a"/,
    );
    assert.strictEqual(scanJson('{"a": ["a", "a"], "b": {"a": "a"}}', { uniqueKeys: true }), undefined);
  });

  it('parseJsonBounded names the file, the line and the column', () => {
    assert.throws(
      () => parseJsonBounded(`{\n "x": ${deepArray(100_000)}}`, 'f.json'),
      (e: InputError) =>
        e.file === 'f.json' && /nested more than 128 levels deep \(at line 2, column 134\)/.test(e.problem),
    );
    assert.throws(
      () => parseJsonBounded('{\n "x": 1 "y": 2}', 'f.json'),
      (e: InputError) => /^not valid JSON at line 2, column 9/.test(e.problem),
    );
    assert.deepStrictEqual(parseJsonBounded('{"x": [1]}', 'f.json'), { x: [1] });
  });

  it('checkValueDepth walks parsed values without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 200_000; i++) v = [v];
    assert.throws(() => checkValueDepth(v, 'h.yaml'), /h\.yaml: value is nested more than 128 levels deep/);
    checkValueDepth(JSON.parse(deepObject(MAX_JSON_DEPTH)), 'ok.yaml');
  });
});

describe('deep nesting (issue 15 item 9)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('deep-');
  });

  it('a safetensors __metadata__ nested 100k deep is refused, naming the file', async () => {
    const f = rawSafetensors(
      path.join(dir, 'model.safetensors'),
      `{"__metadata__":{"x":${deepObject(100_000)}},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
      4,
    );
    await rejectsInput(readSafetensors(f), f, /safetensors header is nested more than 128 levels deep/);
  });

  it('metrics.json, metrics.jsonl and trainer_state.json nested 100k deep are refused, not a stack overflow', async () => {
    const mj = path.join(dir, 'metrics.json');
    writeFileSync(mj, `{"loss": 1, "deep": ${deepObject(100_000)}}`);
    await rejectsInput(readMetricsJson(mj, 'metrics.json'), mj, /nested more than 128 levels deep/);
    const jl = path.join(dir, 'metrics.jsonl');
    writeFileSync(jl, `{"step": 1, "loss": 1}\n{"step": 2, "x": ${deepObject(100_000)}}\n`);
    await rejectsInput(readMetricsJson(jl, 'metrics.jsonl'), jl, /line 2 is nested more than 128 levels deep/);
    const ts = path.join(dir, 'trainer_state.json');
    writeFileSync(ts, `{"log_history": [${deepArray(5_000)}]}`);
    await rejectsInput(readTrainerState(ts, 'trainer_state.json'), ts, /nested more than 128 levels deep/);
  });

  it('a config.json nested 100k deep fails the import with a message naming it', async () => {
    const out = path.join(dir, 'run');
    mkdirSync(out);
    await writeSafetensors(path.join(out, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2] }]);
    writeFileSync(path.join(out, 'config.json'), `{"model_type": "bert", "x": ${deepObject(100_000)}}`);
    const r = await Registry.open(path.join(tempDir(), '.modelreg'));
    try {
      await rejectsInput(
        importTrainingOutput(r, out),
        path.join(out, 'config.json'),
        /nested more than 128 levels deep/,
      );
      assert.deepStrictEqual(await r.listModels(), []);
    } finally {
      await r.close();
    }
  });

  it('YAML parameters nested deeper than the bound are refused in our words', async () => {
    for (const [name, text] of [
      ['flow', `a: ${deepArray(100_000)}\n`],
      ['block', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n'],
      ['shallow-enough-for-yaml', `a: ${deepArray(200)}\n`],
    ]) {
      const f = path.join(dir, `${name}.yaml`);
      writeFileSync(f, text);
      const e = await rejectsInput(readParams(f), f, /nested more than 128 levels deep/);
      assert.doesNotMatch(e.message, /call stack/, name);
    }
  });

  it('a template whose template.json nests 100k deep is reported and skipped, the others load', async () => {
    const user = tempDir('templates-');
    mkdirSync(path.join(user, 'deep'));
    writeFileSync(
      path.join(user, 'deep', 'template.json'),
      `{"id": "deep", "title": "Deep", "defaults": {"x": ${deepObject(100_000)}}}`,
    );
    const catalog = await loadTemplateCatalog({ userDirs: [user] });
    assert.ok(catalog.templates.length > 0);
    assert.ok(!catalog.templates.some((t) => t.id === 'deep'));
    assert.ok(
      catalog.problems.some(
        (p) => /template\.json$/.test(p.file) && /nested more than 128 levels deep/.test(p.problem),
      ),
      catalog.problems.map((p) => p.message).join('\n'),
    );
  });

  it('the config language gives a too-deep document one diagnostic instead of crashing', async () => {
    const language = new ConfigLanguage(await loadTemplateCatalog());
    for (const depth of [5_000, 100_000]) {
      const text = `{\n  "$template": "image-classification",\n  "x": ${deepArray(depth)}\n}`;
      const diagnostics = await language.validate(doc(text), { syntax: true });
      assert.strictEqual(diagnostics.length, 1, JSON.stringify(diagnostics.slice(0, 3)));
      assert.match(String(diagnostics[0].message), /nested more than 128 levels deep/);
      assert.strictEqual(diagnostics[0].range.start.line, 2);
      const dir2 = tempDir('deep-config-');
      const { diagnostics: d2 } = await checkConfig(language, path.join(dir2, 'config.json'), text);
      assert.strictEqual(d2.length, 1);
    }
  });

  it('CLI: validate and import of a 100k-deep config.json exit with a message, no stack trace', () => {
    const ws = tempDir('deep-cli-');
    mkdirSync(path.join(ws, 'out'));
    writeFileSync(
      path.join(ws, 'out', 'config.json'),
      `{"$template": "image-classification", "x": ${deepObject(100_000)}}`,
    );
    const v = modelreg(ws, 'validate', 'out/config.json');
    assert.strictEqual(v.code, 1, v.err + v.out);
    assert.match(v.out, /nested more than 128 levels deep/);
    assertNoStack(v.out + v.err);
    const i = modelreg(ws, 'import', 'out');
    assert.ok(i.code === 1 || i.code === 2, `exit ${i.code} ${i.signal}: ${i.err}`);
    assert.match(i.err, /config\.json.*nested more than 128 levels deep/);
    assertNoStack(i.err);
    writeFileSync(path.join(ws, 'out', 'config.json'), '{}');
    writeFileSync(path.join(ws, 'out', 'metrics.json'), `{"x": ${deepObject(100_000)}}`);
    const m = modelreg(ws, 'import', 'out');
    assert.strictEqual(m.code, 2, m.err);
    assert.match(m.err, /metrics\.json.*nested more than 128 levels deep/);
    assertNoStack(m.err);
  });

  it('the language server publishes one diagnostic for a 100k-deep $template config and keeps serving', async function () {
    const ws = tempDir('deep-lsp-');
    const child = spawn(process.execPath, [serverScript, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const diagnostics = new Promise<{ uri: string; diagnostics: { message: string }[] }>((resolve) =>
      conn.onNotification(
        'textDocument/publishDiagnostics',
        (p: { uri: string; diagnostics: { message: string }[] }) => {
          if (p.uri.endsWith('config.json')) resolve(p);
        },
      ),
    );
    conn.listen();
    try {
      await conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        workspaceFolders: [{ uri: pathToFileURL(ws).toString(), name: 'ws' }],
        initializationOptions: { syntaxErrors: true },
      });
      await conn.sendNotification('initialized', {});
      // The templates load asynchronously; the info request answers once the server is up.
      await eventually(async () => assert.ok((await conn.sendRequest(serverInfoRequest)).templates.length), {
        message: 'the server loaded its templates',
      });
      const uri = pathToFileURL(path.join(ws, 'config.json')).toString();
      await conn.sendNotification('textDocument/didOpen', {
        textDocument: {
          uri,
          languageId: 'json',
          version: 1,
          text: `{"$template": "image-classification", "x": ${deepArray(100_000)}}`,
        },
      });
      const published = await diagnostics;
      assert.strictEqual(published.diagnostics.length, 1, JSON.stringify(published.diagnostics.slice(0, 3)));
      assert.match(published.diagnostics[0].message, /nested more than 128 levels deep/);
      for (const method of ['textDocument/hover', 'textDocument/completion']) {
        await conn.sendRequest(method, { textDocument: { uri }, position: { line: 0, character: 5 } });
      }
      await conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
      const info = await conn.sendRequest(serverInfoRequest);
      assert.strictEqual(info.pid, child.pid, stderr);
      assert.strictEqual(child.exitCode, null, stderr);
    } finally {
      conn.dispose();
      child.kill();
    }
  });
});

describe('non-regular files, wide and long logs, time limits (issue 15 item 10)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('bounds-');
  });

  it('readRegularFile refuses a FIFO without blocking, and a folder, and a file over the size limit', async () => {
    const fifo = mkfifo(path.join(dir, 'pipe.json'));
    await rejectsInput(readRegularFile(fifo, { maxBytes: 1000 }), fifo, /is a named pipe \(FIFO\), not a regular file/);
    await rejectsInput(readRegularFile(dir, { maxBytes: 1000 }), dir, /is a folder, not a regular file/);
    await rejectsInput(
      readRegularFile('/dev/zero', { maxBytes: 1000 }),
      '/dev/zero',
      /is a device, not a regular file/,
    );
    const big = path.join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(1001));
    await rejectsInput(
      readRegularFile(big, { maxBytes: 1000 }),
      big,
      /too large to read \(1001 bytes, limit 1000 bytes\)/,
    );
    assert.strictEqual((await readRegularFile(big, { maxBytes: 1001 })).length, 1001);
    await rejectsInput(readRegularFile(path.join(dir, 'none'), { maxBytes: 1 }), 'none', /no such file/);
  });

  it('parameter and log readers refuse a FIFO instead of waiting for a writer', async () => {
    const cfg = mkfifo(path.join(dir, 'config.json'));
    await rejectsInput(readParams(cfg, 'config.json'), cfg, /named pipe/);
    const csv = mkfifo(path.join(dir, 'metrics.csv'));
    await rejectsInput(readCsvLog(csv, 'metrics.csv'), csv, /named pipe/);
    const mj = mkfifo(path.join(dir, 'metrics.json'));
    await rejectsInput(readMetricsJson(mj, 'metrics.json'), mj, /named pipe/);
  });

  it('CLI: importing a folder whose config.json is a FIFO ends with a message instead of hanging', () => {
    const ws = tempDir('fifo-cli-');
    mkdirSync(path.join(ws, 'out'));
    writeFileSync(path.join(ws, 'out', 'weights.bin'), 'w');
    mkfifo(path.join(ws, 'out', 'config.json'));
    const r = modelreg(ws, 'import', 'out');
    assert.strictEqual(r.signal, null, 'the import hung and was killed');
    assert.strictEqual(r.code, 2, r.err);
    assert.match(r.err, /config\.json: is a named pipe \(FIFO\), not a regular file/);
    const v = modelreg(ws, 'validate', 'out/config.json');
    assert.strictEqual(v.signal, null, 'validate hung and was killed');
    assert.strictEqual(v.code, 2, v.err);
    assert.match(v.err, /named pipe/);
  });

  it('a metrics.csv with 10^6 columns is refused from its header, naming the file and the bound', async () => {
    const f = path.join(dir, 'metrics.csv');
    const cols = Array.from({ length: 1_000_000 }, (_, i) => `m${i}`);
    writeFileSync(f, `step,${cols.join(',')}\n0,${cols.map(() => '1').join(',')}\n`);
    await rejectsInput(
      readCsvLog(f, 'metrics.csv'),
      f,
      /has 1000001 columns; a log may have at most 10000 metric series; not read/,
    );
  });

  it('a log with more series or more points than the bound is refused, saying how many', async () => {
    const wide = path.join(dir, 'metrics.json');
    writeFileSync(wide, JSON.stringify(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`m${i}`, 1]))));
    await rejectsInput(readMetricsJson(wide, 'metrics.json'), wide, /more than 10000 metric series/);
    const long = path.join(dir, 'long', 'metrics.json');
    mkdirSync(path.dirname(long));
    writeFileSync(long, `{"loss": [${'0,'.repeat(2_000_000)}0]}`);
    await rejectsInput(readMetricsJson(long, 'metrics.json'), long, /more than 2000000 points/);
  });

  it('a reader past its time limit stops with an error naming the file', async () => {
    const f = path.join(dir, 'metrics.csv');
    const rows = ['step,loss,acc'];
    for (let i = 0; i < 300_000; i++) rows.push(`${i},${1 / (i + 1)},${i / 300_000}`);
    writeFileSync(f, rows.join('\n'));
    assert.strictEqual((await readMetricLogs(dir, ['metrics.csv']))[0].series.length, 2);
    await rejectsInput(
      (readMetricLogs as (...a: unknown[]) => Promise<unknown>)(dir, ['metrics.csv'], { timeLimitMs: 1 }),
      'metrics.csv',
      /reading it took longer than 1 ms; stopped/,
    );
    // A reader stuck waiting (on I/O that never completes) is abandoned too.
    await rejectsInput(
      timeBoxed('stuck.log', () => new Promise<never>(() => undefined), 50),
      'stuck.log',
      /took longer than 50 ms/,
    );
  });
});

describe('safetensors rules and corrupt images (issue 15 item 21)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('st-');
  });
  const tensor = (dtype: string, shape: number[], begin: number, end: number) =>
    JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

  it('an unknown dtype is refused with the dtypes the format defines', async () => {
    const f = rawSafetensors(path.join(dir, 'q.safetensors'), `{"w": ${tensor('Q99', [4], 0, 4)}}`, 4);
    await rejectsInput(
      readSafetensors(f),
      f,
      /tensor 'w' has unknown dtype 'Q99' \(safetensors defines BOOL, .*F4.*\)/,
    );
  });

  it('sub-byte dtypes must fill whole bytes and match the byte size', async () => {
    const bad = rawSafetensors(path.join(dir, 'f4.safetensors'), `{"w": ${tensor('F4', [4], 0, 5)}}`, 5);
    await rejectsInput(readSafetensors(bad), bad, /tensor 'w' has 5 bytes but F4 \[4\] needs 2/);
    const odd = rawSafetensors(path.join(dir, 'odd.safetensors'), `{"w": ${tensor('F4', [3], 0, 2)}}`, 2);
    await rejectsInput(readSafetensors(odd), odd, /F4 \[3\] is 12 bits, not a whole number of bytes/);
    const ok = rawSafetensors(
      path.join(dir, 'ok.safetensors'),
      `{"a": ${tensor('F4', [4], 0, 2)}, "b": ${tensor('F6_E2M3', [4], 2, 5)}}`,
      5,
    );
    const info = await readSafetensors(ok);
    assert.strictEqual(info.parameterCount, 8);
  });

  it('a header with the same key twice is refused, naming the key', async () => {
    const f = rawSafetensors(
      path.join(dir, 'dup.safetensors'),
      `{"w": ${tensor('F32', [1], 0, 4)}, "w": ${tensor('F32', [1], 4, 8)}}`,
      8,
    );
    await rejectsInput(readSafetensors(f), f, /safetensors header repeats the key "w"/);
  });

  it('__metadata__ holds strings only, as the format says', async () => {
    const f = rawSafetensors(
      path.join(dir, 'meta.safetensors'),
      `{"__metadata__": {"format": "pt", "n": {"a": 1}}, "w": ${tensor('F32', [1], 0, 4)}}`,
      4,
    );
    await rejectsInput(readSafetensors(f), f, /__metadata__ value "n" is not a string/);
  });

  it('a corrupt PNG is named and described in our words, on this thread and through the worker pool', async () => {
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(200);
    const good = PNG.sync.write(png);
    const cases: [string, Buffer, RegExp][] = [];
    const crc = Buffer.from(good);
    crc[crc.length - 20] ^= 0xff; // inside IDAT: its checksum no longer matches
    cases.push(['crc.png', crc, /corrupt PNG: a chunk's checksum does not match its data/]);
    cases.push(['cut.png', good.subarray(0, 40), /corrupt PNG: the file ends early \(truncated\)/]);
    const idat = good.indexOf('IDAT');
    const zlib = Buffer.from(good);
    zlib.fill(0x55, idat + 6, idat + 12);
    fixCrc(zlib, idat - 4);
    cases.push(['zlib.png', zlib, /corrupt PNG: its compressed image data cannot be decompressed/]);
    // The compiled worker script must exist, or the pool would quietly decode on this thread.
    assert.ok(existsSync(compiled('src/core/evaluate/decodeWorker.js')));
    const pool = new ImagePool(1);
    try {
      for (const [name, bytes, expected] of cases) {
        const f = path.join(dir, name);
        writeFileSync(f, bytes);
        for (const load of [loadImage, pool.load.bind(pool)]) {
          const e = await rejectsInput(
            load(f, { size: [4, 4], scale: 1, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB', layout: 'NCHW' }),
            f,
            expected,
          );
          assert.doesNotMatch(e.problem, /Crc error|Unexpected end|invalid|incorrect header|unrecognised/i, e.problem);
        }
      }
    } finally {
      await pool.close();
    }
  });
});

describe('a PNG whose compressed data is damaged', () => {
  it('is refused on every decode, whatever is in memory (pngjs alone returned uninitialised memory as pixels)', () => {
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(200);
    const bytes = Buffer.from(PNG.sync.write(png));
    const idat = bytes.indexOf('IDAT');
    bytes.fill(0x55, idat + 6, idat + 12);
    fixCrc(bytes, idat - 4);
    let decoded = 0;
    const churn: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      churn.push(Buffer.allocUnsafe(1024).fill(i & 255)); // leaves non-zero bytes where the decoder's buffers come from
      if (churn.length > 32) churn.shift();
      try {
        decodeImage('damaged.png', bytes);
        decoded++;
      } catch (e) {
        assert.match(
          (e as Error).message,
          /damaged\.png: .*corrupt PNG: its compressed image data cannot be decompressed/,
        );
      }
    }
    assert.strictEqual(decoded, 0, 'a damaged PNG was decoded into pixels');
  });
});

/** Recomputes the CRC of the PNG chunk starting (length field) at `at`. */
function fixCrc(buf: Buffer, at: number) {
  const len = buf.readUInt32BE(at);
  let c = ~0;
  for (let i = at + 4; i < at + 8 + len; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  buf.writeUInt32BE(~c >>> 0, at + 8 + len);
}

// config.json language-server benchmark (not a test): diagnostics latency on a 5k-line config.json,
// against bare vscode-json-languageservice validation (parse + doValidation with the same schema) of
// the same text in the same run. Three numbers:
//   bare        jsonls alone, in process (the reference)
//   ours        src/core/config validate(): schema + semantic checks (files beside it, API schemas…)
//   server      dist/server.js over stdio: didOpen → publishDiagnostics, IPC and JSON included
// Every round changes one value so nothing is served from a per-text cache except what typing would hit.
import { spawn } from 'child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath, pathToFileURL } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const core = require(path.join(repo, 'out/src/core/config/index.js'));
const { getLanguageService, TextDocument } = require('vscode-json-languageservice');
const rpc = require('vscode-jsonrpc/node');

const ROUNDS = 30;
const WARMUP = 5;

/** A big but realistic config: many APIs with detailed schemas and a long dependency list. */
function bigConfig(round) {
  const prop = (i) => ({
    type: 'object',
    description: `field ${i}`,
    properties: { value: { type: 'number', minimum: 0 }, label: { type: 'string', maxLength: 64 } },
    required: ['value'],
  });
  const schema = (n) => ({
    type: 'object',
    properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, prop(i)])),
    required: ['f0'],
  });
  return {
    $template: 'image-classification',
    model_type: 'ONNX',
    model_algorithm: 'image_classification',
    runtime: 'onnxruntime_1.17-python3.10',
    modle_name: 'misspelt on purpose', // one schema problem
    metrics: {
      accuracy: 90 + round / 100, // and one semantic problem, with a quick fix
      precision: 0.88,
      recall: 0.87,
      f1: 0.875,
    },
    apis: Array.from({ length: 24 }, (_, a) => ({
      protocol: 'https',
      url: `/v1/predict/${a}`,
      method: 'post',
      request: { 'Content-type': 'application/json', data: schema(8) },
      response: { 'Content-type': 'application/json', data: schema(8) },
    })),
    dependencies: [
      {
        installer: 'pip',
        packages: Array.from({ length: 120 }, (_, i) => ({
          package_name: `package-${i}`,
          package_version: `1.${i}.0`,
          restraint: 'ATLEAST',
        })),
      },
    ],
    registry: { name: 'bench', description: 'benchmark config', tags: ['bench'], files: ['model.onnx'] },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/**
 * Median ms of each contender. Each runs its own block of rounds: interleaving them would make each
 * pay for the garbage of the one before it (all three allocate a 7k-line document's worth per round).
 */
async function timeRounds(contenders) {
  const medians = [];
  for (const fn of contenders) {
    const times = [];
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      const t = performance.now();
      await fn(r);
      if (r >= WARMUP) times.push(performance.now() - t);
    }
    medians.push(median(times));
  }
  return medians;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-config-'));
try {
  copyFileSync(path.join(repo, 'test/fixtures/onnx-model-zoo/light_squeezenet.onnx'), path.join(work, 'model.onnx'));
  const texts = Array.from({ length: WARMUP + ROUNDS }, (_, r) => JSON.stringify(bigConfig(r), null, 2) + '\n');
  const lines = texts[0].split('\n').length - 1;
  const file = path.join(work, 'config.json');
  writeFileSync(file, texts[0]);
  const uri = pathToFileURL(file).toString();

  const catalog = await core.loadTemplateCatalog();
  const language = new core.ConfigLanguage(catalog);
  const template = language.template('image-classification');

  // The reference: jsonls with the same schemas, resolved the same way.
  const schemas = new Map([
    [core.BASE_SCHEMA_URI, catalog.baseSchema],
    ...catalog.templates.map((t) => [t.schemaUri, t.schema]),
  ]);
  const bare = getLanguageService({ schemaRequestService: async (u) => JSON.stringify(schemas.get(u)) });
  bare.configure({
    validate: true,
    schemas: [{ uri: 'bench://schema.json', fileMatch: ['*'], schema: { $ref: template.schemaUri } }],
  });
  let bareCount = 0;
  const bareRound = async (r) => {
    const doc = TextDocument.create(uri, 'json', r + 1, texts[r]);
    bareCount = (await bare.doValidation(doc, bare.parseJSONDocument(doc))).length;
  };

  let oursCount = 0;
  const oursRound = async (r) => {
    const doc = TextDocument.create(uri, 'json', r + 1, texts[r]);
    oursCount = (await language.validate(doc, { dir: work, syntax: true })).length;
  };

  // The language server process, as VS Code runs it (ipc there, stdio here; the same messages).
  const child = spawn(process.execPath, [path.join(repo, 'dist/server.js'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const conn = rpc.createMessageConnection(
    new rpc.StreamMessageReader(child.stdout),
    new rpc.StreamMessageWriter(child.stdin),
  );
  let waiting;
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    // Only this round's report: closing a document publishes an empty one (no version).
    if (waiting && p.uri === waiting.uri && p.version === waiting.version) waiting.resolve(p.diagnostics);
  });
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(work).toString(),
    workspaceFolders: [{ uri: pathToFileURL(work).toString(), name: 'bench' }],
    capabilities: {},
    initializationOptions: { syntaxErrors: true },
  });
  await conn.sendNotification('initialized', {});
  await conn.sendRequest('modelRegistry/serverInfo'); // templates loaded once this answers after initialized
  await new Promise((r) => setTimeout(r, 300));
  let serverCount = 0;
  const serverRound = async (r) => {
    const docUri = uri;
    const done = new Promise((resolve) => (waiting = { uri: docUri, version: r + 1, resolve }));
    await conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: docUri, languageId: 'json', version: r + 1, text: texts[r] },
    });
    serverCount = (await done).length;
    await conn.sendNotification('textDocument/didClose', { textDocument: { uri: docUri } });
  };
  const [bareMs, oursMs, serverMs] = await timeRounds([bareRound, oursRound, serverRound]);
  conn.dispose();
  child.kill();

  console.log(`config.json diagnostics, ${lines} lines, median of ${ROUNDS} rounds (after ${WARMUP} warm-up):`);
  console.log(`  bare vscode-json-languageservice  ${bareMs.toFixed(1)} ms  (${bareCount} diagnostics)`);
  console.log(
    `  ours, in process                  ${oursMs.toFixed(1)} ms  (${oursCount})  ratio ${(oursMs / bareMs).toFixed(2)} (goal ≤ 1.3)`,
  );
  console.log(
    `  language server, didOpen → diags  ${serverMs.toFixed(1)} ms  (${serverCount})  ratio ${(serverMs / bareMs).toFixed(2)}`,
  );
  console.log('  (typing adds the debounce, modelRegistry.config.validationDelay = 200 ms, before the server starts)');
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The config.json language server as a real client sees it: the compiled server started over
// stdio, spoken to with vscode-languageserver-protocol's own connection. What it registers and
// pulls depends on the capabilities the client announces in `initialize`.
import * as assert from 'assert/strict';
import { spawn } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import {
  ClientCapabilities,
  CompletionList,
  CompletionRequest,
  CompletionTriggerKind,
  ConfigurationItem,
  ConfigurationRequest,
  createProtocolConnection,
  Diagnostic,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  DidChangeWorkspaceFoldersNotification,
  FileChangeType,
  DidOpenTextDocumentNotification,
  InitializedNotification,
  InitializeRequest,
  InitializeResult,
  PublishDiagnosticsNotification,
  Registration,
  RegistrationRequest,
} from 'vscode-languageserver-protocol/node';
import { serverInfoRequest } from '../../../src/shared/configProtocol';
import { eventually } from '../../helpers/eventually';
import { compiled } from '../helpers/paths';
import { tempDir } from '../helpers/tmp';

/** What VS Code's client announces, for the parts the server looks at. */
const FULL: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix'] } } } },
};

type Settings = { config?: { files?: string[] } };

/** Starts the server with `capabilities`; records what it registers, asks and publishes. */
async function startServer(capabilities: ClientCapabilities, folders: string[], settings: () => Settings) {
  const child = spawn(process.execPath, [compiled('src/server/server.js'), '--stdio'], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const conn = createProtocolConnection(child.stdout, child.stdin);
  const registrations: Registration[] = [];
  const configurationAsked: ConfigurationItem[] = [];
  const diagnostics = new Map<string, Diagnostic[]>();
  conn.onRequest(RegistrationRequest.type, (p) => void registrations.push(...p.registrations));
  conn.onRequest(ConfigurationRequest.type, (p) => {
    configurationAsked.push(...p.items);
    return p.items.map((item) => (item.section === 'modelRegistry' ? settings() : null));
  });
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    diagnostics.set(p.uri, p.diagnostics);
  });
  conn.listen();
  const asFolder = (f: string) => ({ uri: pathToFileURL(f).toString(), name: path.basename(f) });
  const init: InitializeResult = await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities,
    workspaceFolders: folders.map(asFolder),
    initializationOptions: { syntaxErrors: false },
  });
  await conn.sendNotification(InitializedNotification.type, {});
  // The templates load asynchronously after `initialized`.
  await eventually(async () => assert.ok((await conn.sendRequest(serverInfoRequest)).templates.length), {
    message: `the server loaded its templates (${stderr})`,
  });
  return {
    conn,
    init,
    registrations,
    configurationAsked,
    asFolder,
    messages: (uri: string) =>
      (diagnostics.get(uri) ?? []).map((d) => (typeof d.message === 'string' ? d.message : d.message.value)),
    open(file: string, text: string): string {
      const uri = pathToFileURL(file).toString();
      void conn.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: { uri, languageId: 'json', version: 1, text },
      });
      return uri;
    },
    stop() {
      conn.dispose();
      child.kill();
    },
  };
}

/** A JSON file that is a model config only when `modelRegistry.config.files` names it. */
function plainConfig(ws: string): string {
  mkdirSync(path.join(ws, 'special'), { recursive: true });
  const file = path.join(ws, 'special', 'model.json');
  writeFileSync(file, '{ "model_type": "ONNX", "metrics": { "accuracy": 93.5 } }\n');
  return file;
}
const TEXT = '{ "model_type": "ONNX", "metrics": { "accuracy": 93.5 } }\n';

describe('config.json language server: capabilities, settings and workspace folders', function () {
  this.timeout(30_000);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  afterEach(() => server?.stop());

  it('registers for configuration changes and template files, follows folders when the client can, and offers quick fixes', async () => {
    const ws = tempDir('lsp-caps-');
    server = await startServer(FULL, [ws], () => ({}));
    await eventually(() =>
      assert.deepEqual(server!.registrations.map((r) => [r.method, r.registerOptions]).sort(), [
        ['workspace/didChangeConfiguration', { section: 'modelRegistry' }],
        ['workspace/didChangeWatchedFiles', { watchers: [{ globPattern: '**/.modelreg/templates/**' }] }],
      ]),
    );
    assert.ok(server.init.capabilities.codeActionProvider, 'code actions are offered');
    assert.deepEqual(server.init.capabilities.workspace?.workspaceFolders, {
      supported: true,
      changeNotifications: true,
    });
  });

  it('without those capabilities registers nothing, offers no code actions and takes pushed settings', async () => {
    const ws = tempDir('lsp-nocaps-');
    server = await startServer({}, [ws], () => ({}));
    const uri = server.open(plainConfig(ws), TEXT);
    assert.equal(server.init.capabilities.codeActionProvider, undefined);
    assert.equal(server.init.capabilities.workspace, undefined);
    await server.conn.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { modelRegistry: { config: { files: ['special/*.json'] } } },
    });
    await eventually(() => assert.ok(server!.messages(uri).some((m) => /metrics.accuracy is 93.5/.test(m))));
    assert.deepEqual(server.registrations, []);
    assert.deepEqual(server.configurationAsked, [], 'nothing pulled from a client that cannot answer');
  });

  it('pulls settings per document, and a settings change pulls them again and checks open documents again', async () => {
    const ws = tempDir('lsp-pull-');
    let settings: Settings = {};
    server = await startServer(FULL, [ws], () => settings);
    const uri = server.open(plainConfig(ws), TEXT);
    await eventually(() =>
      assert.deepEqual(
        server!.configurationAsked.filter((i) => i.scopeUri === uri),
        [{ scopeUri: uri, section: 'modelRegistry' }],
      ),
    );
    assert.deepEqual(server.messages(uri), [], 'not a model config yet');
    settings = { config: { files: ['special/*.json'] } };
    // The pull model's change signal carries no settings.
    await server.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    await eventually(() => assert.ok(server!.messages(uri).some((m) => /metrics.accuracy is 93.5/.test(m))));
    assert.equal(server.configurationAsked.filter((i) => i.scopeUri === uri).length, 2, 'asked again after the change');
  });

  it('follows workspace folders: an added folder’s templates check its configs, a removed one’s no longer do', async () => {
    const [first, second] = [tempDir('lsp-first-'), tempDir('lsp-second-')];
    const templateDir = path.join(second, '.modelreg', 'templates', 'second-only');
    mkdirSync(templateDir, { recursive: true });
    writeFileSync(
      path.join(templateDir, 'template.json'),
      JSON.stringify({ id: 'second-only', title: 'Second', defaults: { model_type: 'ONNX' } }),
    );
    server = await startServer(FULL, [first], () => ({}));
    const uri = server.open(path.join(second, 'config.json'), '{ "$template": "second-only", "model_type": "ONNX" }\n');
    const unknown = (m: string) => /Unknown template "second-only"/.test(m);
    await eventually(() => assert.ok(server!.messages(uri).some(unknown), JSON.stringify(server!.messages(uri))));

    await server.conn.sendNotification(DidChangeWorkspaceFoldersNotification.type, {
      event: { added: [server.asFolder(second)], removed: [] },
    });
    await eventually(() => assert.ok(!server!.messages(uri).some(unknown), JSON.stringify(server!.messages(uri))));
    const info = await server.conn.sendRequest(serverInfoRequest);
    assert.ok(info.templates.includes('second-only'));
    assert.deepEqual(info.folders, [first, second]);

    await server.conn.sendNotification(DidChangeWorkspaceFoldersNotification.type, {
      event: { added: [], removed: [server.asFolder(second)] },
    });
    await eventually(() => assert.ok(server!.messages(uri).some(unknown)));
    assert.deepEqual((await server.conn.sendRequest(serverInfoRequest)).folders, [first]);
  });

  it('reloads templates when the client reports template files changed', async () => {
    const ws = tempDir('lsp-watch-');
    server = await startServer(FULL, [ws], () => ({}));
    const uri = server.open(path.join(ws, 'config.json'), '{ "$template": "watched", "model_type": "ONNX" }\n');
    const unknown = (m: string) => /Unknown template "watched"/.test(m);
    await eventually(() => assert.ok(server!.messages(uri).some(unknown)));
    const templateDir = path.join(ws, '.modelreg', 'templates', 'watched');
    mkdirSync(templateDir, { recursive: true });
    const file = path.join(templateDir, 'template.json');
    writeFileSync(file, JSON.stringify({ id: 'watched', title: 'Watched', defaults: { model_type: 'ONNX' } }));
    await server.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: pathToFileURL(file).toString(), type: FileChangeType.Created }],
    });
    await eventually(() => assert.ok(!server!.messages(uri).some(unknown), JSON.stringify(server!.messages(uri))));
  });

  it("checks modelreg.json with the CLI's words and completes its placeholders, and leaves a config alone on {", async () => {
    const ws = tempDir('lsp-recipe-');
    server = await startServer(FULL, [ws], () => ({}));
    const text = '{"train": {"s": {"command": ["python3", "--lr=${param:lrr}", "${param:"], "params": {"lr": 1}}}}\n';
    const uri = server.open(path.join(ws, 'modelreg.json'), text);
    await eventually(() =>
      assert.ok(
        server!.messages(uri).includes("recipe 's': command: ${param:lrr} names no parameter (params: lr)"),
        JSON.stringify(server!.messages(uri)),
      ),
    );
    const at = text.indexOf('${param:"') + '${param:'.length;
    const list = (await server.conn.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position: { line: 0, character: at },
      context: { triggerKind: CompletionTriggerKind.TriggerCharacter, triggerCharacter: ':' },
    })) as CompletionList;
    assert.deepEqual(
      list.items.map((i) => i.label),
      ['lr'],
    );

    const config = server.open(
      path.join(ws, 'config.json'),
      '{ "$template": "image-classification", "metrics": {} }\n',
    );
    const onBrace = await server.conn.sendRequest(CompletionRequest.type, {
      textDocument: { uri: config },
      position: { line: 0, character: 51 },
      context: { triggerKind: CompletionTriggerKind.TriggerCharacter, triggerCharacter: '{' },
    });
    assert.equal(onBrace, null);
  });
});

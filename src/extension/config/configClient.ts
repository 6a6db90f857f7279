import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { STORED_CONFIG_SCHEME } from '../../core';
import { ConfigInitializationOptions } from '../../shared/configProtocol';

/**
 * Starts the config.json language server (dist/server.js) in its own Node process. The client
 * restarts it when it crashes. Every JSON document is synced; the server decides which are model
 * configs (a `$template`, a stored version, or `modelRegistry.config.files`) and which are training
 * recipes (modelreg.json). Custom messages are
 * typed in src/shared/configProtocol.ts.
 */
export async function startConfigClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'json' },
      { scheme: 'file', language: 'jsonc' },
      { scheme: 'untitled', language: 'json' },
      // Training recipes, whatever language the editor gave them.
      { scheme: 'file', pattern: '**/modelreg.json' },
      { scheme: STORED_CONFIG_SCHEME },
    ],
    // Nothing is pushed: the server registers for settings changes (and pulls them per document
    // with workspace/configuration) and for the template files it watches; folders follow too.
    // VS Code's JSON support reports syntax errors already; ours would be duplicates.
    initializationOptions: { syntaxErrors: false } satisfies ConfigInitializationOptions,
    diagnosticCollectionName: 'modelRegistry.config',
  };
  const client = new LanguageClient(
    'modelRegistry.config',
    'Model Registry: config.json',
    serverOptions,
    clientOptions,
  );
  await client.start();
  context.subscriptions.push(client);
  return client;
}

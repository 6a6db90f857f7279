// What the config.json language client (src/extension/config/configClient.ts) and server
// (src/server/server.ts) say to each other beyond the LSP itself, declared once for both sides.
// vscode-languageclient 11 and vscode-languageserver 11 both build on this same
// vscode-languageserver-protocol, so a type made here is the one each side's connection accepts.
import { RequestType0 } from 'vscode-languageserver-protocol';

/** The settings section the server reads (package.json `contributes.configuration`). */
export const CONFIG_SECTION = 'modelRegistry';

/** What the client passes in `initialize`. */
export interface ConfigInitializationOptions {
  /** Report JSON syntax errors too (off in VS Code, whose JSON support already shows them). */
  syntaxErrors?: boolean;
}

/** Which process serves, what it loaded, and what it follows: for tests and status. */
export interface ServerInfo {
  pid: number;
  /** Ids of the templates loaded (built-in and from every workspace folder). */
  templates: string[];
  /** Templates that failed to load, as messages. */
  problems: string[];
  /** The workspace folders the server looks in (paths). */
  folders: string[];
}

/** Client → server: `ServerInfo` now. */
export const serverInfoRequest = new RequestType0<ServerInfo, void>('modelRegistry/serverInfo');

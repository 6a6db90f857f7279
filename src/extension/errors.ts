import * as vscode from 'vscode';
import { InputError, RegistryError } from '../core';

let channel: vscode.OutputChannel | undefined;

export function log(): vscode.OutputChannel {
  channel ??= vscode.window.createOutputChannel('Model Registry');
  return channel;
}

/** Shows a user-facing error; unexpected ones (bugs) also go to the output channel with their stack. */
export function showError(prefix: string, e: unknown): void {
  const known = e instanceof InputError || e instanceof RegistryError;
  const message = e instanceof Error ? e.message : String(e);
  log().appendLine(`${new Date().toISOString()} ${prefix}: ${known ? message : (e as Error)?.stack ?? message}`);
  void vscode.window.showErrorMessage(`${prefix}: ${message}`, ...(known ? [] : ['Show Log'])).then((c) => {
    if (c === 'Show Log') log().show();
  });
}

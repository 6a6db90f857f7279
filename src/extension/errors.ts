import * as vscode from 'vscode';
import { InputError, RegistryError } from '../core';
import { outputChannel } from './outputChannels';

export function log(): vscode.OutputChannel {
  return outputChannel('Model Registry');
}

/** Shows a user-facing error; unexpected ones (bugs) also go to the output channel with their stack. */
export function showError(prefix: string, e: unknown): void {
  const known = e instanceof InputError || e instanceof RegistryError;
  const message = e instanceof Error ? e.message : String(e);
  log().appendLine(`${new Date().toISOString()} ${prefix}: ${known ? message : ((e as Error)?.stack ?? message)}`);
  void vscode.window.showErrorMessage(`${prefix}: ${message}`, ...(known ? [] : ['Show Log'])).then((c) => {
    if (c === 'Show Log') log().show();
  });
}

/** An input box's validateInput from a parser that throws: the parser's message, or nothing when the value parses. */
export function problemWith(parse: (value: string) => unknown): (value: string) => string | undefined {
  return (value) => {
    try {
      parse(value);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

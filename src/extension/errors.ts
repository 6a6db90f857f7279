import * as os from 'os';
import * as vscode from 'vscode';
import { InputError, RegistryError } from '../core';
import { errorText } from './errorText';
import { outputChannel } from './outputChannels';

export function log(): vscode.OutputChannel {
  return outputChannel('Model Registry');
}

/** The toast text of an error (problem first, paths short) and the full text, for callers with their own buttons. */
export function describeError(action: string, e: unknown): { toast: string; log: string } {
  const roots = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
  return errorText(action, e, { roots, home: os.homedir() });
}

/**
 * Shows a user-facing error: the problem first, then the file and what failed. The output channel
 * gets the full text (absolute paths); unexpected errors (bugs) also their stack, and a Show Log button.
 */
export function showError(action: string, e: unknown): void {
  const known = e instanceof InputError || e instanceof RegistryError;
  const text = describeError(action, e);
  log().appendLine(`${new Date().toISOString()} ${known ? text.log : `${action}: ${(e as Error)?.stack ?? text.log}`}`);
  void vscode.window.showErrorMessage(text.toast, ...(known ? [] : ['Show Log'])).then((c) => {
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

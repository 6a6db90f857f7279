import * as vscode from 'vscode';

let last: string | undefined;

/** A brief confirmation in the status bar: it goes by itself after `ms`. */
export function confirm(text: string, ms = 4000): void {
  last = text;
  vscode.window.setStatusBarMessage(text, ms);
}

/** The last confirmation shown (the status bar cannot be asked: tests read it through the API). */
export function lastConfirmation(): string | undefined {
  return last;
}

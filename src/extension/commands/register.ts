import * as vscode from 'vscode';
import { CommandId, CONTEXT_KEYS } from './commandIds';

/**
 * Registers a command of the table. Handlers get what VS Code passes: from a tree row (clicked node,
 * selected nodes), from the Explorer (uri, uris), from executeCommand whatever the caller gave;
 * `resolveTargets` (targets.ts) turns that into what the command runs on.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a command's arguments are whatever its caller passes
export function registerCommand(id: CommandId, handler: (...args: any[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, handler);
}

/** Runs one of our own commands (the table keeps the id right). */
export function runCommand<T = unknown>(id: CommandId, ...args: unknown[]): Thenable<T> {
  return vscode.commands.executeCommand<T>(id, ...args);
}

const contextValues = new Map<keyof typeof CONTEXT_KEYS, unknown>();

/** Sets a `when`-clause context key of the table. */
export function setContext(key: keyof typeof CONTEXT_KEYS, value: unknown): Thenable<unknown> {
  contextValues.set(key, value);
  return vscode.commands.executeCommand('setContext', CONTEXT_KEYS[key], value);
}

/** The value last given to a context key (VS Code cannot be asked; tests read it through the API). */
export function contextValue(key: keyof typeof CONTEXT_KEYS): unknown {
  return contextValues.get(key);
}

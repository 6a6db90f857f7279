import * as vscode from 'vscode';

const channels = new Map<string, vscode.OutputChannel>();

/** The output channel of that name, made on first use: most sessions never write to one. */
export function outputChannel(name: string): vscode.OutputChannel {
  let channel = channels.get(name);
  if (!channel) channels.set(name, (channel = vscode.window.createOutputChannel(name)));
  return channel;
}

/** Disposes every channel made so far; activate() tracks it with the extension's other disposables. */
export const outputChannels: vscode.Disposable = {
  dispose() {
    for (const channel of channels.values()) channel.dispose();
    channels.clear();
  },
};

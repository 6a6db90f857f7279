// Import as Model on a training output with checkpoint-N folders asks what to take of it: the
// final weights only (first, what Enter takes), everything, or one checkpoint as the version's weights.
import * as vscode from 'vscode';
import { CancelledError, CheckpointChoice, CheckpointFolder, describeCheckpoint } from '../../core';
import { formatBytes } from '../../shared/format';
import { setContext } from '../commands/register';

type Item = vscode.QuickPickItem & { choice: CheckpointChoice | 'pick' };

/** A multi-select import asks nothing per folder: `all` when the setting says so, else the final weights. */
export function batchCheckpoints(): CheckpointChoice {
  return vscode.workspace.getConfiguration('modelRegistry').get<string>('import.checkpoints') === 'all'
    ? 'all'
    : 'final';
}

/**
 * The importer's `checkpoints` option for `name` (as shown to the user): asks, unless
 * `modelRegistry.import.checkpoints` says final or all; Escape cancels the import.
 */
export function askCheckpoints(name: string): (found: CheckpointFolder[]) => Promise<CheckpointChoice> {
  return async (found) => {
    const setting = vscode.workspace.getConfiguration('modelRegistry').get<string>('import.checkpoints');
    if (setting === 'final' || setting === 'all') return setting;
    const n = found.length;
    const folders = `${n} checkpoint folder${n === 1 ? '' : 's'}`;
    const bytes = formatBytes(found.reduce((s, c) => s + c.bytes, 0));
    const items: Item[] = [
      {
        label: 'Final weights only',
        description: 'recommended',
        detail: `Leaves out ${found.map((c) => c.name).join(', ')} (${bytes})`,
        choice: 'final',
      },
      { label: 'Include checkpoints', detail: `Imports the ${folders} too (+${bytes})`, choice: 'all' },
      { label: 'Pick one checkpoint…', detail: "Its files become the version's files", choice: 'pick' },
    ];
    const picked = await asking('choice', items, {
      title: `${name} has ${folders}: what should the version hold?`,
      ignoreFocusOut: true,
    });
    if (!picked) throw new CancelledError();
    if (picked.choice !== 'pick') return picked.choice;
    const latestFirst = [...found].reverse();
    const one = await asking(
      'folder',
      latestFirst.map((c) => ({
        label: `$(history) ${c.name}`,
        description: describeCheckpoint(c),
        detail: `${c.fileCount} files · ${formatBytes(c.bytes)}`,
        folder: c.name,
      })),
      { title: `Import one checkpoint of ${name}`, placeHolder: 'latest first', ignoreFocusOut: true },
    );
    if (!one) throw new CancelledError();
    return one.folder;
  };
}

/** showQuickPick, with the askingCheckpoints context key saying which of the two picks is open. */
async function asking<T extends vscode.QuickPickItem>(
  which: 'choice' | 'folder',
  items: T[],
  options: vscode.QuickPickOptions,
): Promise<T | undefined> {
  const shown = vscode.window.showQuickPick(items, options);
  await setContext('askingCheckpoints', which);
  try {
    return await shown;
  } finally {
    await setContext('askingCheckpoints', false);
  }
}

// What a multi-select "Import as Model" says when it is done: one line for all the runs, without
// 'vscode' so that it is unit-tested.

/** How one selected folder's import ended. */
export type BatchOutcome =
  /** checkpointsLeftOut: checkpoint-N folders not imported (a batch takes the final weights). */
  | { name: string; imported: { model: string; number: number }; checkpointsLeftOut?: number }
  /** Nothing imported, on purpose (same files as a version, no weights): why. */
  | { name: string; skipped: string }
  /** The problem, leading, as the error toast would say it (problem, then file). */
  | { name: string; failed: string };

/**
 * "Imported 5 runs: resnet@v2…v4, bert@v1, yolo@v1; 1 failed: outputs/broken (Truncated…)". Versions
 * are grouped by model, consecutive numbers joined with "…"; runs whose checkpoint folders were left
 * out, skipped and failed folders are named with why; `notStarted` counts the folders a cancel left out.
 */
export function batchSummary(outcomes: BatchOutcome[], notStarted = 0): string {
  const byModel = new Map<string, number[]>();
  for (const o of outcomes)
    if ('imported' in o) byModel.set(o.imported.model, [...(byModel.get(o.imported.model) ?? []), o.imported.number]);
  const imported = [...byModel.values()].reduce((n, l) => n + l.length, 0);
  const parts = [
    imported === 0
      ? 'Imported nothing'
      : `Imported ${plural(imported, 'run')}: ${[...byModel].map(([m, ns]) => `${m}@${numbers(ns)}`).join(', ')}`,
  ];
  const leftOut = outcomes.flatMap((o) =>
    'imported' in o && o.checkpointsLeftOut ? [`${o.name} (${o.checkpointsLeftOut})`] : [],
  );
  if (leftOut.length)
    parts.push(`final weights only, checkpoint folders left out of ${leftOut.join(', ')}: import one alone to choose`);
  const failed = outcomes.flatMap((o) => ('failed' in o ? [`${o.name} (${o.failed})`] : []));
  const skipped = outcomes.flatMap((o) => ('skipped' in o ? [`${o.name} (${o.skipped})`] : []));
  if (failed.length) parts.push(`${failed.length} failed: ${failed.join(', ')}`);
  if (skipped.length) parts.push(`${skipped.length} skipped: ${skipped.join(', ')}`);
  if (notStarted) parts.push(`cancelled: ${plural(notStarted, 'folder')} not imported`);
  return `${parts.join('; ')}.`;
}

/** v2…v4, v7 */
function numbers(ns: number[]): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j > i ? `v${sorted[i]}…v${sorted[j]}` : `v${sorted[i]}`);
    i = j + 1;
  }
  return runs.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

import * as vscode from 'vscode';
import { CancelledError } from '../core';

export interface CancellableProgress {
  /** Aborted when the user presses Cancel on the notification. */
  signal: AbortSignal;
  /** A step message that does not move the bar ("inspecting…"). */
  say(message: string): void;
  /** Moves the bar to done/total, in steps of at least 1% (and always at the end). */
  advance(done: number, total: number, message: string): void;
}

/**
 * Long work behind a cancellable progress notification. The work sees Cancel as an abort signal; a
 * CancelledError it throws becomes the `cancelled` information message and an undefined result.
 * Other errors are the caller's to show.
 */
export async function withCancellableProgress<T>(
  title: string,
  cancelled: string,
  work: (p: CancellableProgress) => Promise<T>,
): Promise<T | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      try {
        return await work({
          signal: abort.signal,
          say: (message) => progress.report({ message }),
          advance: (done, total, message) => {
            const pct = total ? (100 * done) / total : 100;
            if (pct - reported < 1 && done < total) return;
            progress.report({ increment: pct - reported, message });
            reported = pct;
          },
        });
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        void vscode.window.showInformationMessage(cancelled);
        return undefined;
      } finally {
        sub.dispose();
      }
    },
  );
}

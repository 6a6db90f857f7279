// Retrying an assertion until it holds: for state that other processes or the extension host
// update asynchronously (a tree refresh, a panel's first post, a watcher hearing a change).
// Shared by the unit, integration and e2e suites; no 'vscode' here.

export interface EventuallyOptions {
  /** How long to keep trying, in ms (default 10 s). */
  timeout?: number;
  /** Pause between attempts, in ms (default 100). */
  interval?: number;
  /** Put before the last failure's message when time runs out. */
  message?: string;
}

/**
 * Calls `fn` until it returns without throwing and resolves with its result. When `timeout` passes,
 * rejects with the last failure (its message prefixed by `message`), so the report shows the
 * assertion that never held rather than a bare "timed out".
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  const { timeout = 10_000, interval = 100 } = opts;
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() + interval > deadline) throw timedOut(e, timeout, opts.message);
    }
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function timedOut(e: unknown, timeout: number, message?: string): unknown {
  const prefix = `${message ? `${message}: ` : ''}still failing after ${timeout} ms: `;
  if (!(e instanceof Error)) return new Error(prefix + String(e));
  // Keep the error itself (an AssertionError keeps its expected/actual diff in the report).
  // Read the stack first: V8 formats it on first access, with whatever the message is by then.
  const stack = e.stack;
  const original = e.message;
  e.message = prefix + original;
  if (stack) e.stack = stack.replace(original, e.message);
  return e;
}

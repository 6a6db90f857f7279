import { formatBytes } from '../shared/format';

/** A one-line progress bar on a terminal; silent when the stream is not a TTY (CI logs, pipes). */
export class ProgressBar {
  private last = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(label: string, done: number, total: number, unit: 'bytes' | 'count' = 'bytes'): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const amount = unit === 'bytes' ? `${formatBytes(done)} / ${formatBytes(total)}` : `${done} / ${total}`;
    this.stream.write(`\r${label.padEnd(10)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${amount}\x1b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

/** Runs long work with a progress bar on stderr; Ctrl+C cancels it cleanly (the work sees the signal). */
export async function withProgress<T>(
  label: string,
  unit: 'bytes' | 'count',
  fn: (signal: AbortSignal, onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  const bar = new ProgressBar(process.stderr);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    return await fn(abort.signal, (done, total) => bar.update(label, done, total, unit));
  } finally {
    bar.done();
    process.removeListener('SIGINT', onSigint);
  }
}

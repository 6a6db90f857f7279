import { promises as fsp } from 'fs';
import { StringDecoder } from 'string_decoder';
import * as vscode from 'vscode';
import { isActiveStatus, RunRecord, runLogFile } from '../../core';
import { RegistryService } from '../registry/registryService';
import { runEndMessage } from './runRows';

const POLL_MS = 250;
/** Read at most this much per poll: a huge log streams in pieces instead of freezing the terminal. */
const CHUNK_BYTES = 256 * 1024;

/**
 * A terminal that streams a run's log: what is there, then what the run appends, until it ends;
 * then the way it ended, and the terminal closes with the run's exit code (a task's result). The
 * run belongs to its runner: closing the terminal leaves it running; Ctrl+C asks to stop it.
 */
export class RunLogTerminal implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.written.event;
  private readonly closed = new vscode.EventEmitter<number | void>();
  readonly onDidClose = this.closed.event;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly service: RegistryService,
    private readonly runId: string,
    private readonly opts: { closeOnEnd: boolean; onInterrupt: (run: RunRecord) => void },
  ) {}

  open(): void {
    void this.poll();
  }

  close(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  handleInput(data: string): void {
    if (data !== '\x03') return;
    void this.service
      .get()
      .then((r) => r.requireRun(this.runId))
      .then((run) => {
        if (isActiveStatus(run.status)) this.opts.onInterrupt(run);
      });
  }

  private async poll(): Promise<void> {
    if (this.done) return;
    try {
      const registry = await this.service.get();
      const run = await registry.requireRun(this.runId);
      // Where the runner writes it (from the id), never the row's `log` path: the row may be crafted.
      const file = runLogFile(registry, run.id);
      const more = await this.readMore(file);
      if (run.status === 'queued' && this.offset === 0 && !this.announcedQueue) {
        this.announcedQueue = true;
        this.write(`Run ${run.id} is queued.\n`);
      }
      if (!more && !isActiveStatus(run.status)) {
        // Read once more after the end: the runner closes the log before it records how the run ended.
        while (await this.readMore(file));
        this.write(`\n${runEndMessage(run)}\n`);
        this.done = true;
        if (this.opts.closeOnEnd) this.closed.fire(run.exitCode ?? (run.status === 'succeeded' ? 0 : 1));
        return;
      }
      this.timer = setTimeout(() => void this.poll(), more ? 0 : POLL_MS);
    } catch (e) {
      this.write(`\nCannot follow the log of run ${this.runId}: ${(e as Error).message}\n`);
      this.done = true;
      if (this.opts.closeOnEnd) this.closed.fire(1);
    }
  }

  private announcedQueue = false;
  /** A character split between two reads is written whole with the second. */
  private readonly decoder = new StringDecoder('utf8');

  /** Appends what the log gained; true when more is waiting. */
  private async readMore(file: string): Promise<boolean> {
    const fh = await fsp.open(file, 'r').catch(() => undefined);
    if (!fh) return false; // not created yet (queued)
    try {
      const { size } = await fh.stat();
      if (size <= this.offset) return false;
      const want = Math.min(size - this.offset, CHUNK_BYTES);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.offset);
      this.offset += bytesRead;
      this.write(this.decoder.write(buf.subarray(0, bytesRead)));
      return this.offset < size;
    } finally {
      await fh.close();
    }
  }

  private write(text: string): void {
    // A terminal needs \r\n; a lone \r stays (progress bars redraw their line with it), as do colours.
    this.written.fire(text.replace(/\r?\n/g, '\r\n'));
  }
}

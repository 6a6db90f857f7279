/**
 * Reading input files safely: only regular files (a FIFO, device or socket named like a log would
 * block the reader forever or never end), only up to a size, and within a time limit.
 */
import { constants, promises as fsp, type Stats } from 'fs';
import type { FileHandle } from 'fs/promises';
import { InputError } from '../errors';

// O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, forever; on a regular file
// it changes nothing. O_NOCTTY: a terminal device never becomes our controlling terminal.
// (Both are 0 on Windows, where there are no FIFOs to open by name.)
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** What a non-regular file is, in words, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Opens a file for reading only if it is a regular file (checked on the open handle, so a file
 * swapped after a check cannot slip through). `name` is how errors name it (default: file).
 * The caller closes the handle.
 */
export async function openRegularFile(file: string, name = file): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(name, 'no such file');
    // Linux refuses to open a socket at all (ENXIO).
    if (code === 'ENXIO') throw new InputError(name, 'is a socket, not a regular file; not read');
    throw new InputError(name, `cannot open (${code ?? (e as Error).message})`);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new InputError(name, `is ${fileKind(st)}, not a regular file; not read`);
  }
  return { fh, size: st.size };
}

export interface ReadRegularOptions {
  /** Refuse files larger than this many bytes, before reading them. */
  maxBytes: number;
  /** How errors name the file (default: its path). */
  name?: string;
}

const MB = 1024 * 1024;

function sizeText(bytes: number): string {
  return bytes < MB ? `${bytes} bytes` : `${Number.isInteger(bytes / MB) ? bytes / MB : (bytes / MB).toFixed(1)} MB`;
}

/** The whole content of a regular file of at most maxBytes (see openRegularFile). */
export async function readRegularFile(file: string, opts: ReadRegularOptions): Promise<Buffer> {
  const name = opts.name ?? file;
  const { fh, size } = await openRegularFile(file, name);
  try {
    if (size > opts.maxBytes)
      throw new InputError(name, `file is too large to read (${sizeText(size)}, limit ${sizeText(opts.maxBytes)})`);
    // Read until the end, not just `size` bytes (a file may grow, /proc files say 0), but never
    // more than one byte past the limit.
    let buf = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, Math.max(size + 1, 64 * 1024)));
    let done = 0;
    for (;;) {
      if (done === buf.length) {
        if (done > opts.maxBytes)
          throw new InputError(
            name,
            `file is too large to read (it grew past ${sizeText(opts.maxBytes)} while being read)`,
          );
        const bigger = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, done);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, done, buf.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done > opts.maxBytes)
      throw new InputError(
        name,
        `file is too large to read (it grew past ${sizeText(opts.maxBytes)} while being read)`,
      );
    return buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

/** readRegularFile as UTF-8 text, without a leading byte-order mark. */
export async function readRegularText(file: string, opts: ReadRegularOptions): Promise<string> {
  const text = (await readRegularFile(file, opts)).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Time each reader may take on one file (or one set, for TensorBoard runs). A backstop: the size,
 * column and point bounds stop hostile files long before. Reading the largest log we accept
 * (256 MB of CSV) takes a few seconds here, so a reader still busy after a minute is stuck.
 */
export const READER_TIME_LIMIT_MS = 60_000;

/** A time limit that loops check cheaply; past it, check() throws an InputError naming the file. */
export class Deadline {
  private readonly end: number;
  private calls = 0;

  constructor(
    readonly file: string,
    readonly ms = READER_TIME_LIMIT_MS,
  ) {
    this.end = Date.now() + ms;
  }

  /** Call in loops: looks at the clock only every 1024 calls. */
  check(): void {
    if ((++this.calls & 1023) === 0 && Date.now() > this.end) throw this.error();
  }

  error(): InputError {
    const limit = this.ms >= 1000 ? `${Math.round(this.ms / 1000)} s` : `${this.ms} ms`;
    return new InputError(this.file, `reading it took longer than ${limit}; stopped`);
  }
}

/**
 * Runs a reader under a Deadline: its loops stop by deadline.check(), and a reader waiting on I/O
 * past the limit is abandoned with the same error (its work ends on its own; its result is dropped).
 */
export async function timeBoxed<T>(
  file: string,
  fn: (deadline: Deadline) => Promise<T>,
  ms = READER_TIME_LIMIT_MS,
): Promise<T> {
  const deadline = new Deadline(file, ms);
  let timer: NodeJS.Timeout | undefined;
  const work = fn(deadline);
  // Once abandoned, a late failure must not surface as an unhandled rejection.
  work.catch(() => undefined);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadline.error()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

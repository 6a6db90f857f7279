/** Zip archives (torch .pt, .keras): list the central directory, read a few small members. */
import * as yauzl from 'yauzl';
import { InputError } from '../../errors';
import { errText } from './read';

export interface ZipArchive {
  entries: yauzl.Entry[];
  /** The member's bytes, or undefined when absent; InputError when bigger than `limit`. */
  read(name: string, limit: number): Promise<Buffer | undefined>;
  close(): void;
}

/** Opens a zip and lists its entries without reading any member data. */
export function openZip(file: string): Promise<ZipArchive> {
  const bad = (e: unknown) => new InputError(file, `not a valid zip archive: ${errText(e)}`);
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return reject(bad(err));
      const entries: yauzl.Entry[] = [];
      zip.on('error', (e) => {
        zip.close();
        reject(bad(e));
      });
      zip.on('entry', (e: yauzl.Entry) => {
        entries.push(e);
        zip.readEntry();
      });
      zip.on('end', () =>
        resolve({
          entries,
          read: (name, limit) => readMember(file, zip, entries, name, limit),
          close: () => zip.close(),
        }),
      );
      zip.readEntry();
    });
  });
}

function readMember(
  file: string,
  zip: yauzl.ZipFile,
  entries: yauzl.Entry[],
  name: string,
  limit: number,
): Promise<Buffer | undefined> {
  const entry = entries.find((e) => e.fileName === name);
  if (!entry) return Promise.resolve(undefined);
  if (entry.uncompressedSize > limit) {
    return Promise.reject(
      new InputError(file, `zip member ${name} is ${entry.uncompressedSize} bytes, more than the ${limit} expected`),
    );
  }
  const bad = (e: unknown) => new InputError(file, `cannot read zip member ${name}: ${errText(e)}`);
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(bad(err));
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => reject(bad(e)));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

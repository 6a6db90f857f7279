import * as assert from 'assert';
import { createHash } from 'crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CancelledError } from '../../../../src/core/errors';
import { LocalStore } from '../../../../src/core/store/localStore';
import { tempDir } from '../../helpers/tmp';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('LocalStore (content-addressed objects)', () => {
  it('stores a file under objects/ab/cdef… named by its SHA-256, read-only', async () => {
    const dir = tempDir();
    const store = new LocalStore(path.join(dir, 'reg'));
    await store.init();
    const src = path.join(dir, 'w.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(src, data);
    const r = await store.ingestFile(src);
    assert.strictEqual(r.sha256, sha(data));
    assert.strictEqual(r.size, data.length);
    assert.strictEqual(r.written, true);
    const p = store.objectPath(r.sha256);
    assert.strictEqual(p, path.join(dir, 'reg', 'objects', r.sha256.slice(0, 2), r.sha256.slice(2)));
    assert.ok(readFileSync(p).equals(data));
    assert.strictEqual(statSync(p).mode & 0o222, 0, 'objects are not writable');
    assert.deepStrictEqual(readdirSync(path.join(dir, 'reg', 'tmp')), [], 'no temp files left');
  });

  it('stores identical content once, with or without hashing first', async () => {
    const dir = tempDir();
    const store = new LocalStore(path.join(dir, 'reg'));
    await store.init();
    writeFileSync(path.join(dir, 'a'), 'same bytes');
    writeFileSync(path.join(dir, 'b'), 'same bytes');
    const a = await store.ingestFile(path.join(dir, 'a'));
    const ino = statSync(store.objectPath(a.sha256)).ino;
    const b = await store.ingestFile(path.join(dir, 'b'));
    const c = await store.ingestFile(path.join(dir, 'b'), { hashFirst: true });
    assert.strictEqual(b.sha256, a.sha256);
    assert.strictEqual(b.written, false);
    assert.strictEqual(c.written, false);
    // Same file, not rewritten; its mtime is refreshed so that a gc running meanwhile spares it.
    assert.strictEqual(statSync(store.objectPath(a.sha256)).ino, ino, 'existing object not replaced');
    assert.ok(statSync(store.objectPath(a.sha256)).mtimeMs >= statSync(path.join(dir, 'b')).mtimeMs, 'mtime refreshed');
    const all: string[] = [];
    for await (const s of store.list()) all.push(s);
    assert.deepStrictEqual(all, [a.sha256]);
  });

  it('hashFirst still stores new content', async () => {
    const dir = tempDir();
    const store = new LocalStore(path.join(dir, 'reg'));
    await store.init();
    writeFileSync(path.join(dir, 'n'), 'new content');
    const r = await store.ingestFile(path.join(dir, 'n'), { hashFirst: true });
    assert.strictEqual(r.written, true);
    assert.strictEqual(readFileSync(store.objectPath(r.sha256), 'utf8'), 'new content');
  });

  it('a cancelled ingest leaves neither an object nor a temp file', async () => {
    const dir = tempDir();
    const store = new LocalStore(path.join(dir, 'reg'));
    await store.init();
    const src = path.join(dir, 'big');
    writeFileSync(src, Buffer.alloc(32 * 1024 * 1024, 1));
    const abort = new AbortController();
    let seen = 0;
    await assert.rejects(
      store.ingestFile(src, {
        signal: abort.signal,
        onBytes: (n) => {
          seen += n;
          if (seen > 4 * 1024 * 1024) abort.abort();
        },
      }),
      CancelledError,
    );
    const objects: string[] = [];
    for await (const s of store.list()) objects.push(s);
    assert.deepStrictEqual(objects, []);
    assert.deepStrictEqual(readdirSync(path.join(dir, 'reg', 'tmp')), []);
  });

  it('an unreadable source fails without leaving anything behind', async () => {
    const dir = tempDir();
    const store = new LocalStore(path.join(dir, 'reg'));
    await store.init();
    await assert.rejects(store.ingestFile(path.join(dir, 'missing')), /ENOENT/);
    assert.deepStrictEqual(readdirSync(path.join(dir, 'reg', 'tmp')), []);
    assert.ok(!existsSync(path.join(dir, 'reg', 'objects', '00')));
  });

  it('rejects object paths that are not SHA-256 digests', () => {
    const store = new LocalStore(tempDir());
    assert.throws(() => store.objectPath('../../etc/passwd'), /not a SHA-256/);
  });

  it('removes temp files of dead importers only, and only names it makes', async () => {
    const dir = tempDir();
    const store = new LocalStore(dir);
    await store.init();
    const live = path.basename(store.tempPath());
    writeFileSync(path.join(dir, 'tmp', live), 'x');
    writeFileSync(path.join(dir, 'tmp', '999999999-0123456789ab'), 'x');
    mkdirSync(path.join(dir, 'tmp', '999999999-0123456789ab-work'));
    writeFileSync(path.join(dir, 'tmp', '999999999-dead'), 'not a name tempPath() makes');
    writeFileSync(path.join(dir, 'tmp', 'notes.txt'), 'x');
    chmodSync(path.join(dir, 'tmp'), 0o755);
    await store.removeStaleTemp((pid) => pid === process.pid);
    assert.deepStrictEqual(readdirSync(path.join(dir, 'tmp')).sort(), ['999999999-dead', live, 'notes.txt'].sort());
  });
});

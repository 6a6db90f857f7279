// Import benchmark (not a test): a generated 1 GiB safetensors file imported into a fresh registry,
// against `cp` of the same file and a hash-only pass measured in the same run; then a re-import
// (deduplicated) and the importer's peak RSS. Prints ratios. Size: BENCH_MIB (default 1024).
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, createReadStream } from 'fs';
import os from 'os';
import path from 'path';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cli = path.join(repo, 'dist', 'cli.js');
const mib = Number(process.env.BENCH_MIB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const work = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-'));

function writeSafetensors(file, bytes) {
  const n = bytes / 4;
  const header = Buffer.from(JSON.stringify({ weight: { dtype: 'F32', shape: [n], data_offsets: [0, bytes] } }));
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeSync(fd, len);
  writeSync(fd, header);
  const chunk = Buffer.alloc(16 << 20);
  for (let off = 0; off < bytes; off += chunk.length) {
    for (let i = 0; i < chunk.length; i += 4) chunk.writeFloatLE(Math.sin(off + i), i); // not all zeros
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - off));
  }
  closeSync(fd);
}

const time = (fn) => {
  const t = process.hrtime.bigint();
  const r = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
};
const best = (fn, setup) => {
  let min = Infinity;
  let last;
  for (let i = 0; i < runs; i++) {
    setup?.();
    const { ms, r } = time(fn);
    if (ms < min) min = ms;
    last = r;
  }
  return { ms: min, r: last };
};

function nodeHash(file) {
  // hash-only reference: the same reader the importer uses (1 MiB reads, Node crypto), no writes
  const script = `const {createHash}=require('crypto');const fs=require('fs');const h=createHash('sha256');
    const fd=fs.openSync(process.argv[1],'r');const b=Buffer.allocUnsafe(1<<20);let n;
    while((n=fs.readSync(fd,b,0,b.length,null))>0)h.update(b.subarray(0,n));console.log(h.digest('hex'));`;
  return execFileSync(process.execPath, ['-e', script, file], { encoding: 'utf8' }).trim();
}

function importOnce(registry, file) {
  const r = spawnSync(
    '/usr/bin/env',
    [
      'bash',
      '-c',
      `command -v /usr/bin/time >/dev/null && exec /usr/bin/time -f '%M' "$@" || exec "$@"`,
      '--',
      process.execPath,
      cli,
      '--registry',
      registry,
      'import',
      file,
      '--model',
      'bench',
      '--json',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  const rssKiB = Number((r.stderr.trim().split('\n').pop() ?? '').trim());
  return { version: JSON.parse(r.stdout), rssKiB: Number.isFinite(rssKiB) ? rssKiB : NaN };
}

try {
  const src = path.join(work, 'model.safetensors');
  console.log(`Generating a ${mib} MiB safetensors file…`);
  writeSafetensors(src, mib * 1024 * 1024);
  nodeHash(src); // warm the page cache so every contender reads from memory

  const cpDest = path.join(work, 'copy.bin');
  const cp = best(
    () => execFileSync('cp', [src, cpDest]),
    () => rmSync(cpDest, { force: true }),
  );
  const cpSync = best(
    () => execFileSync('bash', ['-c', `cp "$0" "$1" && sync "$1"`, src, cpDest]),
    () => rmSync(cpDest, { force: true }),
  );
  const hashOnly = best(() => nodeHash(src));
  const sha256sum = best(() => execFileSync('sha256sum', [src]));

  const regs = [];
  const imp = best(
    () => importOnce(regs.at(-1), src),
    () => {
      if (regs.length) rmSync(regs.at(-1), { recursive: true, force: true });
      regs.push(path.join(work, `reg${regs.length}`));
    },
  );
  const reimp = best(() => importOnce(regs.at(-1), src));
  const expected = createHash('sha256');
  await new Promise((res, rej) =>
    createReadStream(src)
      .on('data', (d) => expected.update(d))
      .on('end', res)
      .on('error', rej),
  );
  const stored = imp.r.version.files[0].sha256;
  if (stored !== expected.digest('hex')) throw new Error('stored hash does not match the file');

  const f = (ms) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
  const rate = (ms) => `${((mib / ms) * 1000).toFixed(0)} MiB/s`.padStart(11);
  console.log(
    `\nImport of a ${mib} MiB safetensors file (best of ${runs}, page cache warm, ${os.cpus().length} cores)`,
  );
  console.log(`  reference  cp                    ${f(cp.ms)} ${rate(cp.ms)}`);
  console.log(`  reference  cp + sync             ${f(cpSync.ms)} ${rate(cpSync.ms)}`);
  console.log(`  reference  hash only (node)      ${f(hashOnly.ms)} ${rate(hashOnly.ms)}`);
  console.log(`  reference  sha256sum             ${f(sha256sum.ms)} ${rate(sha256sum.ms)}`);
  console.log(`  modelreg   import (hash+copy+fsync, whole CLI) ${f(imp.ms)} ${rate(imp.ms)}`);
  console.log(`  modelreg   re-import (dedupe)    ${f(reimp.ms)} ${rate(reimp.ms)}`);
  console.log('\nRatios');
  const line = (name, v, goal) =>
    console.log(`  ${name.padEnd(34)} ${v.toFixed(2)}×   goal ≤ ${goal}×  ${v <= goal ? 'met' : 'NOT met'}`);
  line('import / cp', imp.ms / cp.ms, 1.2);
  line('import / (cp + sync)', imp.ms / cpSync.ms, 1.2);
  line('re-import / hash only', reimp.ms / hashOnly.ms, 1.1);
  // SHA-256 of one stream cannot be split across cores; where hashing alone is slower than cp the
  // cp goal is out of reach for any content-addressed import, and this ratio is the one to watch.
  console.log(
    `  import / hash only (the floor)     ${(imp.ms / hashOnly.ms).toFixed(2)}×   hashing alone is ${(hashOnly.ms / cp.ms).toFixed(2)}× cp here`,
  );
  const rssMiB = Math.max(imp.r.rssKiB, reimp.r.rssKiB) / 1024;
  console.log(
    `  peak RSS of the importer           ${Number.isFinite(rssMiB) ? rssMiB.toFixed(0) + ' MiB' : 'n/a (install GNU time)'}   goal < 150 MiB  ${rssMiB < 150 ? 'met' : 'NOT met'}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

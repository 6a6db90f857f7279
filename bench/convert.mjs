// Conversion benchmark (not a test): fp32 → fp16 of a 1 GiB safetensors file against `cp` of the same
// file, in one run, both ending with the output on disk (fsync / sync). Goals: ≤ 1.5× cp and a peak
// RSS under 200 MB (the conversion streams). BENCH_CONVERT_MIB scales the file (default 1024).
// The input is generated once into .cache/ (sines, a few tensors of mixed sizes).
import { execFileSync } from 'child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MIB = Number(process.env.BENCH_CONVERT_MIB ?? 1024);
const RUNS = 3;
const dir = path.join(repo, '.cache', 'bench-convert');
const input = path.join(dir, `fp32-${MIB}MiB.safetensors`);
mkdirSync(dir, { recursive: true });

if (!existsSync(input) || statSync(input).size < MIB << 20) {
  // Four tensors: one big, three small (norms and biases are small in real checkpoints).
  const total = (MIB << 20) / 4;
  const sizes = [total - 3 * 1024, 1024, 1024, 1024];
  const header = {};
  let off = 0;
  sizes.forEach((n, i) => {
    header[`layer${i}.weight`] = { dtype: 'F32', shape: [n], data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(input + '.tmp', 'w');
  writeSync(fd, len);
  writeSync(fd, json);
  const chunk = new Float32Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.sin(i * 0.001) * 4;
  for (let left = total; left > 0; left -= chunk.length)
    writeSync(fd, Buffer.from(chunk.buffer, 0, Math.min(left, chunk.length) * 4));
  closeSync(fd);
  execFileSync('mv', [input + '.tmp', input]);
}

const out = path.join(dir, 'out.safetensors');
const copy = path.join(dir, 'copy.safetensors');
const time = (fn) => {
  const t = process.hrtime.bigint();
  const r = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
};
// The conversion runs in its own process so that its peak RSS is its own.
const convertScript = `
const { convertSafetensors } = require(${JSON.stringify(path.join(repo, 'out/src/core/convert/safetensors.js'))});
convertSafetensors(process.argv[1], process.argv[2], 'F16', { params: {} }).then((r) => {
  console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024, report: r }));
});`;
execFileSync('cat', [input], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache for both

const rows = [];
for (let i = 0; i < RUNS; i++) {
  rmSync(copy, { force: true });
  rmSync(out, { force: true });
  const cp = time(() => execFileSync('sh', ['-c', `cp "${input}" "${copy}" && sync "${copy}"`]));
  const cv = time(() => JSON.parse(execFileSync(process.execPath, ['-e', convertScript, input, out]).toString()));
  rows.push({ cp: cp.ms, cv: cv.ms, rss: cv.r.maxRssMiB, report: cv.r.report });
}
rmSync(copy, { force: true });
rmSync(out, { force: true });
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpMs = median(rows.map((r) => r.cp));
const cvMs = median(rows.map((r) => r.cv));
const rss = Math.max(...rows.map((r) => r.rss));
const ratio = cvMs / cpMs;
const rep = rows[0].report;
console.log(
  `\nConvert: safetensors fp32 → fp16, ${MIB} MiB, median of ${RUNS}; reference = cp + sync of the same file`,
);
console.log(
  `  fp16 conversion ${cvMs.toFixed(0).padStart(7)} ms   cp ${cpMs.toFixed(0).padStart(6)} ms   ${ratio.toFixed(2)}×  ${ratio <= 1.5 ? 'met' : 'NOT met'} (≤ 1.5×)`,
);
console.log(
  `  peak RSS        ${rss.toFixed(0).padStart(7)} MB  ${rss < 200 ? 'met' : 'NOT met'} (< 200 MB)   ${(rep.bytesBefore / 2 ** 20).toFixed(0)} → ${(rep.bytesAfter / 2 ** 20).toFixed(0)} MiB, ${rep.valuesConverted.toLocaleString('en')} values`,
);
console.log(`  (node start-up, ~40 ms, is inside the conversion time)`);

// Builds the README's pictures from the walkthrough e2e screenshots (test-results/screenshots, made by
// `node scripts/test-vscode.mjs --only-e2e --grep walkthrough`): media/readme/*.png at half size, and
// media/readme/first-flow.gif (import → second run → compare → production). Needs gifenc + pngjs
// (devDependencies); CI never runs it: the results are committed.
import { readFileSync, writeFileSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
import gifenc from 'gifenc';
import { PNG } from 'pngjs';

const { GIFEncoder, quantize, applyPalette } = gifenc;
const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const shots = path.join(repo, 'test-results/screenshots');
const out = path.join(repo, 'media/readme');

/** The screenshot at half its size (each output pixel the mean of a 2×2 block). */
function half(file) {
  const src = PNG.sync.read(readFileSync(path.join(shots, file)));
  const w = src.width >> 1;
  const h = src.height >> 1;
  const dst = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 4; c++) {
        const at = (yy, xx) => src.data[(yy * src.width + xx) * 4 + c];
        const i = 2 * y;
        const j = 2 * x;
        dst.data[(y * w + x) * 4 + c] = (at(i, j) + at(i + 1, j) + at(i, j + 1) + at(i + 1, j + 1)) >> 2;
      }
  return dst;
}

const stills = {
  'walkthrough.png': 'e2e-walkthrough-9-done.png',
  'compare.png': 'e2e-walkthrough-4-compare.png',
  'evaluate.png': 'e2e-walkthrough-8-evaluate.png',
};
for (const [name, file] of Object.entries(stills)) writeFileSync(path.join(out, name), PNG.sync.write(half(file)));

const frames = ['1-page', '2-imported', '3-second-run', '4-compare', '5-alias'].map((s) =>
  half(`e2e-walkthrough-${s}.png`),
);
const gif = GIFEncoder();
for (const f of frames) {
  const palette = quantize(f.data, 128);
  gif.writeFrame(applyPalette(f.data, palette), f.width, f.height, { palette, delay: 1800 });
}
gif.finish();
writeFileSync(path.join(out, 'first-flow.gif'), gif.bytes());
console.log(`wrote media/readme: ${Object.keys(stills).join(', ')}, first-flow.gif (${frames.length} frames)`);

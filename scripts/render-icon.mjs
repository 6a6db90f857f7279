// Renders media/icon.svg to media/icon.png (128×128, the extension icon) in the Chromium the e2e tests
// use (playwright-core + Debian's chromium), so no SVG library is needed. Run after editing the SVG and
// commit both: `node scripts/render-icon.mjs`.
import { readFileSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
import { chromium } from 'playwright-core';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const svg = readFileSync(path.join(repo, 'media/icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: path.join(repo, 'media/icon.png'), omitBackground: true });
  console.log('wrote media/icon.png');
} finally {
  await browser.close();
}

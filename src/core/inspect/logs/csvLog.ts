/**
 * Per-epoch / per-step CSV logs: PyTorch Lightning `metrics.csv`, Keras CSVLogger, Ultralytics `results.csv`.
 * They share one shape: a header with `step` and/or `epoch` plus metric columns, empty cell = no value.
 */
import { promises as fs } from 'fs';
import { parse } from 'csv-parse/sync';
import { InputError } from '../../errors';
import type { MetricLog } from '../types';
import { MAX_LOG_TEXT_BYTES, SeriesBuilder, parseNumber, readTextLimited } from './common';

/**
 * Reads a CSV metric log. Returns undefined when the header has neither a `step` nor an `epoch`
 * column (some other CSV). Step = `step` column, else `epoch`. Header names are trimmed (YOLO pads them).
 */
export async function readCsvLog(absPath: string, relPath: string): Promise<MetricLog | undefined> {
  // Decide from the first line alone, so a big unrelated .csv or text training.log is not read whole.
  const peek = (await readFirstLine(absPath)).split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
  if (!peek.includes('step') && !peek.includes('epoch')) return undefined;

  const text = await readTextLimited(absPath, relPath, MAX_LOG_TEXT_BYTES);
  const rows = splitRows(text, relPath);
  const header = (rows[0] ?? []).map((h) => h.trim());
  const stepCol = header.indexOf('step') !== -1 ? header.indexOf('step') : header.indexOf('epoch');
  if (stepCol === -1) return undefined;
  const width = header.length;
  const builder = new SeriesBuilder();
  // Column-wise so a text column (all non-numeric) can be dropped, while garbage among numbers is an error.
  const steps: number[] = new Array(rows.length);
  for (let r = 1; r < rows.length; r++) {
    const cell = rows[r][stepCol];
    const step = parseNumber(cell);
    if (step === undefined) throw new InputError(relPath, `row ${r}: ${header[stepCol]} is not a number: "${cell}"`);
    steps[r] = step;
  }
  for (let c = 0; c < width; c++) {
    const name = header[c];
    if (c === stepCol || name === 'step' || name === 'epoch' || name === '') continue;
    let numbers = 0;
    let badRow = 0;
    for (let r = 1; r < rows.length; r++) {
      const cell = rows[r][c];
      if (cell === '' || cell.trim() === '') continue;
      const v = parseNumber(cell);
      if (v === undefined) {
        if (!badRow) badRow = r;
        continue;
      }
      numbers++;
      builder.add(name, steps[r], v);
    }
    if (badRow && numbers) {
      throw new InputError(relPath, `row ${badRow}, column "${name}": not a number: "${rows[badRow][c].trim()}"`);
    }
  }
  const series = builder.build().filter((s) => s.steps.length > 0);
  return { source: relPath, series };
}

async function readFirstLine(absPath: string): Promise<string> {
  const fh = await fs.open(absPath, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '');
    const nl = text.search(/\r?\n/);
    return nl === -1 ? text : text.slice(0, nl);
  } finally {
    await fh.close();
  }
}

/** Splits CSV text into rows of cells, skipping blank lines; ragged rows are an InputError. */
function splitRows(text: string, relPath: string): string[][] {
  if (text.indexOf('"') === -1) {
    // Fast path: loggers never quote numbers, and a plain split is several times faster than a CSV parser.
    const rows: string[][] = [];
    const lines = text.split('\n');
    let width = -1;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() === '') continue;
      const cells = line.split(',');
      if (width === -1) width = cells.length;
      else if (cells.length !== width) {
        throw new InputError(relPath, `line ${i + 1}: expected ${width} columns, found ${cells.length}`);
      }
      rows.push(cells);
    }
    return rows;
  }
  try {
    return parse(text, { skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new InputError(relPath, `cannot parse CSV: ${(err as Error).message}`);
  }
}

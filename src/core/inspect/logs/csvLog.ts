/**
 * Per-epoch / per-step CSV logs: PyTorch Lightning `metrics.csv`, Keras CSVLogger, Ultralytics `results.csv`.
 * They share one shape: a header with `step` and/or `epoch` plus metric columns, empty cell = no value.
 */
import { parse } from 'csv-parse/sync';
import { InputError } from '../../errors';
import { type Deadline, openRegularFile } from '../../util/readFile';
import type { MetricLog } from '../types';
import {
  MAX_LOG_TEXT_BYTES,
  MAX_POINTS_PER_LOG,
  MAX_SERIES_PER_LOG,
  SeriesBuilder,
  parseNumber,
  readTextLimited,
} from './common';

/**
 * Reads a CSV metric log. Returns undefined when the header has neither a `step` nor an `epoch`
 * column (some other CSV). Step = `step` column, else `epoch`. Header names are trimmed (YOLO pads them).
 */
export async function readCsvLog(
  absPath: string,
  relPath: string,
  deadline?: Deadline,
): Promise<MetricLog | undefined> {
  // Decide from the first line alone, so a big unrelated .csv or text training.log is not read whole.
  const peek = (await readFirstLine(absPath, relPath)).split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
  if (!peek.includes('step') && !peek.includes('epoch')) return undefined;

  const text = await readTextLimited(absPath, relPath, MAX_LOG_TEXT_BYTES);
  checkShape(text, relPath);
  const rows = splitRows(text, relPath, deadline);
  const header = (rows[0] ?? []).map((h) => h.trim());
  const stepCol = header.indexOf('step') !== -1 ? header.indexOf('step') : header.indexOf('epoch');
  if (stepCol === -1) return undefined;
  const width = header.length;
  const builder = new SeriesBuilder(relPath, deadline);
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

/**
 * Refuses, before the text is split into cells, a log wider than the series bound (10^6 columns
 * used to take minutes and 123 MB of database) or with more rows than the points bound.
 */
function checkShape(text: string, relPath: string): void {
  const firstLineEnd = text.indexOf('\n');
  const header = firstLineEnd === -1 ? text : text.slice(0, firstLineEnd);
  let columns = 1;
  for (let i = header.indexOf(','); i !== -1; i = header.indexOf(',', i + 1)) columns++;
  // step and epoch are not series.
  if (columns > MAX_SERIES_PER_LOG + 2) {
    throw new InputError(
      relPath,
      `has ${columns} columns; a log may have at most ${MAX_SERIES_PER_LOG} metric series; not read`,
    );
  }
  let rows = 0;
  for (let i = firstLineEnd; i !== -1 && rows <= MAX_POINTS_PER_LOG; i = text.indexOf('\n', i + 1)) rows++;
  if (rows > MAX_POINTS_PER_LOG)
    throw new InputError(relPath, `has more than ${MAX_POINTS_PER_LOG} rows (the limit of points per log); not read`);
}

async function readFirstLine(absPath: string, relPath: string): Promise<string> {
  const { fh } = await openRegularFile(absPath, relPath);
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
function splitRows(text: string, relPath: string, deadline?: Deadline): string[][] {
  if (text.indexOf('"') === -1) {
    // Fast path: loggers never quote numbers, and a plain split is several times faster than a CSV parser.
    const rows: string[][] = [];
    const lines = text.split('\n');
    let width = -1;
    for (let i = 0; i < lines.length; i++) {
      deadline?.check();
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

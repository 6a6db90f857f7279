/** Short text for table samples in the evaluation panel's sample browser. No 'vscode' import. */
import { cellText, ParsedTable, readTable, sampleFilePath } from '../datasets/samples';
import type { DatasetManifest, DatasetSample } from '../datasets/types';

export const SNIPPET_CHARS = 120;

export function truncate(text: string, max = SNIPPET_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A table dataset's rows as one-line snippets: the text column when there is one, else "column=value, …".
 * The manifest and each file are read once, on first use, and kept while the panel is open.
 */
export class TableSnippets {
  private samples: Promise<Map<string, DatasetSample>> | undefined;
  private readonly tables = new Map<string, Promise<ParsedTable>>();
  private columns: string[] | undefined;
  private textColumn: string | undefined;

  constructor(
    private readonly root: string,
    private readonly manifest: () => Promise<DatasetManifest>,
  ) {}

  /** The sample's snippet; its id when the row cannot be read (file changed or gone). */
  async get(sampleId: string): Promise<string> {
    try {
      const sample = (await this.index()).get(sampleId);
      if (!sample || sample.row === undefined) return truncate(sampleId);
      const table = await this.table(sample.file);
      const row = table.rows[sample.row];
      if (!row) return truncate(sampleId);
      const cell = (name: string) => cellText(row[table.columns.indexOf(name)]);
      if (this.textColumn && table.columns.includes(this.textColumn)) return truncate(cell(this.textColumn));
      const shown = this.columns?.filter((c) => table.columns.includes(c)) ?? table.columns;
      return truncate(shown.map((c) => `${c}=${cell(c)}`).join(', '));
    } catch {
      return truncate(sampleId);
    }
  }

  private index(): Promise<Map<string, DatasetSample>> {
    this.samples ??= this.manifest().then((m) => {
      this.columns = m.table?.featureColumns;
      this.textColumn = m.table?.textColumn;
      return new Map(m.samples.map((s) => [s.id, s]));
    });
    this.samples.catch(() => (this.samples = undefined)); // retried on the next request
    return this.samples;
  }

  private table(file: string): Promise<ParsedTable> {
    let p = this.tables.get(file);
    if (!p) {
      p = readTable(sampleFilePath(this.root, 'table', file));
      p.catch(() => this.tables.delete(file));
      this.tables.set(file, p);
    }
    return p;
  }
}

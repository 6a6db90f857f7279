import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Diagnostic, TextDocument } from 'vscode-json-languageservice';
import { ConfigLanguage, loadTemplateCatalog } from '../../../../src/core';
import { tempDir } from '../../helpers/tmp';

let shared: Promise<ConfigLanguage> | undefined;

/** The built-in templates only; loaded once for the file. */
export function builtinLanguage(): Promise<ConfigLanguage> {
  shared ??= loadTemplateCatalog().then((c) => new ConfigLanguage(c));
  return shared;
}

/** A model folder with the given files (name → content; weights need not be real for name-based checks). */
export function modelDir(files: Record<string, string> = {}): string {
  const dir = tempDir('modelreg-config-');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

export function doc(text: string, uri = 'file:///tmp/config.json'): TextDocument {
  return TextDocument.create(uri, 'json', 1, text);
}

export async function check(
  config: unknown,
  opts: { dir?: string; syntax?: boolean; templateId?: string } = {},
): Promise<{ diagnostics: Diagnostic[]; text: string; document: TextDocument }> {
  const language = await builtinLanguage();
  const text = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
  const document = doc(text);
  const diagnostics = await language.validate(document, { syntax: true, ...opts });
  return { diagnostics, text, document };
}

/** 1-based line of the first occurrence of `needle`, to assert ranges without counting by hand. */
export function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in the text`);
  return text.slice(0, at).split('\n').length;
}

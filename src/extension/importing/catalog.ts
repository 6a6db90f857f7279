import * as path from 'path';
import * as vscode from 'vscode';
import {
  ConfigLanguage,
  importWithConfig,
  loadTemplateCatalog,
  Registry,
  USER_TEMPLATES_DIR,
  VersionRecord,
  ImportOptions,
} from '../../core';

/** The templates as they are now on disk (built-in plus the workspace's); problems are shown, not fatal. */
export async function currentLanguage(): Promise<ConfigLanguage> {
  const userDirs = (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, USER_TEMPLATES_DIR));
  const catalog = await loadTemplateCatalog({ userDirs });
  for (const p of catalog.problems) void vscode.window.showWarningMessage(`Template not loaded: ${p.message}`);
  return new ConfigLanguage(catalog);
}

/** An importer that checks the folder's config.json as the editor does before storing anything. */
export function configImporter(language: ConfigLanguage) {
  return (registry: Registry, target: string, opts: ImportOptions): Promise<VersionRecord> =>
    importWithConfig(registry, language, target, opts);
}

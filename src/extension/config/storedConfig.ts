import * as vscode from 'vscode';
import { STORED_CONFIG_SCHEME } from '../../core';
import { RegistryService } from '../registry/registryService';

/** Serves the documents of registry/storedConfigUri.ts: a stored version's config.json, read-only. */
export function registerStoredConfigs(service: RegistryService): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(STORED_CONFIG_SCHEME, {
    async provideTextDocumentContent(uri) {
      const id = Number(new URLSearchParams(uri.query).get('id'));
      const version = await (await service.get()).getVersionById(id);
      if (!version?.config) throw new Error(`${uri.path}: this version was deleted or has no config.json`);
      return version.config.text;
    },
  });
}

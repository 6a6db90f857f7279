import * as vscode from 'vscode';
import { STORED_CONFIG_SCHEME, VersionRecord } from '../../core';
import { RegistryService } from '../registry/registryService';

/** A stored version's config.json as a read-only document, e.g. `modelreg-config:/resnet/v3/config.json?id=7&template=image-classification`. */
export function storedConfigUri(v: VersionRecord): vscode.Uri {
  const query = new URLSearchParams({
    id: String(v.id),
    ...(v.config?.templateId ? { template: v.config.templateId } : {}),
  });
  return vscode.Uri.from({
    scheme: STORED_CONFIG_SCHEME,
    path: `/${v.model}/v${v.number}/config.json`,
    query: query.toString(),
  });
}

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

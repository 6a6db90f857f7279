import * as vscode from 'vscode';
import { STORED_CONFIG_SCHEME, VersionRecord } from '../../core';

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

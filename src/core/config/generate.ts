import { promises as fsp } from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { defaultModelName } from '../util/modelName';
import { modelTypesOf } from './checks';
import type { Template } from './templates';

export interface GenerateOptions {
  /** Folder that will hold config.json and the model files. */
  dir: string;
  /** Model files (relative to dir); by default the files there that the template's patterns match. */
  files?: string[];
  /** Registry model name; by default the folder's name. */
  name?: string;
}

/**
 * A config.json for a model folder from a template's defaults: `$template` first so the editor
 * knows the schema, `model_type` taken from the model files when they tell it, and our `registry` block.
 */
export async function configFromTemplate(template: Template, opts: GenerateOptions): Promise<string> {
  const files = opts.files ?? (await matchingFiles(template, opts.dir));
  const config: Record<string, unknown> = { $template: template.id, ...template.defaults };
  const detected = files.map((f) => modelTypesOf(f)).find((types) => types !== undefined);
  if (
    detected &&
    typeof config.model_type === 'string' &&
    config.model_type !== 'Image' &&
    !detected.includes(config.model_type)
  )
    config.model_type = detected[0];
  config.registry = {
    name: opts.name ?? defaultModelName(opts.dir, true),
    description: template.title,
    tags: [],
    files,
  };
  return JSON.stringify(config, null, 2) + '\n';
}

async function matchingFiles(template: Template, dir: string): Promise<string[]> {
  const names = (await fsp.readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => e.name);
  // Only the required patterns name model files; optional ones (labels, tokenizer) are imported with the folder anyway.
  const matchers = template.files.filter((f) => f.required).map((f) => picomatch(f.pattern, { nocase: true }));
  return names.filter((n) => n !== 'config.json' && matchers.some((m) => m(n))).sort();
}

export const CONFIG_FILE_NAME = 'config.json';

export function configPathIn(dir: string): string {
  return path.join(dir, CONFIG_FILE_NAME);
}

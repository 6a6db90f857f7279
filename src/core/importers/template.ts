import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import { TextDocument } from 'vscode-json-languageservice';
import { InputError } from '../errors';
import { MAX_PARAM_FILE_BYTES } from '../inspect/logs';
import { scanJson } from '../util/json';
import { readRegularText } from '../util/readFile';
import { configFromTemplate, configPathIn } from '../config/generate';
import { ConfigLanguage } from '../config/language';
import { errorsOf, formatDiagnostics } from '../config/report';
import { Registry } from '../registry/registry';
import { VersionRecord } from '../registry/types';
import { importTrainingOutput, ImportOptions } from './trainingOutput';

export interface TemplateImportOptions extends ImportOptions {
  /** Template for a folder without config.json (one is generated), or for one whose config names none. */
  templateId?: string;
}

/**
 * Imports a model folder described by its config.json, which must pass the same checks the editor
 * shows; with a template and no config.json, one is generated from the template's defaults first.
 * Refuses with every error listed, before anything is stored.
 */
export async function importWithConfig(
  registry: Registry,
  language: ConfigLanguage,
  input: string,
  opts: TemplateImportOptions = {},
): Promise<VersionRecord> {
  const target = path.resolve(input);
  const st = await fsp.stat(target).catch(() => undefined);
  if (!st?.isDirectory())
    throw new InputError(
      target,
      st ? 'a model with a config.json is imported as a folder; give the folder' : 'no such folder',
    );
  if (opts.templateId && !language.template(opts.templateId)) {
    throw new InputError(
      opts.templateId,
      `unknown template; known templates: ${language.catalog.templates.map((t) => t.id).join(', ')}`,
    );
  }
  const file = configPathIn(target);
  if (!existsSync(file)) {
    if (!opts.templateId) throw new InputError(file, 'missing: give a template to generate one');
    await fsp.writeFile(file, await configFromTemplate(language.template(opts.templateId)!, { dir: target }), {
      flag: 'wx',
    });
  }
  const text = await readRegularText(file, { maxBytes: MAX_PARAM_FILE_BYTES });
  const { diagnostics, config, templateId } = await checkConfig(language, file, text, opts.templateId);
  const errors = errorsOf(diagnostics);
  if (errors.length)
    throw new InputError(
      file,
      `${errors.length} error${errors.length > 1 ? 's' : ''}, not imported:\n${formatDiagnostics(file, errors).join('\n')}`,
    );

  const reg = (config.registry ?? {}) as { name?: unknown; description?: unknown; tags?: unknown };
  return importTrainingOutput(registry, target, {
    ...opts,
    model: opts.model ?? (typeof reg.name === 'string' ? reg.name : undefined),
    config: {
      text,
      templateId,
      description: typeof reg.description === 'string' ? reg.description : undefined,
      tags: Array.isArray(reg.tags) ? reg.tags.filter((t): t is string => typeof t === 'string') : undefined,
    },
  });
}

/** Validates a config.json on disk as the editor does, with the checks against the files beside it. */
export async function checkConfig(language: ConfigLanguage, file: string, text: string, templateId?: string | null) {
  const doc = TextDocument.create(`file://${file}`, 'json', 1, text);
  const diagnostics = await language.validate(doc, { dir: path.dirname(file), syntax: true, templateId });
  let config: Record<string, unknown> = {};
  try {
    // A too-deep one is refused by its diagnostic; its value is never used.
    const value = scanJson(text) ? undefined : JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) config = value;
  } catch {
    // The diagnostics carry the syntax error.
  }
  const named = typeof config.$template === 'string' ? config.$template : undefined;
  return { diagnostics, config, templateId: named ?? templateId ?? null };
}

/** Whether a folder holds a config.json that names a template, so its import is checked against it. */
export async function describesModel(input: string): Promise<boolean> {
  const file = configPathIn(path.resolve(input));
  if (!existsSync(file)) return false;
  // A FIFO or device named config.json is refused here rather than waited on forever.
  const text = await readRegularText(file, { maxBytes: MAX_PARAM_FILE_BYTES });
  return /"\$template"\s*:/.test(text);
}

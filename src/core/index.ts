// The core's public surface for the extension and the CLI.
export { Registry, parseRef } from './registry/registry';
export type { VerifyProblem } from './registry/registry';
export * from './registry/types';
export { importTrainingOutput, defaultModelName } from './importers/trainingOutput';
export type { ImportProgress, ImportOptions } from './importers/trainingOutput';
export { gitProvenance, showCommit } from './git/provenance';
export type { GitProvenance } from './git/provenance';
export { InputError, CancelledError, RegistryError } from './errors';
export * from './util/format';
export * from './config';
export { importWithConfig, checkConfig, describesModel } from './importers/template';
export type { TemplateImportOptions } from './importers/template';
export { parseSearch } from './registry/search';
export { exportVersion, importArchive, ARCHIVE_FORMAT } from './archive/archive';
export type { ArchiveOptions } from './archive/archive';

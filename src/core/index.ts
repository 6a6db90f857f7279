// The core's public surface for the extension and the CLI.
export { Registry, parseRef } from './registry/registry';
export type { RegistryProgress, VerifyProblem } from './registry/registry';
export * from './registry/types';
export { conversionOf, shortDtype, versionDtype } from './registry/dtype';
export type { ConversionFacts } from './registry/dtype';
export { openTeamRegistry, originOf, pullVersion, pushVersion } from './registry/team';
export type { TeamConfig, TeamRegistry, TransferOptions, TransferProgress, TransferResult } from './registry/team';
export type { ObjectStore } from './store/types';
export { importTrainingOutput } from './importers/trainingOutput';
export { defaultModelName } from './util/modelName';
export type { ImportProgress, ImportOptions } from './importers/trainingOutput';
export { checkpointOf, describeCheckpoint } from './importers/checkpoints';
export type { CheckpointChoice, CheckpointFolder, CheckpointRecord } from './importers/checkpoints';
export { gitProvenance } from './git/provenance';
export { showCommit, repositoryWithCommit } from './git/compare';
export { findRepository } from './git/git';
export type { GitRepo } from './git/git';
export type { GitProvenance } from './git/provenance';
export { InputError, CancelledError, RegistryError, DuplicateImportError, NoWeightsError } from './errors';
export { modelsOf, versionWarnings } from './inspect/warnings';
export { s3Sdk } from './util/lazyModules';
export * from './config';
export { importWithConfig, checkConfig, describesModel } from './importers/template';
export type { TemplateImportOptions } from './importers/template';
export { parseSearch } from './registry/search';
export { exportVersion, importArchive, ARCHIVE_FORMAT } from './archive/archive';
export type { ArchiveOptions } from './archive/archive';
export { exportTriton, tritonConfig, DEFAULT_BATCH_DELAY_MS, DEFAULT_MAX_BATCH } from './engines/triton';
export type { TritonExport, TritonOptions } from './engines/triton';
export { exportKServe, inferenceServiceYaml, INFERENCE_SERVICE_FILE } from './engines/kserve';
export type { KServeFormat, KServeOptions } from './engines/kserve';
export { pushImage } from './engines/ociPush';
export type { PushImageOptions, PushImageResult } from './engines/ociPush';
export {
  BUILTIN_CONVERTERS,
  convertersFor,
  convertVersion,
  convertWithProfile,
  resolveParams,
  versionCapabilities,
} from './convert/convert';
export type { ConvertVersionOptions } from './convert/convert';
export { allProfiles, BUILTIN_PROFILES, detectTool, profileAccepts } from './convert/profiles';
export type { ToolProfile, ToolStatus } from './convert/profiles';
export type { FileConverter, ParamSpec } from './convert/types';
export { registerDataset } from './datasets/register';
export type { RegisterDatasetOptions } from './datasets/register';
export type { DatasetKind, DatasetManifest, DatasetRecord, DatasetSample } from './datasets/types';
export { evaluateVersion } from './evaluate/evaluate';
export { chooseSplit, defaultSplit, splitChoices } from './evaluate/splits';
export type { EvaluateOptions } from './evaluate/evaluate';
export type { ClassificationMetrics, ClassMetrics, EvaluationRecord, SamplePrediction } from './evaluate/types';
export { checkEvaluatorProfile, evaluateExternally } from './evaluate/external';
export type { EvaluatorProfile } from './evaluate/external';
export { evaluateFromPredictions, readCocoResults, recordDetectionEvaluation } from './evaluate/detection/record';
export type * from './evaluate/detection/types';
export { importFromObjectStorage } from './importers/objectStorage';
export type { ObjectStorageImportOptions } from './importers/objectStorage';
export { s3Client } from './store/s3/client';
export type { S3Connection } from './store/s3/connection';
export { browse, listObjects } from './store/s3/listing';
export type { S3Object } from './store/s3/listing';
export { parseS3Uri } from './store/s3/uri';
export { importContainerImage, parseImageReference, resolveImage } from './importers/containerImage';
export type { ImageImportOptions, ImageReference } from './importers/containerImage';
export { rankModels, confidentModel, mayHoldWeights } from './importers/modelCandidates';
export type { ModelCandidate } from './importers/modelCandidates';
export { MODEL_NAME } from './registry/rows';
export {
  checkRecipes,
  DEFAULT_OUTPUT,
  expandRecipe,
  findRecipe,
  loadRecipes,
  parseOverrides,
  parseRecipes,
  readRecipeText,
  RECIPE_FILE,
  starterRecipeFile,
  sweepGrid,
} from './train/recipe';
export type { ExpandedRun, ParamValue, Recipe, RecipeFile, RecipeProblem } from './train/recipe';
export {
  DEFAULT_STOP_GRACE_MS,
  groupAlive,
  isRunProcess,
  logFile as runLogFile,
  readableRunOutput,
  retryRun,
  startTraining,
  stopRun,
  waitForBatch,
} from './train/runs';
export type { PlannedRun, TrainingRequest } from './train/runs';
export { describeTraining, planRuns, rerunVersion, train, trainingOf } from './train/train';
export type { TrainingFacts, TrainOptions } from './train/train';
export { followRunMetrics, runProgress } from './train/liveMetrics';
export type { RunProgress } from './train/liveMetrics';
export type { RunRecord, RunStatus } from './registry/registry';
export { isActiveStatus } from './registry/runTypes';
export { isRecipeDocument, RecipeLanguage } from './train/recipeLanguage';
export { DEFAULT_MAX_BODY, HttpError, serve, startServer } from './serve/server';
export { batchable, servingFeatures } from './serve/features';
export { compareAnswers, DEFAULT_TOLERANCE, readInferRequest, recordExample, replayExamples } from './serve/examples';
export type { ExampleComparison, ReplayResult } from './serve/examples';
export { EXAMPLE_NAME, MAX_EXAMPLE_BYTES } from './registry/examples';
export { cliScript, ServerProcess } from './serve/serverProcess';
export { modelApiRoute } from './serve/modelApi';
export { generatedRequest, imageRequest, takesImage, topClasses, versionLabels } from './serve/requestInputs';
export type { DeploySpec, DeploymentSnapshot, DeploymentStatus } from './serve/serverProcess';
export type { ModelSummary as VersionMetrics } from './serve/metrics';
export type {
  ExtraRoute,
  LoadedVersion,
  RequestEvent,
  RouteContext,
  Runner,
  ServedModel,
  ServeOptions,
  ServerHandle,
  ServeReply,
} from './serve/server';

import { Command, Option } from 'commander';
import * as path from 'path';
import { format } from 'util';
import {
  CancelledError,
  checkConfig,
  confidentModel,
  ConfigLanguage,
  describesModel,
  DuplicateImportError,
  modelsOf,
  NoWeightsError,
  versionWarnings,
  errorsOf,
  formatDiagnostics,
  importContainerImage,
  importFromObjectStorage,
  importTrainingOutput,
  importWithConfig,
  InputError,
  loadTemplateCatalog,
  readRecipeText,
  RECIPE_FILE,
  RecipeLanguage,
  ObjectStore,
  Registry,
  describeTraining,
  trainingOf,
  RegistryError,
  USER_TEMPLATES_DIR,
  VersionRecord,
} from '../core';
import { escapeControl, formatBytes, formatCount, formatMetric } from '../shared/format';
import { MAX_PARAM_FILE_BYTES } from '../core/inspect/logs';
import { readRegularText } from '../core/util/readFile';
import { checkpointNote } from './checkpointNote';
import { registerConvertCommands } from './convertCommands';
import { registerEngineCommands } from './engineCommands';
import { registerEvaluateCommands } from './evaluateCommands';
import { registerExampleCommands } from './exampleCommands';
import { listedVersions, registerLifecycleCommands, versionLine } from './lifecycleCommands';
import { ProgressBar, withProgress } from './progress';
import { openTeam, registerTeamCommands, TeamOptions } from './teamCommands';
import { registerServeCommands } from './serveCommands';
import { registerTrainCommands } from './trainCommands';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; the version we
// ship works on Node 20, so the warning is only noise to users (package.json pins it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Every line printed may quote input (file and tensor names, commit subjects, tool output). One
// console call is one line: control characters, newlines included, are shown escaped, never sent
// raw. JSON output (print) goes to stdout directly and JSON already escapes them.
for (const method of ['log', 'error', 'warn'] as const) {
  const write = console[method].bind(console);
  // Tabs stay: they separate the columns of list and search.
  console[method] = (...args: unknown[]) =>
    write(
      format(...args)
        .split('\t')
        .map(escapeControl)
        .join('\t'),
    );
}

const program = new Command('modelreg')
  .description('Model Registry: import, list and verify models and their versions')
  .version('0.1.0')
  .addOption(
    new Option(
      '--registry <dir|url>',
      'registry folder, or a team registry postgres://USER@HOST:PORT/DB (with --store)',
    ).default('.modelreg', './.modelreg under the current folder'),
  )
  .addOption(
    new Option('--store <s3-uri>', "the team registry's bucket, s3://BUCKET/PREFIX").env('MODELREG_TEAM_STORE'),
  )
  .addOption(
    new Option(
      '--store-endpoint <url>',
      "the bucket's S3-compatible endpoint (OBS, MinIO…); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws",
    ).env('MODELREG_TEAM_STORE_ENDPOINT'),
  )
  .addOption(
    new Option('--store-region <region>', "the bucket's region").env('MODELREG_TEAM_STORE_REGION').default('us-east-1'),
  )
  .showHelpAfterError();

const registryOption = () => program.opts<{ registry: string }>().registry;
const isTeamUrl = (s: string) => /^postgres(ql)?:\/\//.test(s);
const teamOptions = () => program.opts<TeamOptions>();

function registryDir(): string {
  if (isTeamUrl(registryOption())) {
    throw new RegistryError(
      'this command works on a local registry folder (--registry DIR); a team registry takes list, show, search, lineage, alias, tag, describe, clone, archive, delete and gc, and push/pull',
    );
  }
  return path.resolve(registryOption());
}

async function using<R extends Registry<ObjectStore>, T>(registry: R, fn: (r: R) => Promise<T>): Promise<T> {
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

/** The local registry (commands that read or write files). */
async function withRegistry<T>(fn: (r: Registry) => Promise<T>): Promise<T> {
  return using(await Registry.open(registryDir()), fn);
}

/** The registry --registry names, local or team (commands that only read or change metadata). */
async function withAnyRegistry<T>(fn: (r: Registry<ObjectStore>) => Promise<T>): Promise<T> {
  const where = registryOption();
  return isTeamUrl(where) ? using(await openTeam(where, teamOptions()), fn) : withRegistry(fn);
}

/** Built-in templates plus the ones in ./.modelreg/templates; broken ones are reported on stderr. */
async function configLanguage(): Promise<ConfigLanguage> {
  const catalog = await loadTemplateCatalog({ userDirs: [path.resolve(USER_TEMPLATES_DIR)] });
  for (const p of catalog.problems) console.error(`modelreg: warning: template not loaded: ${p.message}`);
  return new ConfigLanguage(catalog);
}

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

async function versionJson(r: Registry<ObjectStore>, v: VersionRecord) {
  return { ...v, files: await r.files(v.id), metrics: await r.finalMetrics(v.id) };
}

program
  .command('import')
  .description('import a training output folder or a weights file as a new model version')
  .argument('<path>', 'folder or file')
  .option(
    '--model <name>',
    'model name (default: registry.name in config.json, else an existing model this output is clearly a new run of, else the folder name)',
  )
  .option(
    '--template <id>',
    "check the folder's config.json against this template (generated from its defaults when missing)",
  )
  .option(
    '--endpoint <url>',
    'for s3://BUCKET/PREFIX: the S3-compatible endpoint (OBS, MinIO, Swift…); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws',
  )
  .option('--region <region>', 'for s3://: the region', 'us-east-1')
  .option('--allow-duplicate', 'import a copy when a version already holds these files')
  .option('--allow-no-weights', 'import even when no model weights are found in it')
  .option(
    '--checkpoints <what>',
    'with checkpoint-N folders: final (the final weights only, the default), all, or a folder name (that checkpoint alone)',
  )
  .option('--json', 'print the new version as JSON')
  .action(
    async (
      input: string,
      o: {
        checkpoints?: string;
        model?: string;
        template?: string;
        endpoint?: string;
        region: string;
        json?: boolean;
        allowDuplicate?: boolean;
        allowNoWeights?: boolean;
      },
    ) => {
      if (input.startsWith('s3://')) return importS3(input, o);
      // A folder whose config.json names a template is checked like one imported with --template.
      const language = o.template || (await describesModel(input)) ? await configLanguage() : undefined;
      await withRegistry(async (r) => {
        const bar = new ProgressBar(process.stderr);
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const choice = await chooseModel(r, input, o.model, !!language);
          if (choice.by === 'match')
            console.error(
              `note: importing into ${choice.model} as a new version (${choice.reasons.join(', ')}); --model NAME picks another`,
            );
          const opts = {
            model: choice.model,
            signal: abort.signal,
            onProgress: (p: { phase: string; bytesDone: number; bytesTotal: number }) =>
              bar.update(p.phase, p.bytesDone, p.bytesTotal),
            refuseDuplicate: !o.allowDuplicate,
            refuseNoWeights: !o.allowNoWeights,
            checkpoints: o.checkpoints,
          };
          const v = await (
            language
              ? importWithConfig(r, language, input, { ...opts, templateId: o.template })
              : importTrainingOutput(r, input, opts)
          ).catch(async (e: unknown) => {
            bar.done();
            if (e instanceof DuplicateImportError) return reportDuplicate(r, e, o.json, choice);
            if (e instanceof NoWeightsError) {
              // The path as typed: the user's own words read back.
              const hint = e.looksLikeDataset ? `; it looks like a dataset: modelreg dataset add ${input}` : '';
              throw new InputError(input, `no model weights found (--allow-no-weights imports it anyway)${hint}`);
            }
            throw e;
          });
          if (!v) return;
          bar.done();
          if (o.json) print({ ...(await versionJson(r, v)), modelChoice: { ...choice, model: v.model } });
          else
            console.log(
              `Imported ${v.ref}: ${v.format ?? 'no weights found'}, ${v.fileCount} files, ${formatBytes(v.sizeBytes)}${v.git ? `, commit ${v.git.commit.slice(0, 8)}${v.git.dirty ? ' (dirty)' : ''}` : ''}`,
            );
          warnAbout(v);
          const note = checkpointNote(v.details, o.checkpoints);
          if (note) console.error(`modelreg: note: ${note}`);
        } finally {
          bar.done();
          process.removeListener('SIGINT', onSigint);
        }
      });
    },
  );

/**
 * Which model an import goes into, and why (`--json` prints it as modelChoice): --model; else, for a
 * plain training output, an existing model it is confidently a new run of (core's rankModels); else
 * the default (registry.name in a described folder's config.json, or the folder's name), `model` then
 * filled in from the version.
 */
interface ModelChoice {
  model: string | undefined;
  by: 'option' | 'match' | 'default';
  reasons: string[];
}

async function chooseModel(
  r: Registry,
  input: string,
  named: string | undefined,
  described: boolean,
): Promise<ModelChoice> {
  if (named) return { model: named, by: 'option', reasons: [] };
  const match = described ? undefined : await confidentModel(r, input);
  return match
    ? { model: match.model, by: 'match', reasons: match.reasons }
    : { model: undefined, by: 'default', reasons: [] };
}

/**
 * A re-import of files a version already holds imports nothing and exits 0: the registry holds
 * what was asked for, so a script re-running its import step is not failed. --json prints that
 * version, as a new one is printed, with duplicateOf naming it.
 */
async function reportDuplicate(
  r: Registry,
  e: DuplicateImportError,
  json: boolean | undefined,
  choice: ModelChoice,
): Promise<undefined> {
  const existing = await r.getVersionById(e.existing.id);
  if (json)
    print({
      duplicateOf: e.existing.ref,
      imported: false,
      ...(existing && (await versionJson(r, existing))),
      modelChoice: { ...choice, model: e.existing.ref.split('@')[0] },
    });
  else console.log(`same files as ${e.existing.ref}: nothing imported (--allow-duplicate imports a copy)`);
  return undefined;
}

/** What the weights' readers warn about in a new version (a pickle naming posix.system), on stderr: stdout may be JSON. */
function warnAbout(v: { details: Record<string, unknown> }): void {
  for (const w of versionWarnings(v.details)) console.error(`modelreg: warning: ${w}`);
}

/** modelreg import s3://BUCKET/PREFIX: objects streamed into the store, then detected like a local output. */
async function importS3(uri: string, o: { model?: string; endpoint?: string; region: string; json?: boolean }) {
  await withRegistry((r) =>
    withProgress('download', 'bytes', async (signal, onBytes) => {
      const v = await importFromObjectStorage(r, { endpoint: o.endpoint, region: o.region }, uri, {
        model: o.model,
        signal,
        onProgress: (p) => onBytes(p.bytesDone, p.bytesTotal),
      });
      if (o.json) print(await versionJson(r, v));
      else
        console.log(
          `Imported ${v.ref} from ${uri}: ${v.format ?? 'no weights found'}, ${v.fileCount} files, ${formatBytes(v.sizeBytes)}`,
        );
      warnAbout(v);
    }),
  );
}

program
  .command('import-image')
  .description(
    'import from a container image (OCI distribution API): pins the digest, records entrypoint/env/ports/labels, and with --path extracts the model files from its layers',
  )
  .argument('<image>', 'registry/repository:tag or registry/repository@sha256:…')
  .option(
    '--path <dir>',
    'folder inside the image holding the model (e.g. /model); without it only the runtime is recorded',
  )
  .option('--model <name>', 'model name (default: the repository name)')
  .option('--username <user>', 'registry user; the password comes from MODELREG_REGISTRY_PASSWORD')
  .option(
    '--allow-token-realm <host...>',
    "let the registry's token service on this host get the credentials (needed when it is not the registry's own host over https)",
    [],
  )
  .option('--json', 'print the new version as JSON')
  .action(
    async (
      image: string,
      o: { path?: string; model?: string; username?: string; allowTokenRealm: string[]; json?: boolean },
    ) => {
      await withRegistry((r) =>
        withProgress('download', 'bytes', async (signal, onBytes) => {
          const v = await importContainerImage(r, image, {
            path: o.path,
            model: o.model,
            username: o.username,
            password: process.env.MODELREG_REGISTRY_PASSWORD,
            allowTokenRealms: o.allowTokenRealm,
            signal,
            onProgress: (p) => onBytes(p.bytesDone, p.bytesTotal),
          });
          if (o.json) print(await versionJson(r, v));
          else
            console.log(
              `Imported ${v.ref} from ${v.source.uri}: ${v.format ?? '-'}, ${v.fileCount} files, ${formatBytes(v.sizeBytes)}`,
            );
          warnAbout(v);
        }),
      );
    },
  );

program
  .command('templates')
  .description('list the config.json templates (built-in and ./.modelreg/templates)')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => {
    const { catalog } = await configLanguage();
    if (o.json) return void print(catalog.templates.map(({ schema: _schema, ...t }) => t));
    const width = Math.max(...catalog.templates.map((t) => t.title.length));
    for (const t of catalog.templates)
      console.log(`${t.id.padEnd(24)} ${t.title.padEnd(width)}  ${t.description}${t.builtin ? '' : '  (workspace)'}`);
  });

program
  .command('validate')
  .description(
    'check a config.json (or a modelreg.json of training recipes) as the editor does; exit 1 when it has errors',
  )
  .argument('<config>', 'path of a config.json or modelreg.json')
  .option('--template <id>', 'template to check against when the file names none')
  .option('--json', 'machine-readable output')
  .action(async (file: string, o: { template?: string; json?: boolean }) => {
    const abs = path.resolve(file);
    let diagnostics;
    if (path.basename(abs) === RECIPE_FILE) {
      // Read as `train` reads it: a regular file, not a link out of its folder.
      const { text } = await readRecipeText(path.dirname(abs));
      diagnostics = await (await RecipeLanguage.load()).validateFile(abs, text);
    } else {
      const language = await configLanguage();
      // A regular file only: a FIFO named config.json would block the read forever.
      const text = await readRegularText(abs, { maxBytes: MAX_PARAM_FILE_BYTES });
      ({ diagnostics } = await checkConfig(language, abs, text, o.template));
    }
    if (o.json) print(diagnostics);
    else for (const line of formatDiagnostics(file, diagnostics)) console.log(line);
    if (errorsOf(diagnostics).length) process.exitCode = 1;
    else if (!o.json) console.log(`${file}: no errors`);
  });

program
  .command('list')
  .description('list models, or the versions of one model')
  .argument('[model]')
  .option('--all', 'include archived versions and interrupted imports')
  .option('--json', 'machine-readable output')
  .action(async (model: string | undefined, o: { all?: boolean; json?: boolean }) => {
    await withAnyRegistry(async (r) => {
      if (model) {
        await r.requireModel(model);
        const { shown, note } = listedVersions(await r.listVersions(model, { includeArchived: o.all }), o.all);
        if (o.json) return print(shown);
        for (const v of shown) {
          console.log(versionLine(v));
        }
        if (note) console.error(note);
        return;
      }
      const models = await r.listModels();
      if (o.json) return print(models);
      if (models.length === 0) console.log(`No models in ${r.location}. Import one with: modelreg import PATH`);
      for (const m of models)
        console.log(
          `${m.name}\t${m.versionCount} version${m.versionCount === 1 ? '' : 's'}\tlatest v${m.latestVersion ?? '-'}`,
        );
    });
  });

program
  .command('show')
  .description('show a version (NAME@vN, or NAME for its latest)')
  .argument('<ref>')
  .option('--json', 'machine-readable output')
  .action(async (ref: string, o: { json?: boolean }) => {
    await withAnyRegistry(async (r) => {
      const v = await r.resolve(ref);
      const full = await versionJson(r, v);
      if (o.json) return print(full);
      console.log(`${v.ref}  (${v.status})`);
      console.log(
        `  format     ${v.format ?? '-'} / ${v.framework ?? '-'}${v.parameterCount !== null ? `, ${formatCount(v.parameterCount)} parameters` : ''}`,
      );
      console.log(`  size       ${formatBytes(v.sizeBytes)} in ${v.fileCount} files`);
      console.log(`  source     ${v.source.kind} ${v.source.uri}`);
      console.log(`  created    ${v.createdAt}`);
      if (v.git)
        console.log(
          `  commit     ${v.git.commit}${v.git.dirty ? ' (dirty)' : ''} on ${v.git.branch ?? 'detached HEAD'} — ${v.git.subject}`,
        );
      const t = trainingOf(v);
      if (t) console.log(`  trained    ${describeTraining(t)}`);
      for (const s of v.signature.inputs ?? []) console.log(`  input      ${s.name} ${s.dtype}[${s.shape.join(', ')}]`);
      for (const s of v.signature.outputs ?? [])
        console.log(`  output     ${s.name} ${s.dtype}[${s.shape.join(', ')}]`);
      for (const m of modelsOf(v.details)) console.log(`  model      ${m}`);
      for (const w of versionWarnings(v.details)) console.log(`  WARNING    ${w}`);
      if (full.metrics.length) console.log('  metrics');
      for (const m of full.metrics)
        console.log(
          `    ${m.key.padEnd(24)} ${formatMetric(m.value)}${m.isBest ? ' (best)' : ''}  [${m.pointCount} points]`,
        );
      console.log('  files');
      for (const f of full.files) console.log(`    ${f.path}  ${formatBytes(f.size)}  ${f.sha256.slice(0, 12)}`);
    });
  });

program
  .command('verify')
  .description('re-hash every stored file and report the missing or corrupt ones')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => {
    await withRegistry(async (r) => {
      const bar = new ProgressBar(process.stderr);
      const result = await r.verify({ onObject: (d, t) => bar.update('verifying', d, t, 'count') });
      bar.done();
      if (o.json) print(result);
      else {
        console.log(
          `Checked ${result.checked} objects: ${result.problems.length === 0 ? 'all intact' : `${result.problems.length} problems`}`,
        );
        for (const p of result.problems)
          console.log(`  ${p.problem.toUpperCase()} ${p.sha256}  used by ${p.usedBy.join(', ')}`);
      }
      if (result.problems.length) process.exitCode = 1;
    });
  });

program
  .command('gc')
  .description('remove stored files no version refers to, and imports that died')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => {
    await withAnyRegistry(async (r) => {
      const result = await r.gc();
      if (o.json) print(result);
      else
        console.log(
          `Removed ${result.removedObjects} objects (${formatBytes(result.removedBytes)}), ${result.removedVersions} deleted or unfinished versions${result.removedEvaluations ? ` and ${result.removedEvaluations} interrupted evaluations` : ''}`,
        );
    });
  });

registerLifecycleCommands(program, withRegistry, withAnyRegistry, print);
registerTeamCommands(program, withRegistry, teamOptions, print);
registerConvertCommands(program, withRegistry, print);
registerEvaluateCommands(program, withRegistry, print);
registerTrainCommands(program, withRegistry, print);
registerEngineCommands(program, withRegistry, print);
registerServeCommands(program, withRegistry);
registerExampleCommands(program, withRegistry, print);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CancelledError) {
    console.error('modelreg: cancelled; nothing was registered');
    process.exit(130);
  }
  const known = e instanceof InputError || e instanceof RegistryError;
  // A bug's stack trace helps nobody reading a refusal; MODELREG_DEBUG=1 shows it.
  const detail = process.env.MODELREG_DEBUG
    ? ((e as Error)?.stack ?? String(e))
    : `${(e as Error)?.message ?? String(e)} (an internal error: MODELREG_DEBUG=1 shows where)`;
  console.error(`modelreg: ${known ? (e as Error).message : detail}`);
  process.exit(known ? 2 : 1);
});

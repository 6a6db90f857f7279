/**
 * External evaluators: a command (a profile, as for conversions) gets the model and the dataset and
 * writes two files into its output folder; we ingest them like the built-in evaluator's results.
 *
 * Contract (documented in README):
 *   placeholders in args: ${model} (the version's main weights file), ${modelDir} (all its files),
 *   ${dataset} (the dataset root), ${manifest} (the manifest as JSON: classes, samples with id, file,
 *   row, label index, split), ${split} (empty for all), ${outputDir}
 *   ${outputDir}/metrics.json      {"name": number, …}  — kept as the evaluation's metrics (they win
 *                                  over the ones computed from the predictions)
 *   ${outputDir}/predictions.jsonl {"sample_id": "...", "prediction": "cat" | 3, "score": 0.93}  per line
 *   For a detection dataset instead: ${outputDir}/predictions.json, COCO results
 *   ([{"image_id", "category_id", "bbox": [x, y, w, h], "score"}], ids as in the manifest's
 *   images and detection.categoryIds); metrics.json is not read, the metrics are computed here.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { InputError, RegistryError } from '../errors';
import { gitProvenance } from '../git/provenance';
import { Registry } from '../registry/registry';
import { lastLines, runTool, which } from '../convert/profiles';
import { ClassificationTally } from './metrics';
import { chooseSplit } from './splits';
import { checkDatasetFiles, realDatasetRoot } from '../datasets/verify';
import { EvaluationRecord, SamplePrediction } from './types';
import { parseJsonBounded } from '../util/json';
import { describeIgnored, readCocoResults, recordDetectionEvaluation, toDetectionImage } from './detection/record';

export interface EvaluatorProfile {
  id: string;
  title?: string;
  /** Executable on PATH or an absolute path. */
  tool: string;
  args: string[];
  /** Environment variables passed beyond the minimal set (names, or prefixes ending in "*"), as for tool profiles. */
  env?: string[];
}

export function checkEvaluatorProfile(p: unknown, where: string): EvaluatorProfile {
  const o = (p ?? {}) as Record<string, unknown>;
  if (typeof o.id !== 'string' || !o.id) throw new RegistryError(`${where}: an evaluator profile needs an "id"`);
  if (typeof o.tool !== 'string' || !o.tool)
    throw new RegistryError(`${where}: evaluator "${o.id}": "tool" must be a command`);
  if (!Array.isArray(o.args) || o.args.some((a) => typeof a !== 'string'))
    throw new RegistryError(`${where}: evaluator "${o.id}": "args" must be a list of strings`);
  if (o.env !== undefined && (!Array.isArray(o.env) || o.env.some((a) => typeof a !== 'string')))
    throw new RegistryError(`${where}: evaluator "${o.id}": "env" must be a list of variable names`);
  return {
    id: o.id,
    title: typeof o.title === 'string' ? o.title : o.id,
    tool: o.tool,
    args: o.args as string[],
    ...(o.env ? { env: o.env as string[] } : {}),
  };
}

export async function evaluateExternally(
  registry: Registry,
  ref: string,
  profile: EvaluatorProfile,
  opts: {
    dataset: string;
    split?: string;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    log?: (line: string) => void;
  },
): Promise<EvaluationRecord> {
  const v = await registry.resolve(ref);
  const files = await registry.files(v.id);
  const dataset = await registry.getDataset(opts.dataset);
  const manifest = await registry.readManifest(dataset);
  const split = chooseSplit(dataset, opts.split);
  const samples = manifest.samples.filter((s) => split === null || s.split === split);
  // As for the built-in evaluator: the evaluation names the manifest, so the files must still match it.
  const root = await realDatasetRoot(dataset);
  await checkDatasetFiles(dataset, manifest, root, samples, opts.signal);
  const work = `${registry.store.tempPath()}-eval`;
  const logFile = path.join(
    registry.dir,
    'logs',
    `evaluate-${new Date().toISOString().replace(/[:.]/g, '-')}-${profile.id}.log`,
  );
  await fsp.mkdir(path.dirname(logFile), { recursive: true });
  const logStream = await fsp.open(logFile, 'a');
  const log = (line: string) => {
    opts.log?.(line);
    void logStream.write(line + '\n');
  };
  const git = opts.cwd ? (await gitProvenance(opts.cwd)).git : null;
  const id = await registry.beginEvaluation({
    versionId: v.id,
    datasetId: dataset.id,
    split,
    evaluator: profile.id,
    git: git && { commit: git.commit, dirty: git.dirty },
  });
  try {
    const modelDir = path.join(work, 'model');
    for (const f of files) {
      const at = path.join(modelDir, ...f.path.split('/'));
      await fsp.mkdir(path.dirname(at), { recursive: true });
      await fsp
        .link(registry.store.objectPath(f.sha256), at)
        .catch(() => fsp.copyFile(registry.store.objectPath(f.sha256), at));
    }
    const main = files.find((f) => f.role === 'weights') ?? files[0];
    const outputDir = path.join(work, 'out');
    await fsp.mkdir(outputDir, { recursive: true });
    const manifestFile = path.join(work, 'manifest.json');
    await fsp.writeFile(manifestFile, JSON.stringify({ ...manifest, samples }));
    const vars: Record<string, string> = {
      model: path.join(modelDir, ...main.path.split('/')),
      modelDir,
      dataset: root,
      manifest: manifestFile,
      split: split ?? '',
      outputDir,
    };
    const args = profile.args.map((a) =>
      a.replace(/\$\{(model|modelDir|dataset|manifest|split|outputDir)\}/g, (_, k: string) => vars[k]),
    );
    log(`$ ${profile.tool} ${args.join(' ')}`);
    // Found on PATH here (absolute entries only), run in its empty output folder with the minimal environment.
    const exe = await which(profile.tool, opts.env);
    if (!exe)
      throw new RegistryError(`${profile.id}: ${profile.tool} not found (give an absolute path, or a command on PATH)`);
    const r = await runTool(exe, args, {
      cwd: outputDir,
      env: opts.env,
      passEnv: profile.env,
      signal: opts.signal,
      log,
    });
    if (r.code !== 0)
      throw new RegistryError(
        `${profile.tool} failed (exit ${r.code ?? r.signal}): ${lastLines(r.output, 3) || 'no output'}. Full log: ${logFile}`,
      );

    const read = (name: string) =>
      fsp.readFile(path.join(outputDir, name), 'utf8').catch(() => {
        throw new RegistryError(`${profile.id} did not write ${name} into its output folder. Full log: ${logFile}`);
      });
    if (manifest.kind === 'detection') {
      // A detector writes COCO results; the metrics are ours (pycocotools' semantics), whatever it reports.
      const images = samples.map(toDetectionImage);
      const where = path.join(outputDir, 'predictions.json');
      const read = readCocoResults(
        await fsp.readFile(where, 'utf8').catch(() => {
          throw new RegistryError(
            `${profile.id} did not write predictions.json (COCO results) into its output folder. Full log: ${logFile}`,
          );
        }),
        `${profile.id}: predictions.json`,
        manifest,
        images,
      );
      log(`${read.count} predictions ingested; ignored: ${describeIgnored(read.ignored)}`);
      return await recordDetectionEvaluation(registry, id, manifest.classes, images, read.predictions, {
        signal: opts.signal,
        details: { log: logFile, tool: profile.tool, ignoredPredictions: read.ignored },
      });
    }
    let given: Record<string, unknown>;
    try {
      given = parseJsonBounded(await read('metrics.json'), `${profile.id}: metrics.json`) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof RegistryError || e instanceof InputError) throw e;
      throw new InputError(`${profile.id}: metrics.json`, `not valid JSON (${(e as Error).message})`);
    }
    const byId = new Map(samples.map((s, i) => [s.id, { s, i }]));
    const tally = new ClassificationTally(manifest.classes);
    const outcomes: SamplePrediction[] = [];
    const seen = new Set<string>();
    let unknown = 0;
    (await read('predictions.jsonl')).split('\n').forEach((line, n) => {
      if (!line.trim()) return;
      const p = parseJsonBounded(line, `${profile.id}: predictions.jsonl`, { what: `line ${n + 1}` }) as {
        sample_id?: unknown;
        prediction?: unknown;
        score?: unknown;
      };
      const hit = typeof p.sample_id === 'string' ? byId.get(p.sample_id) : undefined;
      if (!hit || seen.has(hit.s.id)) return void unknown++;
      seen.add(hit.s.id);
      const prediction =
        typeof p.prediction === 'number' ? p.prediction : manifest.classes.indexOf(String(p.prediction));
      const score = typeof p.score === 'number' ? p.score : null;
      if (!Number.isInteger(prediction) || prediction < 0 || prediction >= manifest.classes.length) {
        outcomes.push({
          idx: hit.i,
          sampleId: hit.s.id,
          label: hit.s.label,
          prediction: null,
          score: null,
          error: `prediction ${JSON.stringify(p.prediction)} is not one of the dataset's classes`,
        });
        return;
      }
      tally.addPrediction(hit.s.label, prediction, score);
      outcomes.push({ idx: hit.i, sampleId: hit.s.id, label: hit.s.label, prediction, score });
    });
    for (const [sid, { s, i }] of byId)
      if (!seen.has(sid))
        outcomes.push({
          idx: i,
          sampleId: s.id,
          label: s.label,
          prediction: null,
          score: null,
          error: 'no prediction from the evaluator',
        });
    await registry.addEvaluationSamples(id, outcomes);
    const numbers = Object.fromEntries(Object.entries(given).filter(([, x]) => typeof x === 'number')) as Record<
      string,
      number
    >;
    const errors = outcomes.filter((o) => o.error).length;
    log(
      `${outcomes.length - errors} predictions ingested, ${errors} samples without a usable one, ${unknown} unknown or repeated ids ignored`,
    );
    return await registry.completeEvaluation(id, {
      metrics: { ...tally.metrics(), ...numbers },
      perClass: tally.perClass(),
      confusion: tally.confusion,
      sampleCount: outcomes.length - errors,
      errorCount: errors,
      details: { log: logFile, ignoredPredictions: unknown, tool: profile.tool },
    });
  } catch (e) {
    await registry.dropEvaluation(id);
    log(`# failed: ${(e as Error).message}`);
    throw e;
  } finally {
    await logStream.close();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

import { Command } from 'commander';
import * as path from 'path';
import {
  checkEvaluatorProfile,
  DatasetRecord,
  EvaluationRecord,
  evaluateExternally,
  evaluateVersion,
  Registry,
  RegistryError,
  registerDataset,
} from '../core';
import { formatMetric } from '../shared/format';
import { profilesTrusted, registryProfileFile, trustHint } from './convertCommands';
import { withProgress } from './progress';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

function summary(e: EvaluationRecord): string[] {
  const m = e.metrics;
  const lines = [
    `${e.ref} on ${e.datasetName}${e.split ? `/${e.split}` : ''} (dataset ${e.datasetSha256.slice(0, 12)}${e.git ? `, commit ${e.git.commit.slice(0, 8)}${e.git.dirty ? ' dirty' : ''}` : ''}): ${e.sampleCount} samples${e.errorCount ? `, ${e.errorCount} could not be evaluated` : ''}`,
    `  accuracy ${formatMetric(m.accuracy ?? null)}${m.top5 !== undefined ? `  top-5 ${formatMetric(m.top5 ?? null)}` : ''}  macro F1 ${formatMetric(m.macroF1 ?? null)}  weighted F1 ${formatMetric(m.weightedF1 ?? null)}  ECE ${formatMetric(m.ece ?? null)}`,
  ];
  const width = Math.max(5, ...e.perClass.map((c) => c.class.length));
  lines.push(`  ${'class'.padEnd(width)}  support  precision  recall  F1`);
  for (const c of e.perClass)
    lines.push(
      `  ${c.class.padEnd(width)}  ${String(c.support).padStart(7)}  ${formatMetric(c.precision).padStart(9)}  ${formatMetric(c.recall).padStart(6)}  ${formatMetric(c.f1)}`,
    );
  return lines;
}

export function registerEvaluateCommands(
  program: Command,
  withRegistry: WithRegistry,
  print: (value: unknown) => void,
): void {
  const dataset = program.command('dataset').description('register datasets to evaluate on');
  dataset
    .command('add')
    .description(
      'register a folder of class folders with images (optionally under train/val/test), a CSV/JSONL with a label column, a .npz / inputs.npy+labels.npy, or a detection dataset: a COCO instances .json (--images DIR), a YOLO data.yaml (or its folder), a Pascal VOC folder',
    )
    .argument('<path>')
    .option('--name <name>', 'dataset name (default: the folder or file name)')
    .option('--label-column <col>', 'table label column', 'label')
    .option('--split-column <col>', 'table split column (default: "split" when present)')
    .option('--text-column <col>', 'table text column (kept out of the features)')
    .option(
      '--images <dir>',
      'COCO: the folder holding the images (file_name is relative to it); without it, boxes only',
    )
    .option('--json', 'machine-readable output')
    .action(
      async (
        src: string,
        o: {
          name?: string;
          labelColumn: string;
          splitColumn?: string;
          textColumn?: string;
          images?: string;
          json?: boolean;
        },
      ) =>
        withRegistry((r) =>
          withProgress('hashing', 'bytes', async (signal, onProgress) => {
            const d = await registerDataset(r, src, {
              name: o.name,
              labelColumn: o.labelColumn,
              splitColumn: o.splitColumn,
              textColumn: o.textColumn,
              images: o.images,
              signal,
              onProgress,
            });
            if (o.json) return print(d);
            if (d.kind !== 'detection')
              return console.log(
                `Registered dataset ${d.name} (${d.kind}): ${d.sampleCount} samples, ${d.classes.length} classes${d.splits.length ? `, splits ${d.splits.join('/')}` : ''}; manifest ${d.manifestSha256.slice(0, 12)}`,
              );
            console.log(
              `Registered dataset ${d.name} (${datasetSummary(d)}); manifest ${d.manifestSha256.slice(0, 12)}`,
            );
            for (const w of detailList(d, 'warnings')) console.error(`warning: ${w}`);
            if (problemCount(d)) console.error(`See the problems with: modelreg dataset show ${d.name}`);
          }),
        ),
    );
  dataset
    .command('show')
    .description("a dataset's record: kind, counts, splits, and a detection dataset's warnings and problems")
    .argument('<name>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const d = await r.getDataset(name);
        if (o.json) return print(d);
        console.log(`${d.name}: ${datasetSummary(d)}`);
        console.log(`  root ${d.root}`);
        if (typeof d.details.imagesDir === 'string') console.log(`  images ${d.details.imagesDir}`);
        console.log(`  manifest ${d.manifestSha256}, registered ${d.createdAt}`);
        for (const w of detailList(d, 'warnings')) console.log(`  warning: ${w}`);
        for (const p of detailList(d, 'problems') as unknown as Record<string, unknown>[]) {
          const at = ['annotationId', 'imageId', 'line']
            .filter((k) => p[k] !== undefined)
            .map((k) => `${k === 'annotationId' ? 'annotation' : k === 'imageId' ? 'image' : 'line'} ${String(p[k])}`);
          console.log(`  ${String(p.file)}${at.length ? ` (${at.join(', ')})` : ''}: ${String(p.problem)}`);
        }
        const shown = detailList(d, 'problems').length;
        if (problemCount(d) > shown)
          console.log(`  … ${problemCount(d) - shown} more problems (only the first ${shown} are kept)`);
      }),
    );
  program
    .command('datasets')
    .description('list registered datasets')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const list = await r.listDatasets();
        if (o.json) return print(list);
        if (list.length === 0) console.log('No datasets. Register one with: modelreg dataset add PATH');
        for (const d of list)
          console.log(
            d.kind === 'detection'
              ? `${d.name}\tdetection\t${d.sampleCount} images\t${Number(d.details.boxes ?? 0)} boxes\t${d.classes.length} classes\t${problemCount(d)} problems\t${d.manifestSha256.slice(0, 12)}\t${d.root}`
              : `${d.name}\t${d.kind}\t${d.sampleCount} samples\t${d.classes.length} classes\t${d.manifestSha256.slice(0, 12)}\t${d.root}`,
          );
      }),
    );
  program
    .command('evaluate')
    .description(
      'run an ONNX version on a dataset: accuracy, top-k, per-class precision/recall/F1, confusion matrix, calibration; per-sample predictions kept',
    )
    .argument('<ref>')
    .requiredOption('--dataset <name>', 'a registered dataset (modelreg datasets)')
    .option('--split <name>', 'default: test, else val (never train); every sample when the dataset has no splits')
    .option('--batch <n>', 'batch size when the model allows any', (s) => Number(s), 32)
    .option('--evaluator <id>', 'an external evaluator from <registry>/evaluators.json instead of the built-in one')
    .option(
      '--trust-profiles',
      'load <registry>/evaluators.json (its commands run); also "trustProfiles": true in ~/.config/modelreg/config.json',
    )
    .option('--json', 'machine-readable output')
    .action(
      async (
        ref: string,
        o: {
          dataset: string;
          split?: string;
          batch: number;
          evaluator?: string;
          trustProfiles?: boolean;
          json?: boolean;
        },
      ) =>
        withRegistry((r) =>
          withProgress('evaluating', 'count', async (signal, onProgress) => {
            const log = (l: string) => console.error(l);
            const e = o.evaluator
              ? await evaluateExternally(r, ref, await evaluatorProfile(r, o.evaluator, o.trustProfiles), {
                  dataset: o.dataset,
                  split: o.split,
                  cwd: process.cwd(),
                  signal,
                  log,
                })
              : await evaluateVersion(r, ref, {
                  dataset: o.dataset,
                  split: o.split,
                  batchSize: o.batch,
                  cwd: process.cwd(),
                  signal,
                  onProgress,
                  log,
                });
            if (o.json) print(e);
            else for (const line of summary(e)) console.log(line);
          }),
        ),
    );
  program
    .command('evaluations')
    .description("a version's evaluations, newest first")
    .argument('<ref>')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const list = await r.evaluationsOf((await r.resolve(ref)).id);
        if (o.json) return print(list);
        if (list.length === 0)
          console.log(`${ref} has not been evaluated. Run: modelreg evaluate ${ref} --dataset NAME`);
        for (const e of list)
          console.log(
            `#${e.id}\t${e.finishedAt}\t${e.datasetName}${e.split ? `/${e.split}` : ''}\taccuracy ${formatMetric(e.metrics.accuracy ?? null)}\t${e.sampleCount} samples`,
          );
      }),
    );
}

const problemCount = (d: DatasetRecord) => Number(d.details.problemCount ?? 0);
const detailList = (d: DatasetRecord, key: string): unknown[] =>
  Array.isArray(d.details[key]) ? (d.details[key] as unknown[]) : [];

/** "detection (coco): 3 images, 9 boxes, 4 classes, splits train/val, 2 problems" — or a classification dataset's counts. */
function datasetSummary(d: DatasetRecord): string {
  const splits = d.splits.length ? `, splits ${d.splits.join('/')}` : '';
  if (d.kind !== 'detection') return `${d.kind}: ${d.sampleCount} samples, ${d.classes.length} classes${splits}`;
  const n = problemCount(d);
  return `detection: ${d.sampleCount} images, ${Number(d.details.boxes ?? 0)} boxes, ${d.classes.length} classes${splits}, ${n} problem${n === 1 ? '' : 's'}${d.details.imagesMissing ? ', without images' : ''}`;
}

/** An evaluator from <registry>/evaluators.json (a list, as in the modelRegistry.evaluate.profiles setting), when trusted. */
async function evaluatorProfile(r: Registry, id: string, trust: boolean | undefined) {
  const file = path.join(r.dir, 'evaluators.json');
  const { text, ignored } = await registryProfileFile(file, await profilesTrusted(trust));
  if (ignored)
    throw new RegistryError(`no evaluator '${id}': ${file} was not loaded because it is not trusted; ${trustHint()}`);
  if (text === undefined)
    throw new RegistryError(`no evaluator '${id}': ${file} does not exist (a list of {id, tool, args})`);
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new RegistryError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const found = (Array.isArray(list) ? list : []).map((p) => checkEvaluatorProfile(p, file)).find((p) => p.id === id);
  if (!found) throw new RegistryError(`no evaluator '${id}' in ${file}`);
  return found;
}

/**
 * What the request panel sends and shows, beyond what a user types: inputs of the right shape made
 * up (zeros or random), an image made into the model's input the way the evaluator makes it (the
 * version's preprocessing), and the top classes of an answer with the version's labels.
 */
import { imageShape, loadImage, preprocessFromConfig } from '../datasets/samples';
import { RegistryError } from '../errors';
import { modelLabels, versionConfig } from '../evaluate/evaluate';
import type { Registry } from '../registry/registry';
import type { VersionRecord } from '../registry/types';
import type { MetadataTensor } from './oip';

export type InferRequestJson = { inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[] };

/** A request with every input filled: zeros, or random values (0..1 for floats, 0..9 for integers). Dynamic axes are 1. */
export function generatedRequest(
  inputs: MetadataTensor[],
  kind: 'zeros' | 'random',
  random = Math.random,
): InferRequestJson {
  return {
    inputs: inputs.map((t) => {
      const shape = t.shape.map((d) => (d > 0 ? d : 1));
      const n = shape.reduce((a, b) => a * b, 1);
      const value = (): unknown => {
        if (t.datatype === 'BYTES') return '';
        if (t.datatype === 'BOOL') return kind === 'random' && random() < 0.5;
        if (kind === 'zeros') return 0;
        return /^FP|^BF/.test(t.datatype) ? Math.round(random() * 1e4) / 1e4 : Math.floor(random() * 10);
      };
      return { name: t.name, shape, datatype: t.datatype, data: Array.from({ length: n }, value) };
    }),
  };
}

/** The version takes an image: one input of 4 axes with 3 channels (NCHW or NHWC). */
export function takesImage(inputs: MetadataTensor[]): boolean {
  if (inputs.length !== 1) return false;
  const s = inputs[0].shape;
  return s.length === 4 && (s[1] === 3 || s[3] === 3) && /^FP/.test(inputs[0].datatype);
}

/** The version's class names from its config (id2label, labels, classes), if it has them. */
export async function versionLabels(registry: Registry, v: VersionRecord): Promise<string[] | undefined> {
  return modelLabels(await versionConfig(registry, v));
}

/** An image file as the version's input: decoded, resized and normalised by its config's preprocessing. */
export async function imageRequest(
  registry: Registry,
  v: VersionRecord,
  input: MetadataTensor,
  file: string,
): Promise<InferRequestJson> {
  const pre = preprocessFromConfig(await versionConfig(registry, v), input.shape);
  const data = await loadImage(file, pre);
  const shape = [1, ...imageShape(pre)];
  if (input.shape.some((d, i) => d > 0 && d !== shape[i]))
    throw new RegistryError(
      `${v.ref} takes ${input.name} of shape [${input.shape}]; its preprocessing makes [${shape}] (check config.json "preprocessing")`,
    );
  return {
    inputs: [{ name: input.name, shape, datatype: 'FP32', data: Array.from(data, (x) => Math.round(x * 1e6) / 1e6) }],
  };
}

export interface TopClass {
  index: number;
  label?: string;
  score: number;
}

/** The k highest scores of the first output that looks like class scores (one row of two or more numbers). */
export function topClasses(answer: unknown, labels?: string[], k = 5): TopClass[] | undefined {
  const outputs = (answer as { outputs?: { shape: number[]; datatype: string; data: unknown[] }[] })?.outputs ?? [];
  const scores = outputs.find(
    (o) => o.datatype !== 'BYTES' && o.shape.filter((d) => d > 1).length === 1 && o.shape.at(-1)! > 1,
  );
  if (!scores) return undefined;
  return rankClasses((scores.data.flat(Infinity) as unknown[]).map(Number), labels, k);
}

/** The k highest of a row of class scores, best first, each named by its label when there is one. */
export function rankClasses(scores: ArrayLike<number>, labels?: string[], k = 5): TopClass[] {
  return Array.from(scores, (score, index) => ({
    index,
    score,
    ...(labels?.[index] !== undefined ? { label: labels[index] } : {}),
  }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

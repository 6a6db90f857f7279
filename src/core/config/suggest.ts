import { promises as fsp } from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { parseJsonBounded } from '../util/json';
import { readRegularText } from '../util/readFile';
import type { Template } from './templates';

/** What a model folder says about its task: its file names and, from a config.json, what it declares. */
export interface FolderFiles {
  /** Names of the files directly in the folder. */
  names: string[];
  /** A Hugging Face config.json's `architectures` (e.g. "BertForSequenceClassification"). */
  architectures: string[];
  /** A ModelArts config.json's `model_algorithm` (the template's task, written down). */
  modelAlgorithm?: string;
}

export interface TemplateFit {
  template: Template;
  score: number;
  /** The folder's files and declarations that speak for this template, for the picker to show. */
  because: string[];
}

/** A task told by a file name or a declared architecture, beyond the template's own file patterns. */
interface Hint {
  task: string;
  points: number;
  name?: RegExp;
  architecture?: RegExp;
  /** The hint holds only when no file name matches this (labels.txt means classes of images unless a tokenizer is there). */
  unless?: RegExp;
}

const TOKENIZER = /^(tokenizer\.json|tokenizer_config\.json|tokenizer\.model|vocab\.txt|merges\.txt|spiece\.model)$/i;

const HINTS: Hint[] = [
  { task: 'image_classification', points: 1, name: /^(labels|classes)\.txt$/i, unless: TOKENIZER },
  { task: 'object_detection', points: 3, name: /(yolo|detr|ssd|rcnn|retinanet|detect)[^/]*\.\w+$/i },
  { task: 'text_generation', points: 3, name: /\.gguf$/i },
  { task: 'text_generation', points: 2, name: /^(generation_config\.json|tokenizer\.model)$/i },
  { task: 'text_classification', points: 1, name: /^vocab\.txt$/i },
  { task: 'custom', points: 5, name: /^(Dockerfile|Containerfile)$/i },
  { task: 'image_classification', points: 4, architecture: /ForImageClassification$/ },
  { task: 'object_detection', points: 4, architecture: /ForObjectDetection$/ },
  { task: 'text_classification', points: 4, architecture: /For(Sequence|Token)Classification$/ },
  { task: 'text_generation', points: 4, architecture: /(ForCausalLM|LMHeadModel|ForConditionalGeneration)$/ },
];

/** A template whose required files are missing is still offered, after every one that fits. */
const MISSING_REQUIRED = -10;

/**
 * The templates ordered by how well they fit a folder, best first (ties keep the catalog's order):
 * each of the template's own file patterns the folder matches counts (required ones more), a
 * required pattern nothing matches sinks it, and file names or a config.json's declarations that
 * tell the task add to the template of that task (`.onnx` + `labels.txt` → image classification).
 */
export function rankTemplates(templates: Template[], folder: FolderFiles): TemplateFit[] {
  const names = folder.names;
  const fits = templates.map((template, index) => {
    let score = 0;
    const because = new Set<string>();
    for (const f of template.files) {
      const match = picomatch(f.pattern, { nocase: true, dot: true });
      const hits = names.filter((n) => match(n));
      if (hits.length) {
        score += f.required ? 2 : 1;
        hits.slice(0, 2).forEach((h) => because.add(h));
      } else if (f.required) score += MISSING_REQUIRED;
    }
    for (const h of HINTS) {
      if (h.task !== template.task) continue;
      if (h.unless && names.some((n) => h.unless!.test(n))) continue;
      const hit = h.name
        ? names.find((n) => h.name!.test(n))
        : folder.architectures.find((a) => h.architecture!.test(a));
      if (!hit) continue;
      score += h.points;
      because.add(h.name ? hit : `config.json: ${hit}`);
    }
    if (folder.modelAlgorithm && folder.modelAlgorithm === template.task) {
      score += 10;
      because.add(`config.json: model_algorithm ${folder.modelAlgorithm}`);
    }
    return { template, score, because: [...because], index };
  });
  fits.sort((a, b) => b.score - a.score || a.index - b.index);
  return fits.map(({ template, score, because }) => ({ template, score, because }));
}

/** config.json is read for its declarations only; a bigger one is not a model's. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file names directly in `dir` and what a config.json there declares (nothing when it is unreadable). */
export async function readFolderFiles(dir: string): Promise<FolderFiles> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((e) => e.isFile()).map((e) => e.name);
  const folder: FolderFiles = { names, architectures: [] };
  const config = names.find((n) => n.toLowerCase() === 'config.json');
  if (!config) return folder;
  try {
    const file = path.join(dir, config);
    const value = parseJsonBounded(await readRegularText(file, { maxBytes: MAX_CONFIG_BYTES }), file) as Record<
      string,
      unknown
    > | null;
    if (Array.isArray(value?.architectures))
      folder.architectures = value.architectures.filter((a): a is string => typeof a === 'string');
    if (typeof value?.model_algorithm === 'string') folder.modelAlgorithm = value.model_algorithm;
  } catch {
    // An unreadable config.json says nothing about the task; the file names still do.
  }
  return folder;
}

/** Evaluations: a version run on a dataset, with metrics and per-sample predictions. */
import type { DetectionBox, BoxXYWH } from './datasetTypes';

export type EvaluationStatus = 'running' | 'done' | 'failed';

/** What a finished evaluation records (completeEvaluation). */
export interface EvaluationResults {
  metrics: Record<string, number | null | undefined>;
  perClass: ClassMetrics[];
  confusion: number[][];
  sampleCount: number;
  errorCount: number;
  details?: Record<string, unknown>;
}

export interface ClassMetrics {
  class: string;
  support: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

/** Classification metrics; null where undefined (no samples, no predicted positives). */
export interface ClassificationMetrics {
  accuracy: number | null;
  /** top-k accuracy for k = 3 and 5 when the model has that many classes. */
  top3?: number | null;
  top5?: number | null;
  macroPrecision: number | null;
  macroRecall: number | null;
  macroF1: number | null;
  weightedPrecision: number | null;
  weightedRecall: number | null;
  weightedF1: number | null;
  /** Expected calibration error over 15 equal-width confidence bins. */
  ece: number | null;
  /** Samples evaluated (errors excluded). */
  count: number;
}

/** One sample's outcome. label/prediction are class indices; score is the predicted class's probability. */
export interface SamplePrediction {
  idx: number;
  sampleId: string;
  label: number | null;
  prediction: number | null;
  score: number | null;
  /** Why this sample could not be evaluated (corrupt image, label not in the classes…). */
  error?: string;
}

export interface EvaluationRecord {
  id: number;
  versionId: number;
  ref: string;
  datasetId: number;
  datasetName: string;
  datasetSha256: string;
  split: string | null;
  evaluator: string;
  status: EvaluationStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The workspace commit when the evaluation ran. */
  git: { commit: string; dirty: boolean } | null;
  sampleCount: number;
  errorCount: number;
  metrics: Partial<ClassificationMetrics> & Record<string, number | null | undefined>;
  perClass: ClassMetrics[];
  /** confusion[label][prediction] = count, in dataset class order. */
  confusion: number[][];
  classes: string[];
  details: Record<string, unknown>;
}

// ---- detection: every box's outcome, stored per image (evaluation_images) ----

/** One predicted box. `id` is its index among the image's predictions (0, 1, …), as the model or the results file gave them. */
export interface PredictedBox {
  id: number;
  label: number;
  bbox: BoxXYWH;
  score: number;
}

/** Why a false positive is one, at IoU 0.5 (the order in which they are tried). */
export type FalsePositiveReason =
  /** overlaps a ground truth of its class by ≥ 0.5 that a more confident prediction already matched */
  | 'duplicate'
  /** overlaps a ground truth of another class by ≥ 0.5 */
  | 'wrong-class'
  /** overlaps a ground truth of its class by 0.1 ≤ IoU < 0.5 */
  | 'localisation'
  /** overlaps nothing (IoU < 0.1 with every ground truth) */
  | 'background';

/**
 * A prediction's outcome at IoU 0.5, matched per class greedily by score as COCO matches (all
 * predictions, no confidence cut). Because matching is greedy by score, raising the confidence
 * threshold to c never changes the outcome of a prediction scoring ≥ c: the panel's slider
 * re-classifies by dropping predictions below c and turning their matched truths into misses.
 * 'ignored': matched a crowd region or a VOC difficult box.
 */
export interface PredictionOutcome extends PredictedBox {
  outcome: 'tp' | 'fp' | 'ignored';
  reason?: FalsePositiveReason;
  /** The ground truth it matched (tp, ignored) or overlaps most (fp other than background). */
  truthId?: number;
  iou?: number;
}

/** A ground truth's outcome at IoU 0.5; `score` is the matching prediction's, so it is missed at any confidence above that. */
export interface TruthOutcome extends DetectionBox {
  outcome: 'matched' | 'fn' | 'ignored';
  predictionId?: number;
  iou?: number;
  score?: number;
}

export interface ImageOutcomes {
  imageId: number;
  sampleId: string;
  predictions: PredictionOutcome[];
  truths: TruthOutcome[];
}

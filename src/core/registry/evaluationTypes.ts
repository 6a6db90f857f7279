/** Evaluations: a version run on a dataset, with metrics and per-sample predictions. */

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

/** Evaluation records live with their table in the registry; imported from here by the evaluation code. */
export type {
  ClassificationMetrics,
  ClassMetrics,
  EvaluationRecord,
  EvaluationStatus,
  SamplePrediction,
} from '../registry/evaluationTypes';

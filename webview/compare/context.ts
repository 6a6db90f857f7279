import type { ComparisonModel, FromWebview, XAxis } from '../../src/shared/compare/contract';

/**
 * What the user chose on the page. It outlives each comparison message, so a live update (a new
 * version landed, a direction changed) re-renders without resetting the user's view.
 */
export interface UiState {
  /** Version the deltas are computed against; null until the first comparison. */
  baselineId: number | null;
  metricFilter: string;
  /** Sort of the final-metrics table: by key or by one version's value. */
  metricSort: { by: 'key' | number; descending: boolean };
  axis: XAxis;
  /** Versions hidden in every chart (toggled from any legend). */
  hidden: Set<number>;
  /** null until the user touches the checkbox: the default depends on the number of rows. */
  onlyDifferences: boolean | null;
  paramFilter: string;
}

export function initialUi(): UiState {
  return {
    baselineId: null,
    metricFilter: '',
    metricSort: { by: 'key', descending: false },
    axis: 'step',
    hidden: new Set(),
    onlyDifferences: null,
    paramFilter: '',
  };
}

/** What every section gets: the UI state, the way to the extension, and the current model. */
export interface Context {
  ui: UiState;
  post(msg: FromWebview): void;
  model(): ComparisonModel | undefined;
}

/** The baseline's column index in the current model (the first version when unset or gone). */
export function baselineIndex(model: ComparisonModel, ui: UiState): number {
  return Math.max(
    0,
    model.versions.findIndex((v) => v.id === ui.baselineId),
  );
}

/** Hugging Face Trainer `trainer_state.json`. */
import { InputError } from '../../errors';
import type { Deadline } from '../../util/readFile';
import type { MetricLog } from '../types';
import { MAX_LOG_TEXT_BYTES, SeriesBuilder, parseJsonTolerant, readTextLimited } from './common';

/** log_history keys that say where a point is, not what was measured. */
const BOOKKEEPING = new Set(['step', 'epoch']);

export async function readTrainerState(
  absPath: string,
  relPath: string,
  deadline?: Deadline,
): Promise<MetricLog | undefined> {
  const state = parseJsonTolerant(await readTextLimited(absPath, relPath, MAX_LOG_TEXT_BYTES), relPath) as Record<
    string,
    unknown
  >;
  if (!state || typeof state !== 'object' || !Array.isArray(state.log_history)) {
    throw new InputError(relPath, 'not a trainer state: no "log_history" array');
  }
  const history = state.log_history as unknown[];
  const builder = new SeriesBuilder(relPath, deadline);
  history.forEach((entry, i) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new InputError(relPath, `log_history[${i}] is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const step = typeof e.step === 'number' ? e.step : i;
    for (const key in e) {
      const v = e[key];
      if (typeof v === 'number' && !BOOKKEEPING.has(key)) builder.add(key, step, v);
    }
  });
  const log: MetricLog = { source: relPath, series: builder.build() };
  const best = bestOf(state, history);
  if (best) log.best = best;
  return log.series.length || log.best ? log : undefined;
}

function bestOf(state: Record<string, unknown>, history: unknown[]): MetricLog['best'] {
  const value = state.best_metric;
  if (typeof value !== 'number') return undefined;
  let step: number | undefined;
  if (typeof state.best_global_step === 'number') step = state.best_global_step;
  else if (typeof state.best_model_checkpoint === 'string') {
    const m = /checkpoint-(\d+)\/?$/.exec(state.best_model_checkpoint);
    if (m) step = Number(m[1]);
  }
  let key: string | undefined;
  const named = state.metric_for_best_model;
  if (typeof named === 'string' && named) {
    // Trainer compares log_history's "eval_<name>" (it adds the prefix when missing).
    key = named.startsWith('eval_') ? named : `eval_${named}`;
  } else {
    key = guessBestKey(value, step, history);
  }
  if (!key) return undefined;
  return step === undefined ? { key, value } : { key, value, step };
}

/**
 * Classic trainer_state.json does not say which metric best_metric is (it lives in training_args.bin),
 * so look for the eval entry holding exactly that value, preferring the Trainer default eval_loss.
 */
function guessBestKey(value: number, step: number | undefined, history: unknown[]): string | undefined {
  const found: string[] = [];
  for (const entry of history) {
    const e = entry as Record<string, unknown>;
    if (step !== undefined && e.step !== step) continue;
    for (const k in e) {
      if (k.startsWith('eval_') && (e[k] === value || (Number.isNaN(value) && Number.isNaN(e[k])))) found.push(k);
    }
  }
  if (found.includes('eval_loss')) return 'eval_loss';
  return found.find((k) => !/_(runtime|per_second)$/.test(k)) ?? found[0];
}

/**
 * How close an early-exit generation is to the full model's (CALM's "textual
 * consistency"), per prompt, in [0, 1]; the calibrated risk is 1 minus one of these.
 */
import { UsageError, listChoices } from '../../core/errors';
import { decodeBytes } from '../../data/text';

export const CONSISTENCY_METRICS = ['token-agreement', 'rouge-l'] as const;
export type ConsistencyMetric = (typeof CONSISTENCY_METRICS)[number];

export function checkConsistencyMetric(m: string): ConsistencyMetric {
  if (!(CONSISTENCY_METRICS as readonly string[]).includes(m)) throw new UsageError(`unknown consistency '${m}'; valid: ${listChoices(CONSISTENCY_METRICS)}`);
  return m as ConsistencyMetric;
}

/** Fraction of positions where the two token sequences agree (strict: a shift counts as disagreement). */
export function tokenAgreement(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] === b[i]) same++;
  return same / n;
}

function lcsLength(a: string[], b: string[]): number {
  const prev = new Array(b.length + 1).fill(0);
  const cur = new Array(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    for (let j = 0; j <= b.length; j++) prev[j] = cur[j];
  }
  return prev[b.length];
}

/** ROUGE-L F1 over whitespace-separated words (1 when both are empty). */
export function rougeL(candidate: string, reference: string): number {
  const c = candidate.split(/\s+/).filter((w) => w.length > 0);
  const r = reference.split(/\s+/).filter((w) => w.length > 0);
  if (c.length === 0 && r.length === 0) return 1;
  if (c.length === 0 || r.length === 0) return 0;
  const l = lcsLength(c, r);
  if (l === 0) return 0;
  const p = l / c.length;
  const rec = l / r.length;
  return (2 * p * rec) / (p + rec);
}

/** Consistency of byte tokens `early` with `full` under `metric`. */
export function consistency(metric: ConsistencyMetric, early: number[], full: number[]): number {
  if (metric === 'token-agreement') return tokenAgreement(early, full);
  return rougeL(decodeBytes(Uint8Array.from(early)), decodeBytes(Uint8Array.from(full)));
}

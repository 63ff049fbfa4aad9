/**
 * Claims -> verdicts. The heart of the suite: each claim's metric is computed on
 * every seed's result, aggregated (mean ± sample std), and the MEAN is judged
 * against the expectation fixed in claims.ts. Nothing here knows about any paper.
 */
import type { Claim, Expectation, ProfileName, SeedResult } from './contract';
import type { ClaimRecord, Measured } from './files';

export type { ClaimRecord, Measured, Verdict } from './files';

export function formatExpectation(e: Expectation): string {
  const parts: string[] = [];
  if (e.atLeast !== undefined) parts.push(`>= ${e.atLeast}`);
  if (e.atMost !== undefined) parts.push(`<= ${e.atMost}`);
  return parts.join(' and ') || 'any';
}

export function meetsExpectation(value: number, e: Expectation): boolean {
  if (!Number.isFinite(value)) return false;
  if (e.atLeast !== undefined && !(value >= e.atLeast)) return false;
  if (e.atMost !== undefined && !(value <= e.atMost)) return false;
  return true;
}

export function meanStd(values: number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v) };
}

export function evaluateClaim<R>(claim: Claim<R>, results: SeedResult<R>[], profile: ProfileName): ClaimRecord {
  const base = {
    id: claim.id,
    paper: claim.paper,
    statement: claim.statement,
    source: claim.source,
    paperValue: claim.paperValue,
    measures: claim.measures,
    tolerance: formatExpectation(claim.expect),
    toleranceWhy: claim.toleranceWhy,
    profile,
  };
  if (!claim.profiles.includes(profile)) {
    return { ...base, measured: null, verdict: 'not-run', reason: `judged only at profile ${claim.profiles.join('/')}`, expected: true };
  }
  if (results.length === 0) {
    return { ...base, measured: null, verdict: 'not-run', reason: 'no result', expected: false };
  }
  const perSeed: { seed: number; value: number }[] = [];
  for (const { seed, result } of results) {
    const v = claim.metric(result);
    if (typeof v !== 'number') return { ...base, measured: null, verdict: 'not-run', reason: v.notRun, expected: true };
    perSeed.push({ seed, value: v });
  }
  const nonFinite = perSeed.find((p) => !Number.isFinite(p.value));
  // JSON has no NaN or Infinity: keep such a result out of claims.json and say so.
  if (nonFinite) return { ...base, measured: null, verdict: 'not-reproduced', reason: `metric is not a finite number (seed ${nonFinite.seed}: ${nonFinite.value})`, expected: false };
  const { mean, std } = meanStd(perSeed.map((p) => p.value));
  const measured: Measured = { mean, std, n: perSeed.length, perSeed };
  const ok = meetsExpectation(mean, claim.expect);
  const known = claim.knownNotReproduced && claim.knownNotReproduced.profiles.includes(profile) ? claim.knownNotReproduced : undefined;
  if (ok) return { ...base, measured, verdict: 'reproduced', expected: true };
  return {
    ...base,
    measured,
    verdict: 'not-reproduced',
    reason: known?.reason,
    expected: known !== undefined,
  };
}

export function evaluateClaims<R>(claims: Claim<R>[], results: SeedResult<R>[], profile: ProfileName): ClaimRecord[] {
  return claims.map((c) => evaluateClaim(c, results, profile));
}

/** Every claim of a paper that cannot run here, as not-run with the reason (a declared precondition: expected). */
export function notRunClaims<R>(claims: Claim<R>[], profile: ProfileName, reason: string): ClaimRecord[] {
  return evaluateClaims(claims, [], profile).map((c) => ({ ...c, verdict: 'not-run', reason, expected: true, measured: null }));
}

/** A claim record that the CLI counts as a failure (exit 1). */
export function isUnexpectedFailure(r: ClaimRecord): boolean {
  return r.verdict === 'not-reproduced' && !r.expected;
}

/** Value as text with sensible precision, e.g. "3.21 ± 0.12 (n=3)". */
export function formatMeasured(m: Measured | null): string {
  if (!m) return '—';
  const f = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
  return m.n > 1 ? `${f(m.mean)} ± ${f(m.std)} (n=${m.n})` : f(m.mean);
}

/**
 * Claims -> verdicts, the heart of the suite. Each claim's metric is computed on every
 * seed's result and judged on a 95% confidence interval of its mean, never on the mean
 * alone:
 *
 * - the interval comes from the spread across seeds (Student t, n - 1 degrees of freedom;
 *   a claim that compares methods computes its metric within each seed, so the interval
 *   is a paired one); a timing claim's unit is its paired timed repetition, averaged
 *   within each seed when there are several (repetitions of one seed are not independent
 *   draws of the seed-to-seed spread); one seed decides only with a noise scale measured
 *   in a recorded multi-seed pilot;
 * - `reproduced` when the interval lies inside the tolerance, `not-reproduced` when it lies
 *   entirely outside, `inconclusive` when it straddles (with roughly how many seeds would
 *   decide it, from the observed spread), `not-run` only for a declared precondition;
 * - a timing claim measured while the machine was busier than its cores is inconclusive
 *   (machine busy), whatever the numbers say.
 *
 * Each record also says whether the verdict is the one claims.ts expects at this profile;
 * any difference, in either direction, fails the run. Nothing here knows about any paper.
 */
import { mean as meanOf, sampleStd, knownSdInterval95, tInterval95, tQuantile975, type Interval } from '../core/stats';
import type { Claim, Expectation, ExpectedVerdict, MetricValue, NotRun, Outcome, ProfileName, SeedResult, Verdict } from './contract';
import type { ClaimRecord, Measured } from './files';

export type { ClaimRecord, Measured } from './files';

/** What the verdict needs to know about the run besides the results. */
export interface JudgeContext {
  profile: ProfileName;
  /** --set overrides were applied to this paper: a 'config' not-run is then declared, not a defect. */
  overridden?: boolean;
  /** Cores of the machine, and per seed the highest 1-minute load seen around its timed sections. */
  machine?: { cores: number; timedLoad: Record<number, number | null> };
}

export function formatExpectation(e: Expectation): string {
  const parts: string[] = [];
  if (e.atLeast !== undefined) parts.push(`>= ${e.atLeast}`);
  if (e.atMost !== undefined) parts.push(`<= ${e.atMost}`);
  return parts.join(' and ') || 'any';
}

/** The inverse of formatExpectation: '>= 1 and <= 2' -> { atLeast: 1, atMost: 2 } (as claims.json records a tolerance). */
export function parseExpectation(text: string): Expectation {
  const e: Expectation = {};
  for (const m of text.matchAll(/(>=|<=)\s*(-?[0-9.]+(?:e[-+]?[0-9]+)?)/gi)) {
    if (m[1] === '>=') e.atLeast = Number(m[2]);
    else e.atMost = Number(m[2]);
  }
  return e;
}

export function meetsExpectation(value: number, e: Expectation): boolean {
  if (!Number.isFinite(value)) return false;
  if (e.atLeast !== undefined && !(value >= e.atLeast)) return false;
  if (e.atMost !== undefined && !(value <= e.atMost)) return false;
  return true;
}

/** Where an interval lies against a tolerance: entirely inside, entirely outside, or across a boundary. */
export function placeInterval(iv: Interval, e: Expectation): 'inside' | 'outside' | 'straddles' {
  if (meetsExpectation(iv.lo, e) && meetsExpectation(iv.hi, e)) return 'inside';
  if ((e.atLeast !== undefined && iv.hi < e.atLeast) || (e.atMost !== undefined && iv.lo > e.atMost)) return 'outside';
  return 'straddles';
}

/**
 * Seeds (or repetitions) a t-interval needs before it clears the nearest tolerance boundary,
 * if the mean and spread stayed as observed; null when the mean sits on a boundary (no
 * number decides it). Capped at 1000.
 */
export function samplesToDecide(mean: number, sd: number, e: Expectation): number | null {
  const d = Math.min(...[e.atLeast, e.atMost].filter((b): b is number => b !== undefined).map((b) => Math.abs(mean - b)));
  if (!(d > 0)) return null;
  if (!(sd > 0)) return 2;
  for (let n = 2; n <= 1000; n++) if ((tQuantile975(n - 1) * sd) / Math.sqrt(n) < d) return n;
  return 1000;
}

function isNotRun(v: MetricValue): v is NotRun {
  return typeof v === 'object' && 'notRun' in v;
}

function isOutcome(v: MetricValue): v is Outcome {
  return typeof v === 'object' && 'outcome' in v;
}

const REPRODUCED: { verdict: 'reproduced' } = { verdict: 'reproduced' };

/** The verdict claims.ts expects at this profile ('reproduced' unless it says otherwise). */
export function expectedAt<R>(claim: Claim<R>, profile: ProfileName): { verdict: Verdict; reason?: string; evidence?: string; hypothesis?: true } {
  const e: ExpectedVerdict | undefined = claim.expected?.[profile];
  return e ?? REPRODUCED;
}

export function evaluateClaim<R>(claim: Claim<R>, results: SeedResult<R>[], ctx: JudgeContext): ClaimRecord {
  const { profile } = ctx;
  const expected = expectedAt(claim, profile);
  const base = {
    id: claim.id,
    kind: claim.kind,
    paper: claim.paper,
    statement: claim.statement,
    source: claim.source,
    paperValue: claim.paperValue,
    measures: claim.measures,
    falsifiedBy: claim.falsifiedBy,
    tolerance: formatExpectation(claim.expect),
    toleranceWhy: claim.toleranceWhy,
    profile,
    expected,
  };
  // A timing interval's width is the noise of the machine it ran on, which no code change
  // controls: a timing claim moving between a definite verdict and inconclusive (either way)
  // is shown, but does not fail the run. reproduced <-> not-reproduced still does.
  const timingNoise = (verdict: Verdict) => !!claim.timing && verdict !== expected.verdict && verdict !== 'not-run' && (verdict === 'inconclusive' || expected.verdict === 'inconclusive');
  const done = (verdict: Verdict, measured: Measured | null, reason: string | undefined, extra: { asExpected?: boolean; seedsNeeded?: number | null; busy?: boolean } = {}): ClaimRecord => ({
    ...base,
    measured,
    verdict,
    ...(reason !== undefined ? { reason } : {}),
    ...(extra.seedsNeeded !== undefined ? { seedsNeeded: extra.seedsNeeded } : {}),
    ...(extra.busy ? { busy: true } : {}),
    asExpected: extra.asExpected ?? (verdict === expected.verdict || timingNoise(verdict)),
  });

  if (!claim.profiles.includes(profile)) return done('not-run', null, `judged only at profile ${claim.profiles.join('/')}`, { asExpected: true });
  if (results.length === 0) return done('not-run', null, 'no result', { asExpected: false });

  const perSeed: { seed: number; value: number }[] = [];
  const outcomes: { seed: number; o: Outcome }[] = [];
  for (const { seed, result } of results) {
    let v: MetricValue;
    try {
      v = claim.metric(result);
    } catch (e) {
      return done('not-run', null, `the metric failed on seed ${seed}: ${(e as Error).message.split('\n')[0]}`, { asExpected: false });
    }
    if (isNotRun(v)) {
      const declared = v.precondition !== 'config' || ctx.overridden === true;
      const why = declared ? v.notRun : `${v.notRun} (with the committed ${profile} config: a defect of the claim or config, not a precondition)`;
      return done('not-run', null, why, { asExpected: declared });
    }
    if (isOutcome(v)) outcomes.push({ seed, o: v });
    else perSeed.push({ seed, value: v });
  }
  const nonFinite = perSeed.find((p) => !Number.isFinite(p.value));
  // JSON has no NaN or Infinity: keep such a value out of claims.json and say so.
  if (nonFinite) return done('not-reproduced', null, `the metric is not a finite number on seed ${nonFinite.seed} (${nonFinite.value})`);

  const values = perSeed.map((p) => p.value);
  const m = values.length > 0 ? meanOf(values) : NaN;
  const sd = values.length > 1 ? sampleStd(values) : 0;
  const failed = outcomes.find((x) => x.o.outcome === 'not-reproduced');
  const unsure = outcomes.find((x) => x.o.outcome === 'inconclusive');
  const partial: Measured | null = values.length > 0 ? { mean: m, std: sd, n: values.length, perSeed, interval: null, intervalFrom: null } : null;
  if (failed) return done('not-reproduced', partial, `seed ${failed.seed}: ${failed.o.reason}`);
  if (unsure) return done('inconclusive', partial, `seed ${unsure.seed}: ${unsure.o.reason}`);

  // The interval: paired timed repetitions, seeds, or one seed with a recorded noise scale.
  let interval: Interval | null = null;
  let from: Measured['intervalFrom'] = null;
  let spread = sd;
  let unit = 'seeds';
  if (claim.timing) {
    // Repetitions within a seed share that seed's model and data (and any per-seed factor of
    // the metric), so with several seeds the unit is the seed: the interval is taken over
    // the per-seed means of the paired repetitions. One seed: over its repetitions.
    const reps = results.map((r) => claim.timing!.reps(r.result)).filter((x) => x.length > 0 && x.every(Number.isFinite));
    if (reps.length >= 2) {
      const means = reps.map(meanOf);
      interval = tInterval95(means);
      from = 'seeds';
      spread = sampleStd(means);
    } else if (reps.length === 1 && reps[0].length >= 2) {
      interval = tInterval95(reps[0]);
      from = 'repetitions';
      spread = sampleStd(reps[0]);
      unit = 'timed repetitions';
    }
  } else if (values.length >= 2) {
    interval = tInterval95(values);
    from = 'seeds';
  } else if (claim.noise) {
    interval = knownSdInterval95(m, claim.noise.sd, values.length);
    from = 'noise';
  }
  const measured: Measured = { mean: m, std: sd, n: values.length, perSeed, interval, intervalFrom: from };

  if (claim.timing && ctx.machine) {
    const loads = results.map((r) => ctx.machine!.timedLoad[r.seed]).filter((l): l is number => typeof l === 'number');
    const peak = loads.length ? Math.max(...loads) : null;
    if (peak !== null && peak > ctx.machine.cores) {
      return done('inconclusive', measured, `machine busy: load ${peak.toFixed(2)} on ${ctx.machine.cores} cores while timing`, { busy: true, asExpected: true });
    }
  }
  if (!interval) {
    return done('inconclusive', measured, 'one seed and no noise scale recorded for this claim: run at least 3 seeds (--seeds 1,2,3) to decide');
  }
  const place = placeInterval(interval, claim.expect);
  if (place === 'inside') return done('reproduced', measured, undefined);
  if (place === 'outside') return done('not-reproduced', measured, `the 95% interval [${fmt(interval.lo)}, ${fmt(interval.hi)}] lies outside the tolerance`);
  const need = samplesToDecide(m, spread, claim.expect);
  const hint = need === null ? 'the mean sits on the tolerance boundary: no number of ' + unit + ' decides it' : `about ${need} ${unit} would decide it at this spread`;
  return done('inconclusive', measured, `the 95% interval [${fmt(interval.lo)}, ${fmt(interval.hi)}] straddles the tolerance; ${hint}`, { seedsNeeded: need });
}

export function evaluateClaims<R>(claims: Claim<R>[], results: SeedResult<R>[], ctx: JudgeContext): ClaimRecord[] {
  return claims.map((c) => evaluateClaim(c, results, ctx));
}

/** Every claim of a paper that cannot run here (optional data, backend): not-run with the reason, as declared. */
export function notRunClaims<R>(claims: Claim<R>[], profile: ProfileName, reason: string): ClaimRecord[] {
  return evaluateClaims(claims, [], { profile }).map((c) => ({ ...c, verdict: 'not-run', reason, asExpected: true, measured: null }));
}

/** A claim record that fails the run (exit 1): its verdict is not the expected one. */
export function isUnexpected(r: ClaimRecord): boolean {
  return !r.asExpected;
}

/** "not-reproduced (expected)", "inconclusive (UNEXPECTED: expected reproduced)". */
export function verdictLabel(c: ClaimRecord): string {
  if (c.verdict === 'not-run') return `not-run${c.asExpected ? '' : ' (UNDECLARED)'}${c.reason ? ` (${c.reason})` : ''}`;
  if (!c.asExpected) return `${c.verdict} (UNEXPECTED: expected ${c.expected.verdict})`;
  if (c.busy) return `${c.verdict} (machine busy)`;
  // Only a timing claim moving to or from inconclusive is as expected with another verdict.
  if (c.verdict !== c.expected.verdict) return `${c.verdict} (timing; expected ${c.expected.verdict}: a move to or from inconclusive is tolerated)`;
  return c.verdict === 'reproduced' ? c.verdict : `${c.verdict} (expected)`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** Value as text, e.g. "3.21 [3.02, 3.40] (n=3)": the mean and its 95% interval. */
export function formatMeasured(m: Measured | null): string {
  if (!m) return '—';
  const iv = m.interval ? ` [${fmt(m.interval.lo)}, ${fmt(m.interval.hi)}]` : '';
  return `${fmt(m.mean)}${iv}${m.n > 1 ? ` (n=${m.n})` : ''}`;
}

export interface Headline {
  profile: ProfileName;
  paperClaims: number;
  reproduced: number;
  inconclusive: number;
  notReproduced: number;
  notRun: number;
  checks: number;
  checksPass: number;
}

/** Per profile: how many paper claims reproduced, were inconclusive or did not; how many checks pass. */
export function headlines(claims: ClaimRecord[]): Headline[] {
  const profiles = [...new Set(claims.map((c) => c.profile))];
  return profiles.map((profile) => {
    const mine = claims.filter((c) => c.profile === profile);
    const paper = mine.filter((c) => c.kind === 'paper');
    const checks = mine.filter((c) => c.kind === 'check' && c.verdict !== 'not-run');
    const count = (v: Verdict) => paper.filter((c) => c.verdict === v).length;
    return {
      profile,
      paperClaims: paper.length,
      reproduced: count('reproduced'),
      inconclusive: count('inconclusive'),
      notReproduced: count('not-reproduced'),
      notRun: count('not-run'),
      checks: checks.length,
      checksPass: checks.filter((c) => c.verdict === 'reproduced').length,
    };
  });
}

/** "12 of 30 paper claims reproduced, 5 inconclusive, 13 not reproduced at profile quick; 9 of 9 checks pass". */
export function formatHeadline(h: Headline): string {
  const notRun = h.notRun ? `, ${h.notRun} not run` : '';
  return `${h.reproduced} of ${h.paperClaims} paper claims reproduced, ${h.inconclusive} inconclusive, ${h.notReproduced} not reproduced${notRun} at profile ${h.profile}; ${h.checksPass} of ${h.checks} checks pass`;
}

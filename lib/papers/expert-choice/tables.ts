/** Expert-choice result tables: per seed and router, final losses and load statistics; the uniform-routing null; the speed-up's trends. */
import type { ResultTable, SeedResult, TableCell } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { ExpertChoiceConfig } from './config';
import type { ExpertChoiceResult, RouterRun, TokenChoiceNull } from './experiment';
import { BASELINES, ROUTER_LABEL, speedupByExperts, speedupBySteps } from './figures';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const perSeed = (v: (number | null)[], digits = 3) => v.map((x) => (x === null ? '—' : x.toFixed(digits))).join(' / ');

export function tables(results: SeedResult<ExpertChoiceResult>[], config: ExpertChoiceConfig): ResultTable[] {
  if (results.length === 0) return [];
  const out: ResultTable[] = [
    {
      name: 'ec-routers',
      title: `Routers after ${config.steps} steps, ${config.experts} experts`,
      columns: ['seed', 'router', 'final val loss', 'val loss, prefix-safe routing', 'mean max/mean requested load', 'mean dropped assignments', 'tokens with no expert'],
      rows: results.flatMap((s) =>
        Object.values(s.result.runs).map((r) => [
          s.seed,
          ROUTER_LABEL[r.router],
          r.valLoss[r.valLoss.length - 1],
          r.thresholdValLoss,
          mean(r.load.demandMaxOverMean),
          mean(r.load.dropped),
          pct(r.expertsPerToken[0]),
        ]),
      ),
      note: "load and drops are means over the logged steps; '—': routing over whole groups only (token choice)",
    },
  ];

  // The learned routers against uniform random routing of the same tokens.
  const nullRows: TableCell[][] = [];
  const tokenChoice = (router: 'top1' | 'top2', what: string, learned: (r: RouterRun) => number, key: keyof TokenChoiceNull) => {
    const runs = results.map((s) => s.result.runs[router]);
    if (runs.some((r) => r === undefined)) return;
    const l = runs.map((r) => learned(r as RouterRun));
    const n = results.map((s) => s.result.uniformNull[router][key]);
    nullRows.push([`${ROUTER_LABEL[router]}: ${what}`, mean(l), mean(n.map((x) => x.mean)), mean(n.map((x) => x.p95)), perSeed(l.map((v, i) => v / n[i].p95))]);
  };
  tokenChoice('top1', 'max/mean requested load', (r) => mean(r.load.demandMaxOverMean), 'demandMaxOverMean');
  tokenChoice('top1', 'assignments dropped', (r) => mean(r.load.dropped), 'dropped');
  tokenChoice('top2', 'max/mean requested load', (r) => mean(r.load.demandMaxOverMean), 'demandMaxOverMean');
  tokenChoice('top2', 'assignments dropped', (r) => mean(r.load.dropped), 'dropped');
  tokenChoice('top2', 'tokens with no expert', (r) => mean(r.load.noExpert), 'noExpert');
  const ec = results.map((s) => s.result.runs['expert-choice']);
  if (ec.every((r): r is RouterRun => r !== undefined)) {
    const h = results[0].result.uniformNull.expertChoiceHistogram;
    const atLeast3 = (x: number[]) => x.slice(3).reduce((a, b) => a + b, 0);
    nullRows.push([`${ROUTER_LABEL['expert-choice']}: tokens with no expert (last ${Math.round(100 * config.tailFraction)}% of steps)`, mean(ec.map((r) => r.expertsPerToken[0])), h[0], null, perSeed(ec.map((r) => r.expertsPerToken[0] / h[0]))]);
    nullRows.push([`${ROUTER_LABEL['expert-choice']}: tokens with >= 3 experts`, mean(ec.map((r) => atLeast3(r.expertsPerToken))), atLeast3(h), null, perSeed(ec.map((r) => atLeast3(r.expertsPerToken) / atLeast3(h)))]);
  }
  out.push({
    name: 'ec-uniform-null',
    title: 'Learned routers against uniform random routing of the same tokens (same tokens per step, groups, experts, capacity and MoE layers)',
    columns: ['statistic', 'learned (mean over training and seeds)', 'uniform null: mean', 'uniform null: per-step 95th percentile', 'learned / null (per seed)'],
    rows: nullRows,
    note: `token choice: the null is simulated (${results[0].result.uniformNull.steps} steps per seed, seeded), per-seed ratio over its 95th percentile (the claims' metric); expert choice: the null is exact, Binomial(E, C/G) experts per token, per-seed ratio over its value; seeds ${results.map((s) => s.seed).join(', ')}`,
  });

  // The speed-up's trend with training length (every evaluation) and with the number of experts (config.expertsSweep).
  const curves = BASELINES.map((b) => ({ b, c: speedupBySteps(results, b) }));
  const steps = curves.find((x) => x.c !== null)?.c?.steps ?? [];
  if (steps.length > 0)
    out.push({
      name: 'ec-speedup-by-steps',
      title: "Expert choice's convergence speed-up vs training length: (baseline steps) / (steps EC needed to reach the baseline's validation loss there)",
      columns: ['baseline step', ...curves.flatMap(({ b }) => [`over ${b}: mean`, `over ${b}: per seed`])],
      rows: steps.map((step, i) => [
        step,
        ...curves.flatMap(({ c }) => {
          if (!c) return [null, '—'];
          const v = c.perSeed.map((p) => p[i]);
          return [mean(v), v.map((x, k) => (c.reached[k][i] ? x.toFixed(2) : 'never (1)')).join(' / ')];
        }),
      ]),
      note: "'never (1)': EC never reached the baseline's loss at that point within its run, counted as 1 (an upper bound), as in the claims, which judge the last row",
    });
  const byExperts = speedupByExperts(results, config);
  if (byExperts.length > 1)
    out.push({
      name: 'ec-speedup-by-experts',
      title: 'Expert choice over top-2: convergence speed-up at the end of training vs the number of experts',
      columns: ['experts', 'mean', 'per seed'],
      rows: byExperts.map((p) => [p.experts, mean(p.perSeed), perSeed(p.perSeed, 2)]),
      note: `config.expertsSweep (${config.expertsSweep.join(', ')}) plus the main run (${config.experts}); everything else equal`,
    });
  return out;
}

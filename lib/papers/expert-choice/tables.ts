/** Expert-choice result table: per seed and router, final losses and load statistics. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import { mean } from '../../core/stats';
import type { ExpertChoiceConfig } from './config';
import type { ExpertChoiceResult } from './experiment';
import { ROUTER_LABEL } from './figures';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function tables(results: SeedResult<ExpertChoiceResult>[], config: ExpertChoiceConfig): ResultTable[] {
  if (results.length === 0) return [];
  return [
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
}

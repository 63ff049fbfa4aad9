/** LocoProp result table: per method, the selected run's final loss, learning rate, time and memory. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import type { LocopropConfig } from './config';
import type { LocopropResult } from './experiment';
import { epochTimeRows, memoryRows, METHOD_LABEL } from './figures';

export function tables(results: SeedResult<LocopropResult>[], _config: LocopropConfig): ResultTable[] {
  if (results.length === 0) return [];
  const { seed, result: first } = results[0];
  const times = epochTimeRows(results);
  const mems = memoryRows(results);
  const rows = Object.entries(first.selected).map(([method, i]) => {
    const r = first.runs[i as number];
    const label = METHOD_LABEL[method as keyof typeof METHOD_LABEL];
    return [label, r.loss[r.loss.length - 1], r.lrMultiplier, times.find((x) => x.method === label)?.value ?? null, mems.find((x) => x.method === label)?.value ?? null];
  });
  return [
    {
      name: 'locoprop-methods',
      title: 'Methods: the run each is represented by (lowest final loss over its learning-rate grid)',
      columns: ['method', `final train loss (seed ${seed})`, 'lr multiplier', 's / epoch (mean over seeds)', 'params + optimiser state, MB'],
      rows,
      note: "'—': the run diverged (loss) or the method was not run",
    },
  ];
}

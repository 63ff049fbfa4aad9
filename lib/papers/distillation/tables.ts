/** Distillation result tables: ranking quality per model, and the capacity study per teacher. */
import type { ResultTable, SeedResult } from '../../harness/contract';
import type { DistillationConfig } from './config';
import type { DistillationResult } from './experiment';

export function tables(results: SeedResult<DistillationResult>[], _config: DistillationConfig): ResultTable[] {
  if (results.length === 0) return [];
  const r0 = results[0].result;
  const ranking = results.flatMap(({ seed, result }) =>
    Object.entries(result.ranking.models).map(([name, m]) => {
      const gap = (result.ranking.gapClosedMrr as Record<string, number | null>)[name];
      return [seed, name, m.mrr, m.recallAt1, m.recallAt5, m.queryParams, gap === undefined ? '' : gap];
    }),
  );
  const capacity = results.flatMap(({ seed, result }) =>
    result.capacity.teachers.map((t) => [
      seed,
      t.width,
      t.params,
      t.accuracy,
      t.students.labels.accuracy,
      t.students.offline.accuracy,
      t.students.online.accuracy,
      t.students.offline.fidelity,
      t.students.online.fidelity,
    ]),
  );
  return [
    {
      name: 'distill-ranking',
      title: `Ranking on SOTU: ${r0.ranking.trainQueries} training queries x ${r0.ranking.trainCandidates} candidates, ${r0.ranking.testQueries} test queries x ${r0.ranking.evalCandidates}`,
      columns: ['seed', 'model', 'MRR', 'R@1', 'R@5', 'query params', 'share of the CE−DE gap closed (MRR)'],
      rows: ranking,
      note: "gap closed = (student − dual) / (cross − dual); '—': the cross-encoder does not beat the dual encoder",
    },
    {
      name: 'distill-capacity',
      title: `Teacher-student capacity gap on ${r0.capacity.dataset} (student ${r0.capacity.studentParams} params)`,
      columns: ['seed', 'teacher width', 'teacher params', 'teacher acc', 'student acc: labels', 'offline KD', 'online KD', 'fidelity: offline', 'fidelity: online'],
      rows: capacity,
      note: 'fidelity: top-1 agreement with the final teacher on the test set',
    },
  ];
}

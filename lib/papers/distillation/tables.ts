/** Distillation result tables: ranking quality per model, and the capacity study per teacher. */
import type { ResultTable, SeedResult, TableCell } from '../../harness/contract';
import { mean } from '../../core/stats';
import { RANKING_MODELS } from './ranking';
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
      Number((100 * (t.students.online.accuracy - t.students.offline.accuracy)).toFixed(2)),
    ]),
  );
  // Validation MRR after each epoch, per model: mean over the seeds that trained that epoch.
  const maxEpochs = Math.max(...results.flatMap((s) => RANKING_MODELS.map((m) => s.result.ranking.models[m].validationMrr.length)));
  const curve: TableCell[][] = RANKING_MODELS.map((m) => {
    const per = results.map((s) => s.result.ranking.models[m].validationMrr);
    const byEpoch = Array.from({ length: maxEpochs }, (_, e) => {
      const vals = per.filter((v) => v.length > e).map((v) => v[e]);
      return vals.length === 0 ? null : mean(vals);
    });
    const gains = per.filter((v) => v.length >= 2).map((v) => v[v.length - 1] - v[v.length - 2]);
    return [m, ...byEpoch, gains.length ? mean(gains) : null, per.map((v) => v.length).join(', ')];
  });
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
      columns: ['seed', 'teacher width', 'teacher params', 'teacher acc', 'student acc: labels', 'offline KD', 'online KD', 'fidelity: offline', 'fidelity: online', 'online − offline (pp)'],
      rows: capacity,
      note: 'every student of a seed starts from the same weights and sees the same batches (paired); the labels-only student does not depend on the teacher; fidelity: top-1 agreement with the final teacher on the test set',
    },
    {
      name: 'distill-validation-curve',
      title: `Validation MRR after each epoch (${r0.ranking.validationQueries} queries from the validation addresses x ${r0.ranking.evalCandidates} candidates), mean over ${results.length} seed(s)`,
      columns: ['model', ...Array.from({ length: maxEpochs }, (_, e) => `epoch ${e + 1}`), 'gain in the last epoch', 'epochs trained per seed'],
      rows: curve,
      note: "the check distill-de-converged reads the dual encoders' last-epoch gains; '—': no seed trained that epoch",
    },
  ];
}

/**
 * One seed of the distillation paper: the ranking gap (ranking.ts) then the capacity gap
 * (capacity.ts). A pure function of (config, ctx.seed); the result is plain JSON.
 */
import { DataError } from '../../core/errors';
import { isFashionMnistInstalled, loadFashionMnist, loadMnist, type ImageDataset } from '../../data/images';
import { QUERY_MODES } from '../../data/ranking-pairs';
import { loadSotu } from '../../data/text';
import type { RunContext } from '../../harness/contract';
import { runCapacity, type CapacityResult } from './capacity';
import type { DistillationConfig } from './config';
import { runRanking, type RankingResult } from './ranking';
import { configCheck } from '../../harness/validate';

export interface DistillationResult {
  ranking: RankingResult;
  capacity: CapacityResult;
}

/** Throws UsageError naming the first bad key. */
export function validateConfig(c: DistillationConfig): void {
  const r = c.ranking;
  configCheck('distillation', c)
    .integers(['vocabSize', 'queryLength', 'passageLength', 'trainQueries', 'validationQueries', 'testQueries', 'width', 'depth', 'heads', 'ffnHidden', 'embedDim', 'smallWidth', 'smallDepth', 'smallHeads', 'smallFfnHidden', 'epochs', 'batchSize'].map((key) => `ranking.${key}`))
    .integers(['minWords', 'patience', 'trainHardNegatives', 'trainRandomNegatives', 'evalHardNegatives', 'evalRandomNegatives'].map((key) => `ranking.${key}`), { min: 0 })
    .integers(['ranking.vocabSize'], { min: 3 })
    .oneOf('ranking.query', QUERY_MODES)
    .integers(['ranking.keywordsFromPassage'])
    .integers(['ranking.keywordsFromContext', 'ranking.stopWords'], { min: 0 })
    .require(r.stopWords + 2 < r.vocabSize, 'ranking.stopWords', `less than ranking.vocabSize - 2 = ${r.vocabSize - 2} (some words must be left to serve as keywords)`)
    .evenHeads('ranking.width', 'ranking.heads')
    .evenHeads('ranking.smallWidth', 'ranking.smallHeads')
    .require(r.trainHardNegatives + r.trainRandomNegatives >= 1, 'ranking.trainRandomNegatives', 'at least 1 when ranking.trainHardNegatives=0 (a training query needs a negative)')
    .require(r.evalHardNegatives + r.evalRandomNegatives >= 5, 'ranking.evalRandomNegatives', `at least ${5 - r.evalHardNegatives} so that evalHardNegatives + evalRandomNegatives >= 5 (recall@5 would be trivially 1)`)
    .require(r.batchSize <= r.trainQueries, 'ranking.batchSize', `at most ranking.trainQueries=${r.trainQueries}`)
    .numbers(['ranking.learningRate', 'ranking.temperature'])
    .numbers(['ranking.labelWeight', 'ranking.embedWeight'], { min: 0 })
    .oneOf('capacity.dataset', ['mnist', 'fashion-mnist', 'auto'])
    .integers(['trainExamples', 'testExamples', 'studentWidth', 'epochs', 'batchSize'].map((key) => `capacity.${key}`))
    .list('capacity.teacherWidths', { min: 1 }, { integer: true, increasing: true })
    .numbers(['capacity.learningRate', 'capacity.temperature']);
}

/** The image set the capacity study uses under this config. */
export function resolveImageDataset(c: DistillationConfig): 'mnist' | 'fashion-mnist' {
  if (c.capacity.dataset === 'auto') return isFashionMnistInstalled() ? 'fashion-mnist' : 'mnist';
  return c.capacity.dataset;
}

export function checkData(c: DistillationConfig): void {
  if (c.capacity.dataset === 'fashion-mnist' && !isFashionMnistInstalled()) {
    throw new DataError('distillation: capacity.dataset=fashion-mnist needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or use --set capacity.dataset=mnist');
  }
}

export async function run(config: DistillationConfig, ctx: RunContext): Promise<DistillationResult> {
  const ranking = await runRanking(config.ranking, loadSotu(), ctx);
  const images: ImageDataset = resolveImageDataset(config) === 'fashion-mnist' ? loadFashionMnist() : loadMnist();
  const capacity = await runCapacity(config.capacity, images, ctx);
  return { ranking, capacity };
}

/**
 * One seed of the distillation paper: the ranking gap (ranking.ts) then the capacity gap
 * (capacity.ts). A pure function of (config, ctx.seed); the result is plain JSON.
 */
import { DataError, UsageError } from '../../core/errors';
import { isFashionMnistInstalled, loadFashionMnist, loadMnist, type ImageDataset } from '../../data/images';
import { loadSotu } from '../../data/text';
import type { RunContext } from '../../harness/contract';
import { runCapacity, type CapacityResult } from './capacity';
import type { DistillationConfig } from './config';
import { runRanking, type RankingResult } from './ranking';

export interface DistillationResult {
  ranking: RankingResult;
  capacity: CapacityResult;
}

function positiveInt(key: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new UsageError(`distillation: ${key}=${v} must be an integer >= ${min}`);
}

/** Throws UsageError naming the first bad key. */
export function validateConfig(c: DistillationConfig): void {
  const r = c.ranking;
  for (const key of ['vocabSize', 'queryLength', 'passageLength', 'trainQueries', 'testQueries', 'width', 'depth', 'heads', 'ffnHidden', 'embedDim', 'smallWidth', 'smallDepth', 'smallHeads', 'smallFfnHidden', 'epochs', 'batchSize'] as const) {
    positiveInt(`ranking.${key}`, r[key]);
  }
  for (const key of ['minWords', 'trainHardNegatives', 'trainRandomNegatives', 'evalHardNegatives', 'evalRandomNegatives'] as const) positiveInt(`ranking.${key}`, r[key], 0);
  if (r.vocabSize < 3) throw new UsageError(`distillation: ranking.vocabSize=${r.vocabSize} must be >= 3`);
  if (r.width % r.heads !== 0 || (r.width / r.heads) % 2 !== 0) throw new UsageError(`distillation: ranking.width=${r.width} must split into ranking.heads=${r.heads} heads of even size (RoPE)`);
  if (r.smallWidth % r.smallHeads !== 0 || (r.smallWidth / r.smallHeads) % 2 !== 0) {
    throw new UsageError(`distillation: ranking.smallWidth=${r.smallWidth} must split into ranking.smallHeads=${r.smallHeads} heads of even size (RoPE)`);
  }
  if (r.trainHardNegatives + r.trainRandomNegatives < 1) throw new UsageError('distillation: ranking needs at least one training negative (trainHardNegatives + trainRandomNegatives >= 1)');
  if (r.evalHardNegatives + r.evalRandomNegatives < 5) throw new UsageError('distillation: ranking.evalHardNegatives + evalRandomNegatives must be >= 5 (recall@5 would be trivially 1)');
  if (r.batchSize > r.trainQueries) throw new UsageError(`distillation: ranking.batchSize=${r.batchSize} exceeds ranking.trainQueries=${r.trainQueries}`);
  for (const key of ['learningRate', 'temperature'] as const) if (!(r[key] > 0)) throw new UsageError(`distillation: ranking.${key}=${r[key]} must be > 0`);
  for (const key of ['labelWeight', 'embedWeight'] as const) if (!(r[key] >= 0)) throw new UsageError(`distillation: ranking.${key}=${r[key]} must be >= 0`);

  const k = c.capacity;
  if (!['mnist', 'fashion-mnist', 'auto'].includes(k.dataset)) throw new UsageError(`distillation: capacity.dataset='${k.dataset}'; valid: mnist, fashion-mnist or auto`);
  for (const key of ['trainExamples', 'testExamples', 'studentWidth', 'epochs', 'batchSize'] as const) positiveInt(`capacity.${key}`, k[key]);
  if (k.teacherWidths.length === 0) throw new UsageError('distillation: capacity.teacherWidths must list at least one width');
  k.teacherWidths.forEach((w, i) => {
    positiveInt(`capacity.teacherWidths[${i}]`, w);
    if (i > 0 && w <= k.teacherWidths[i - 1]) throw new UsageError(`distillation: capacity.teacherWidths=${k.teacherWidths.join(',')} must increase`);
  });
  for (const key of ['learningRate', 'temperature'] as const) if (!(k[key] > 0)) throw new UsageError(`distillation: capacity.${key}=${k[key]} must be > 0`);
}

/** The image set the capacity study uses under this config. */
export function resolveImageDataset(c: DistillationConfig): 'mnist' | 'fashion-mnist' {
  if (c.capacity.dataset === 'auto') return isFashionMnistInstalled() ? 'fashion-mnist' : 'mnist';
  return c.capacity.dataset;
}

export function checkData(c: DistillationConfig): void {
  validateConfig(c);
  if (c.capacity.dataset === 'fashion-mnist' && !isFashionMnistInstalled()) {
    throw new DataError('distillation: capacity.dataset=fashion-mnist needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or use --set capacity.dataset=mnist');
  }
}

export async function run(config: DistillationConfig, ctx: RunContext): Promise<DistillationResult> {
  validateConfig(config);
  const ranking = await runRanking(config.ranking, loadSotu(), ctx);
  const images: ImageDataset = resolveImageDataset(config) === 'fashion-mnist' ? loadFashionMnist() : loadMnist();
  const capacity = await runCapacity(config.capacity, images, ctx);
  return { ranking, capacity };
}

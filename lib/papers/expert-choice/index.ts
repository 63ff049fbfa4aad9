/** The expert-choice paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type ExpertChoiceConfig } from './config';
import { run, validateConfig, type ExpertChoiceResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { ExpertChoiceConfig } from './config';
export type { ExpertChoiceResult } from './experiment';

export const expertChoice: PaperDefinition<ExpertChoiceConfig, ExpertChoiceResult> = {
  id: 'expert-choice',
  title: 'Mixture-of-Experts with Expert Choice routing vs token-choice top-1 / top-2',
  references: ['Zhou, Lei, Liu, Du, Huang, Zhao, Dai, Chen, Le, Laudon. Mixture-of-Experts with Expert Choice Routing. NeurIPS 2022. arXiv:2202.09368'],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
};

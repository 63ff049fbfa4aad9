/** The RER paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type RerConfig } from './config';
import { run, validateConfig, type RerResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { RerConfig } from './config';
export type { RerResult } from './experiment';

export const rer: PaperDefinition<RerConfig, RerResult> = {
  id: 'rer',
  title: 'Reverse experience replay: streaming linear system identification (SGD-RER) and Q-Rex',
  references: [
    'Jain, Kowshik, Nagaraj, Netrapalli. Streaming Linear System Identification with Reverse Experience Replay. NeurIPS 2021. arXiv:2103.05896',
    'Agarwal, Chaudhuri, Jain, Nagaraj, Netrapalli. Online Target Q-learning with Reverse Experience Replay: Efficiently finding the Optimal Policy for Linear MDPs. ICLR 2022. arXiv:2110.08440',
  ],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
};

/** The LocoProp paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type LocopropConfig } from './config';
import { run, validateConfig, type LocopropResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { LocopropConfig } from './config';
export type { LocopropResult } from './experiment';

export const locoprop: PaperDefinition<LocopropConfig, LocopropResult> = {
  id: 'locoprop',
  title: 'LocoProp: local losses (S, M) vs back-propagation (RMSprop, Adam) and Shampoo on the deep MNIST autoencoder',
  references: [
    'Amid, Anil, Warmuth. LocoProp: Enhancing BackProp via Local Loss Optimization. AISTATS 2022 (PMLR 151:9626-9642). arXiv:2106.06199',
    'Reference code: google-research/google-research, locoprop/locoprop_training.ipynb',
    'Gupta, Koren, Singer. Shampoo: Preconditioned Stochastic Tensor Optimization. ICML 2018. arXiv:1802.09568; Anil et al. Scalable Second Order Optimization for Deep Learning. arXiv:2002.09018',
  ],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
};

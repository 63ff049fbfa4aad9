/** The MRL paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type MatryoshkaConfig } from './config';
import { run, unavailableReason, validateConfig, type MatryoshkaResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { MatryoshkaConfig } from './config';
export type { MatryoshkaResult } from './experiment';

export const matryoshka: PaperDefinition<MatryoshkaConfig, MatryoshkaResult> = {
  id: 'matryoshka',
  title: 'Matryoshka Representation Learning: nested embeddings, adaptive classification and funnel retrieval',
  references: [
    'Kusupati, Bhatt, Rege, Wallingford, Sinha, Ramanujan, Howard-Snyder, Chen, Kakade, Jain, Farhadi. Matryoshka Representation Learning. NeurIPS 2022. arXiv:2205.13147 (code and result CSVs: github.com/RAIVNLab/MRL)',
  ],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
  unavailable: unavailableReason,
};

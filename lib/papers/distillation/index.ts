/** The distillation-gaps paper definition: what the CLI and the notebooks need to run and judge it. */
import type { PaperDefinition } from '../../harness/contract';
import { claims } from './claims';
import { DEFAULT_SEEDS, PROFILES, type DistillationConfig } from './config';
import { checkData, run, validateConfig, type DistillationResult } from './experiment';
import { figures } from './figures';
import { tables } from './tables';

export type { DistillationConfig } from './config';
export type { DistillationResult } from './experiment';

export const distillation: PaperDefinition<DistillationConfig, DistillationResult> = {
  id: 'distillation',
  title: 'The distillation gaps: cross- vs dual-encoder ranking (score and embedding distillation) and the teacher-student capacity gap (online distillation, fidelity)',
  references: [
    'Menon, Jayasumana, Rawat, Kim, Reddi, Kumar. In defense of dual-encoders for neural ranking. ICML 2022.',
    'Kim, Rawat, Zaheer, Jayasumana, Sadhanala, Jitkrittum, Menon, Fergus, Kumar. EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval. 2023. arXiv:2301.12005',
    'Harutyunyan, Rawat, Menon, Kim, Kumar. Supervision Complexity and its Role in Knowledge Distillation. ICLR 2023. arXiv:2301.12245',
    'Stanton, Izmailov, Kirichenko, Alemi, Wilson. Does Knowledge Distillation Really Work? NeurIPS 2021. arXiv:2106.05945',
  ],
  profiles: PROFILES,
  defaultSeeds: DEFAULT_SEEDS,
  validate: validateConfig,
  run,
  claims,
  figures,
  tables,
  checkData,
};

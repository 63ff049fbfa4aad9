/**
 * Every paper the suite reproduces, in the order the CLI runs them.
 * Adding a paper = a folder lib/papers/<id>/ exporting a PaperDefinition + one line here.
 */
import { listChoices, UsageError } from '../core/errors';
import { rer } from './rer/index';
import { flash } from './flash/index';
import { expertChoice } from './expert-choice/index';
import { calm } from './calm/index';
import { matryoshka } from './matryoshka/index';
import { locoprop } from './locoprop/index';
import { distillation } from './distillation/index';
import type { PaperDefinition, ProfileName } from '../harness/contract';

// Each paper has its own config and result types; the registry only needs the common shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPaper = PaperDefinition<any, any>;

export const PAPERS: readonly AnyPaper[] = [rer, flash, expertChoice, calm, matryoshka, locoprop, distillation];

/**
 * Seconds one seed takes, per profile, measured with the wasm backend on the 2-core CI
 * machine (a paper's own `expectedSeconds` wins). Used only to start the most expensive
 * jobs first and to weight the ETA (reproduce/costs.ts); an earlier run in --out is
 * better evidence still. `full`: CPU seconds per seed of the reference full runs
 * (results/reference/full/<paper>/run.json), scaled where the config grew since.
 */
const EXPECTED_SECONDS: Record<string, Partial<Record<ProfileName, number>>> = {
  rer: { smoke: 2, quick: 10, full: 32 },
  flash: { smoke: 2, quick: 143, full: 550 },
  'expert-choice': { smoke: 2, quick: 106, full: 700 },
  calm: { smoke: 4.5, quick: 161, full: 950 },
  matryoshka: { smoke: 3, quick: 75, full: 350 },
  locoprop: { smoke: 2.5, quick: 145, full: 1710 },
  distillation: { smoke: 2.5, quick: 203, full: 300 },
};

/** Expected seconds per seed of `paper` at `profile`, or undefined when unknown. */
export function expectedSecondsOf(paper: AnyPaper, profile: ProfileName): number | undefined {
  return paper.expectedSeconds?.[profile] ?? EXPECTED_SECONDS[paper.id]?.[profile];
}

export function paperIds(papers: readonly AnyPaper[] = PAPERS): string[] {
  return papers.map((p) => p.id);
}

export function getPaper(id: string, papers: readonly AnyPaper[] = PAPERS): AnyPaper {
  const p = papers.find((x) => x.id === id);
  if (!p) throw new UsageError(`unknown paper '${id}'; valid papers: ${listChoices(paperIds(papers))}`);
  return p;
}

/**
 * Every paper the suite reproduces, in the order the CLI runs them.
 * Adding a paper = a folder lib/papers/<id>/ exporting a PaperDefinition + one line here.
 */
import { listChoices, UsageError } from '../core/errors';
import { rer } from './rer';
import { flash } from './flash';
import { expertChoice } from './expert-choice';
import { calm } from './calm';
import { matryoshka } from './matryoshka';
import { locoprop } from './locoprop';
import { distillation } from './distillation';
import type { PaperDefinition } from '../harness/contract';

// Each paper has its own config and result types; the registry only needs the common shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPaper = PaperDefinition<any, any>;

export const PAPERS: readonly AnyPaper[] = [rer, flash, expertChoice, calm, matryoshka, locoprop, distillation];

export function paperIds(papers: readonly AnyPaper[] = PAPERS): string[] {
  return papers.map((p) => p.id);
}

export function getPaper(id: string, papers: readonly AnyPaper[] = PAPERS): AnyPaper {
  const p = papers.find((x) => x.id === id);
  if (!p) throw new UsageError(`unknown paper '${id}'; valid papers: ${listChoices(paperIds(papers))}`);
  return p;
}

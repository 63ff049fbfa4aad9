/**
 * The explore section of a notebook: run the paper (usually at smoke) for several values
 * of one config knob, through the same session as the notebook's main run, and plot a
 * metric against the knob. Generic: the knob is a --set key, the metric a function of one
 * seed's result.
 */
import { spread } from '../core/stats';
import { lineChart } from '../figures/charts';
import { renderFigures, type RenderedFigure } from '../figures/render';
import type { PaperDefinition } from '../harness/contract';
import { openPaper } from './session';

export interface ExploreOptions<R> {
  /** The config key to turn (a --set key, e.g. 'experts'). */
  knob: string;
  values: (number | string)[];
  /** What to plot: one number per seed's result, per series name. */
  metrics: Record<string, (result: R) => number>;
  profile?: string;
  seeds?: number[] | null;
  /** Other overrides kept fixed while the knob turns. */
  overrides?: string[];
  results?: string;
  xTitle?: string;
  yTitle?: string;
  /** Log x axis (e.g. contexts, sizes). */
  logX?: boolean;
}

export interface ExploreResult {
  rows: { knob: number | string; series: string; mean: number; lo: number; hi: number }[];
  figure: RenderedFigure;
}

export async function explore<C extends object, R>(paper: PaperDefinition<C, R>, o: ExploreOptions<R>): Promise<ExploreResult> {
  const rows: ExploreResult['rows'] = [];
  for (const value of o.values) {
    const s = await openPaper(paper, { profile: o.profile ?? 'smoke', seeds: o.seeds ?? null, overrides: [...(o.overrides ?? []), `${o.knob}=${value}`], results: o.results, quiet: true });
    for (const [series, f] of Object.entries(o.metrics)) rows.push({ knob: value, series, ...spread(s.results.map((r) => f(r.result))) });
  }
  const numeric = rows.every((r) => typeof r.knob === 'number');
  const spec = lineChart({
    title: `${paper.id}: turning ${o.knob}`,
    rows,
    x: { field: 'knob', title: o.xTitle ?? o.knob, scale: numeric && o.logX ? 'log' : 'linear' },
    y: { field: 'mean', title: o.yTitle ?? 'value' },
    color: { field: 'series', order: Object.keys(o.metrics) },
    band: { lo: 'lo', hi: 'hi' },
  });
  const [figure] = renderFigures([{ name: `${paper.id}-explore-${o.knob.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`, title: `${paper.id}: ${Object.keys(o.metrics).join(', ')} vs ${o.knob}`, spec }], { paper: paper.id, explore: o.knob });
  return { rows, figure };
}

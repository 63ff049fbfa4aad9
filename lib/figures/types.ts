/**
 * Figures are pure functions of results that return Vega-Lite specs; rendering
 * happens once, out of process, in lib/figures/render.ts.
 * The type comes from 'vega-lite/build/index' (not 'vega-lite') because the tslab
 * kernel resolves modules the Node10 way, which ignores package "exports".
 */
import type { TopLevelSpec } from 'vega-lite/build/index';

export type VegaLiteSpec = TopLevelSpec;

export interface FigureDef {
  /** File stem: letters, digits and dashes. */
  name: string;
  /** One line for REPORT.md and the notebook. */
  title: string;
  spec: VegaLiteSpec;
}

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

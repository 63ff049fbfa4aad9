/**
 * "Does it move toward the paper's number with scale?" For every claim a reference run did
 * not reproduce at its largest committed profile, the measured value (mean and 95% interval
 * over seeds) at each committed profile (quick, full) against that profile's scale knob
 * (training steps, epochs, bytes), with the tolerance it is judged against. Read from the
 * reference runs committed under results/reference/<profile>/<paper>/, so a notebook shows
 * it without recomputing anything.
 */
import * as path from 'node:path';
import { repoRoot } from '../core/paths';
import { VEGA_LITE_SCHEMA, type VegaLiteSpec } from '../figures/types';
import { renderFigures, type RenderedFigure } from '../figures/render';
import type { ProfileName } from '../harness/contract';
import { parseExpectation } from '../harness/verdicts';
import { readReference } from '../report/reference-docs';
import { SCALE_KNOBS, type ScaleKnob } from './scale-knobs';

export interface ScaleTrendRow {
  claim: string;
  profile: ProfileName;
  knob: number;
  mean: number;
  lo: number;
  hi: number;
  verdict: string;
}

export interface ScaleTrend {
  /** Claims not reproduced at the largest committed profile, in claims.json order. */
  claims: string[];
  rows: ScaleTrendRow[];
  /** The tolerance bounds per claim (one or two). */
  bounds: { claim: string; bound: number }[];
  /** Absent when every claim reproduced (or nothing is committed). */
  figure?: RenderedFigure;
  /** One line: which profiles, and what the figure shows or why there is none. */
  summary: string;
}

/** `paper`: a paper id; `knob`: default its entry in SCALE_KNOBS. */
export function scaleTrend(paper: string, opts: { knob?: ScaleKnob; referenceDir?: string } = {}): ScaleTrend {
  const knob = opts.knob ?? SCALE_KNOBS[paper];
  if (!knob) throw new Error(`no scale knob for paper '${paper}' (known: ${Object.keys(SCALE_KNOBS).join(', ')})`);
  const referenceDir = opts.referenceDir ?? path.join(repoRoot(), 'results', 'reference');
  const refs = readReference(referenceDir, paper).filter((r) => r.profile !== 'smoke');
  if (refs.length === 0) return { claims: [], rows: [], bounds: [], summary: `No reference run of ${paper} is committed under ${referenceDir}.` };
  const largest = refs[refs.length - 1]; // readReference lists profiles in PROFILES order: smallest first
  const open = largest.claims.filter((c) => c.verdict !== 'reproduced' && c.verdict !== 'not-run');
  const profiles = refs.map((r) => r.profile).join(' and ');
  if (open.length === 0) return { claims: [], rows: [], bounds: [], summary: `Every ${paper} claim reproduced at ${largest.profile}: no scale trend to show.` };

  const rows: ScaleTrendRow[] = [];
  const bounds: ScaleTrend['bounds'] = [];
  for (const { id, tolerance } of open) {
    for (const r of refs) {
      const c = r.claims.find((x) => x.id === id);
      const m = c?.measured;
      if (!c || !m || typeof m.mean !== 'number' || !Number.isFinite(m.mean)) continue;
      const knobValue = knob.of(r.run.config as Record<string, unknown>, c);
      rows.push({ claim: id, profile: r.profile, knob: knobValue, mean: m.mean, lo: m.interval?.lo ?? m.mean, hi: m.interval?.hi ?? m.mean, verdict: c.verdict });
    }
    const e = parseExpectation(tolerance);
    for (const b of [e.atLeast, e.atMost]) if (b !== undefined) bounds.push({ claim: id, bound: b });
  }
  const spec = trendSpec(paper, knob.title, rows, bounds);
  const [figure] = renderFigures([{ name: `${paper}-scale-trend`, title: `${paper}: unreproduced claims vs ${knob.title}`, spec }], {
    paper,
    from: `results/reference (${profiles})`,
  });
  return {
    claims: open.map((c) => c.id),
    rows,
    bounds,
    figure,
    summary: `${open.length} ${paper} claim(s) not reproduced at ${largest.profile}; each panel: the mean and 95% interval over seeds at ${profiles} against ${knob.title}, the dashed line the tolerance it is judged against.`,
  };
}

/** One panel per claim (own y scale): interval bars and a line through the means, the tolerance as a dashed rule. */
function trendSpec(paper: string, knobTitle: string, rows: ScaleTrendRow[], bounds: ScaleTrend['bounds']): VegaLiteSpec {
  // Measurements and tolerance bounds in one table (a facet needs one): each layer skips the rows
  // that lack its field, since vega-lite drops invalid values of a continuous channel.
  const values = [...rows.map((r) => ({ ...r })), ...bounds.map((b) => ({ claim: b.claim, bound: b.bound }))];
  const knobs = [...new Set(rows.map((r) => r.knob))].sort((a, b) => a - b);
  // Log axis padded around the measured knobs (a log scale's default domain reaches far below them).
  const domain = [knobs[0] / 1.4, knobs[knobs.length - 1] * 1.4];
  const x = { field: 'knob', type: 'quantitative' as const, title: knobTitle, scale: { type: 'log' as const, domain, nice: false }, axis: { values: knobs } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${paper}: claims not reproduced at the largest profile, against ${knobTitle}`,
    data: { values },
    facet: { field: 'claim', type: 'nominal', title: null, header: { labelLimit: 360, labelFontWeight: 'bold' } },
    columns: 2,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 240,
      height: 160,
      layer: [
        { mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'measured' }, y2: { field: 'hi' } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: 'measured', scale: { zero: false } },
            tooltip: [
              { field: 'profile', type: 'nominal' },
              { field: 'knob', type: 'quantitative', title: knobTitle },
              { field: 'mean', type: 'quantitative', format: '.4~g' },
              { field: 'lo', type: 'quantitative', format: '.4~g' },
              { field: 'hi', type: 'quantitative', format: '.4~g' },
              { field: 'verdict', type: 'nominal' },
            ],
          },
        },
        // The profile beside each point, so the static figure says which run is which.
        { mark: { type: 'text', dx: 6, align: 'left', fontSize: 10 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, text: { field: 'profile' } } },
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#c0392b' }, encoding: { y: { field: 'bound', type: 'quantitative' } } },
      ],
    },
  };
}

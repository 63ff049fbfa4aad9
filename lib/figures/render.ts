/**
 * Figures to files a report can cite: Vega-Lite spec -> SVG + PNG, each stamped with
 * its provenance (ARCHITECTURE.md §4, §6).
 *
 * Rendering runs in ONE child Node process per call (lib/figures/render-figures.mjs):
 * vega/vega-lite 6 are ESM-only with top-level await and cannot be loaded inside the
 * tslab kernel (ARCHITECTURE.md §8), so the CLI and the notebooks both go through the child.
 * This module never imports vega; it only shapes specs and stamps the outputs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-fs';
import { UsageError } from '../core/errors';
import { escapeHtml } from '../core/html';
import { repoRoot } from '../core/paths';
import { VEGA_LITE_SCHEMA, type FigureDef, type VegaLiteSpec } from './types';
import { addPngText, readPngText } from './png-text';

export { readPngText };

/** A JSON object: commit, dirty, seeds, configHash, backend, device, command... */
export type Provenance = Record<string, unknown>;

export interface RenderedFigure {
  name: string;
  title: string;
  /** SVG text with the provenance in <metadata> and a one-line <desc>. */
  svg: string;
  /** PNG (2x the SVG's size) with a tEXt chunk 'provenance' holding the JSON. */
  png: Uint8Array;
  /** The spec exactly as rendered (defaults filled in), with usermeta.provenance. */
  spec: VegaLiteSpec;
}

export interface ExportedFigure {
  name: string;
  title: string;
  /** Paths relative to the export directory. */
  files: { vl: string; svg: string; png: string };
}

export const FIGURE_NAME = /^[a-z0-9][a-z0-9-]*$/;
export const PNG_PROVENANCE_KEY = 'provenance';
/** PNG pixels per SVG unit: a 480-wide plot gives a ~1070 px image, sharp in print. */
const PNG_SCALE = 2;

/**
 * House style, merged UNDER each spec's own config (the spec wins). The font must exist
 * where the PNG is rasterised (the renderer loads DejaVu Sans), or resvg drops the text;
 * Verdana/Arial are fallbacks for browsers showing the SVG.
 */
export const DEFAULT_CONFIG = {
  font: 'DejaVu Sans, Verdana, Arial, sans-serif',
  // A fixed width for a discrete x too (vega-lite's default is 20 px per category): every figure ~480x300.
  view: { continuousWidth: 480, continuousHeight: 300, discreteWidth: 480 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
};

export function renderScriptPath(): string {
  return process.env.REPRO_RENDER_SCRIPT ? path.resolve(process.env.REPRO_RENDER_SCRIPT) : path.join(repoRoot(), 'lib', 'figures', 'render-figures.mjs');
}

export function renderFigures(figs: FigureDef[], provenance: Provenance): RenderedFigure[] {
  checkNames(figs);
  if (figs.length === 0) return [];
  const specs = figs.map((f) => prepareSpec(f, provenance));
  const raw = runRenderer(figs.map((f, i) => ({ name: f.name, spec: specs[i] })));
  const provJson = asciiJson(provenance);
  return figs.map((f, i) => ({
    name: f.name,
    title: f.title,
    svg: stampSvg(raw[i].svg, f.title, provenance),
    png: addPngText(raw[i].png, PNG_PROVENANCE_KEY, provJson),
    spec: specs[i],
  }));
}

/** Writes <dir>/<name>.vl.json, .svg and .png (each atomically) for every figure. */
export function exportFigures(dir: string, figs: FigureDef[], provenance: Provenance): ExportedFigure[] {
  const rendered = renderFigures(figs, provenance);
  return rendered.map((r) => {
    const files = { vl: `${r.name}.vl.json`, svg: `${r.name}.svg`, png: `${r.name}.png` };
    writeJsonAtomic(path.join(dir, files.vl), r.spec);
    writeFileAtomic(path.join(dir, files.svg), r.svg);
    writeFileAtomic(path.join(dir, files.png), r.png);
    return { name: r.name, title: r.title, files };
  });
}

/** The provenance JSON stamped into an SVG by renderFigures, or undefined. */
export function readSvgProvenance(svg: string): Provenance | undefined {
  const m = /<metadata id="provenance"[^>]*>([\s\S]*?)<\/metadata>/.exec(svg);
  if (!m) return undefined;
  return JSON.parse(unescapeHtml(m[1])) as Provenance;
}

function checkNames(figs: FigureDef[]): void {
  const seen = new Set<string>();
  for (const f of figs) {
    if (typeof f.name !== 'string' || !FIGURE_NAME.test(f.name)) {
      throw new UsageError(`invalid figure name ${JSON.stringify(f.name)}: use lower-case letters, digits and dashes, starting with a letter or digit (e.g. 'loss-curve')`);
    }
    if (seen.has(f.name)) throw new UsageError(`duplicate figure name '${f.name}': each figure of one call needs its own file name`);
    seen.add(f.name);
  }
}

/** Fills in the house defaults so the .vl.json re-renders to the same figure anywhere. */
function prepareSpec(fig: FigureDef, provenance: Provenance): VegaLiteSpec {
  const spec = fig.spec as unknown as Record<string, unknown>;
  if (!isPlainObject(spec)) throw new UsageError(`figure '${fig.name}': the spec must be a Vega-Lite JSON object, got ${typeof spec}`);
  const out: Record<string, unknown> = { $schema: VEGA_LITE_SCHEMA };
  if (spec.title === undefined && fig.title) out.title = fig.title;
  Object.assign(out, spec);
  out.config = deepMerge(DEFAULT_CONFIG, isPlainObject(spec.config) ? spec.config : {});
  out.usermeta = { ...(isPlainObject(spec.usermeta) ? spec.usermeta : {}), provenance };
  // A JSON round trip drops undefined and functions, exactly as the .vl.json will.
  return JSON.parse(JSON.stringify(out)) as VegaLiteSpec;
}

interface RawFigure {
  svg: string;
  png: Uint8Array;
}

interface RendererAnswer {
  figures?: { name: string; svg: string; png: string }[];
  warnings?: string[];
  error?: { kind: string; figure?: string; message: string };
}

function runRenderer(jobs: { name: string; spec: VegaLiteSpec }[]): RawFigure[] {
  const script = renderScriptPath();
  if (!fs.existsSync(script)) {
    throw new UsageError(`figure renderer not found at ${script}: run from inside the repository (or set REPRO_ROOT), or point REPRO_RENDER_SCRIPT at render-figures.mjs`);
  }
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, [script], {
      input: JSON.stringify({ figures: jobs, pngScale: PNG_SCALE }),
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Dates in specs format the same on every machine.
      // REPRO_RENDER_CHILD tells a bundle (which is its own renderer) to render, not to run the CLI.
      env: { ...process.env, TZ: 'UTC', REPRO_RENDER_CHILD: '1' },
    });
  } catch (e) {
    const err = e as { status?: number | null; stderr?: string; message: string };
    const detail = (err.stderr ?? '').split('\n').find((l) => l.trim()) ?? err.message.split('\n')[0];
    throw new Error(`figure renderer failed (${script}, exit ${err.status ?? '?'}): ${detail}`);
  }
  let answer: RendererAnswer;
  try {
    answer = JSON.parse(stdout) as RendererAnswer;
  } catch {
    throw new Error(`figure renderer ${script} wrote no JSON answer: ${stdout.slice(0, 200)}`);
  }
  if (answer.error) {
    if (answer.error.kind === 'missing-package') throw new UsageError(answer.error.message);
    throw new Error(`figure '${answer.error.figure}': ${answer.error.message}`);
  }
  for (const w of answer.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  const figures = answer.figures ?? [];
  if (figures.length !== jobs.length || figures.some((f, i) => f.name !== jobs[i].name)) {
    throw new Error(`figure renderer ${script} answered for ${figures.length} of ${jobs.length} figures`);
  }
  return figures.map((f) => ({ svg: f.svg, png: new Uint8Array(Buffer.from(f.png, 'base64')) }));
}

/** Puts <title>, a one-line <desc> and the full JSON <metadata> right after the <svg> tag. */
function stampSvg(svg: string, title: string, provenance: Provenance): string {
  const open = /<svg\b[^>]*>/.exec(svg);
  if (!open) throw new Error('figure renderer returned no <svg> element');
  const at = open.index + open[0].length;
  const stamp =
    `<title>${escapeHtml(title)}</title>` +
    `<desc>${escapeHtml(provenanceLine(provenance))}</desc>` +
    `<metadata id="provenance" data-format="application/json">${escapeHtml(JSON.stringify(provenance))}</metadata>`;
  return svg.slice(0, at) + stamp + svg.slice(at);
}

/** "provenance: commit=abc123, dirty=false, seeds=1,2,3, ..." — the scalar fields only. */
export function provenanceLine(provenance: Provenance): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(provenance)) {
    const scalar = (x: unknown) => x === null || ['string', 'number', 'boolean'].includes(typeof x);
    if (scalar(v)) parts.push(`${k}=${String(v)}`);
    else if (Array.isArray(v) && v.every(scalar)) parts.push(`${k}=${v.map(String).join(',')}`);
  }
  return `provenance: ${parts.join(', ').replace(/\s+/g, ' ')} (full JSON in <metadata>)`;
}

/** JSON with every non-ASCII character escaped, so it fits a Latin-1 tEXt chunk unchanged. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function unescapeHtml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

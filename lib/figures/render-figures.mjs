#!/usr/bin/env node
/**
 * Out-of-process figure renderer: Vega-Lite spec -> SVG (vega, renderer 'none') -> PNG
 * (@resvg/resvg-js). Plain ESM JavaScript so `node` runs it as is.
 *
 * Why a child process: vega and vega-lite 6 are ESM-only with top-level await, which
 * the tslab kernel cannot load at all (ARCHITECTURE.md §8); lib/figures/render.ts pipes every
 * figure of one call through ONE run of this script (node + vega startup ~0.5 s).
 *
 * stdin:  {"figures": [{"name": "...", "spec": {...}}], "pngScale": 2}
 * stdout: {"figures": [{"name", "svg", "png" (base64)}], "warnings": ["figure 'x': ..."]}
 *         or {"error": {"kind": "spec" | "missing-package", "figure"?: "...", "message": "..."}}
 * Exit status is 0 whenever a JSON answer was written; anything else is a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function answer(value) {
  process.stdout.write(JSON.stringify(value));
}

// Literal import() calls (not a variable) so that a bundler can inline them.
async function load(name, importer) {
  try {
    return await importer();
  } catch (e) {
    if (e && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND')) {
      answer({ error: { kind: 'missing-package', message: `package '${name}' is not installed: run \`npm install\` in the repository (it is in package.json)` } });
      process.exit(0);
    }
    throw e;
  }
}

/**
 * Fonts: load DejaVu Sans files directly when we find them (fast, and the PNG does not
 * depend on whatever else is installed); otherwise fall back to the system's fonts.
 * Without any font resvg silently drops every text element, so we warn in that case.
 */
const FONT_DIRS = [
  process.env.REPRO_FONT_DIR,
  '/usr/share/fonts/truetype/dejavu',
  '/usr/share/fonts/TTF',
  '/usr/share/fonts/dejavu',
  '/usr/share/fonts/dejavu-sans-fonts',
  '/usr/local/share/fonts',
  '/Library/Fonts',
].filter(Boolean);
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'];

function fontOptions() {
  for (const dir of FONT_DIRS) {
    const files = FONT_FILES.map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
    if (files.length > 0) {
      return { options: { loadSystemFonts: false, fontFiles: files, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } };
    }
  }
  return {
    options: { loadSystemFonts: true },
    warning: 'DejaVu Sans not found (Debian: apt-get install fonts-dejavu-core, or set REPRO_FONT_DIR); PNG text uses system fonts and may be missing',
  };
}

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const vega = await load('vega', () => import('vega'));
  const vl = await load('vega-lite', () => import('vega-lite'));
  const resvg = await load('@resvg/resvg-js', () => import('@resvg/resvg-js'));
  const Resvg = resvg.Resvg ?? resvg.default.Resvg;
  const fonts = fontOptions();
  const warnings = fonts.warning ? [fonts.warning] : [];
  const pngScale = input.pngScale ?? 2;

  const figures = [];
  for (const { name, spec } of input.figures) {
    const messages = [];
    const errors = [];
    // vega logs dataflow errors instead of throwing them: collect and fail on them.
    const logger = vega.logger(vega.Warn, undefined, (_method, level, args) => {
      const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
      (level === 'ERROR' ? errors : messages).push(text);
    });
    let stage = 'vega-lite could not compile the spec';
    try {
      // Same input -> same bytes: clip/gradient ids restart per figure, and the
      // random number source of vega transforms (sample, jitter) is a fixed-seed LCG.
      vega.resetSVGDefIds();
      vega.setRandom(vega.randomLCG(20261101));
      const compiled = vl.compile(spec, { logger }).spec;
      stage = 'vega could not parse the compiled spec';
      const runtime = vega.parse(compiled);
      stage = 'vega could not render the spec';
      const view = new vega.View(runtime, { renderer: 'none', logger });
      const svg = await view.toSVG();
      view.finalize();
      if (errors.length) throw new Error(errors[0]);
      stage = 'resvg could not rasterise the SVG';
      const png = new Resvg(svg, { font: fonts.options, fitTo: { mode: 'zoom', value: pngScale }, logLevel: 'off' }).render().asPng();
      figures.push({ name, svg, png: Buffer.from(png).toString('base64') });
      for (const m of new Set(messages)) warnings.push(`figure '${name}': ${m}`);
    } catch (e) {
      const message = String(e && e.message ? e.message : e).split('\n')[0];
      answer({ error: { kind: 'spec', figure: name, message: `${stage}: ${message}` } });
      return;
    }
  }
  answer({ figures, warnings });
}

main().catch((e) => {
  process.stderr.write(`render-figures: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

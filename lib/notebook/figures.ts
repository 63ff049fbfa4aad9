/**
 * Figures in a notebook: the same Vega-Lite spec report.html embeds, rendered by
 * vega-embed in the output (hover for values, legend selection), with the static SVG as
 * the fallback and as a download for export and citation. Offline: the vega scripts are
 * put into the notebook's output once (vegaScriptsHtml), not fetched.
 */
import * as fs from 'node:fs';
import { escapeHtml } from '../core/html';
import type { RenderedFigure } from '../figures/render';
import { vegaScriptSources } from '../report/vega-assets';

let counter = 0;

/** The vega, vega-lite and vega-embed scripts, inline: display once before the figures. */
export function vegaScriptsHtml(): string {
  const src = vegaScriptSources();
  if ('missing' in src) return `<p><i>Static figures only: ${escapeHtml(src.missing)}.</i></p>`;
  // '</script' cannot appear inside an inline script; the builds do not contain it, but be sure.
  // The classic Notebook has require.js: a UMD build that sees an AMD `define` registers a
  // module instead of the global (vegaEmbed) the figures call, so hide `define` from it.
  const wrap = (code: string) => `(function (define) {\n${code}\n}).call(window);`;
  return src.files.map((f) => `<script>${wrap(fs.readFileSync(f, 'utf8')).replace(/<\/script/gi, '<\\/script')}</script>`).join('\n');
}

/** JSON safe inside <script>: '<' escaped so no '</script>' ends it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** One figure: title, interactive embed over a static fallback, and the SVG to download. */
export function figureHtml(fig: RenderedFigure): string {
  const id = `nbfig-${fig.name}-${++counter}`;
  const svgUri = `data:image/svg+xml;base64,${Buffer.from(fig.svg, 'utf8').toString('base64')}`;
  return [
    `<figure class="notebook-figure" data-figure="${escapeHtml(fig.name)}">`,
    `<figcaption><b>${escapeHtml(fig.title)}</b> <small>(<a download="${escapeHtml(fig.name)}.svg" href="${svgUri}">SVG</a>)</small></figcaption>`,
    `<div class="vega-figure" id="${id}"><img src="${svgUri}" alt="${escapeHtml(fig.title)}" style="max-width:100%"></div>`,
    `<script>(function () { var el = document.getElementById(${JSON.stringify(id)}); if (!el || typeof vegaEmbed === 'undefined') return;`,
    ` vegaEmbed(el, ${scriptJson(fig.spec)}, { renderer: 'svg', actions: false }).then(function () { el.setAttribute('data-embedded', 'true'); }, function (e) { el.setAttribute('data-embed-error', String(e)); }); })();</script>`,
    `</figure>`,
  ].join('\n');
}

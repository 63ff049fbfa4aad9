import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { figureHtml, vegaScriptsHtml } from '../../lib/notebook/figures';

/** The inline scripts of an HTML fragment, in order. */
function scripts(html: string): string[] {
  return Array.from(html.matchAll(/<script>([\s\S]*?)<\/script>/g), (m) => m[1]);
}

test('the inline vega scripts define vegaEmbed as a global even where require.js defines an AMD `define` (classic Notebook)', () => {
  const html = vegaScriptsHtml();
  const code = scripts(html);
  assert.ok(code.length >= 3, `vega, vega-lite and vega-embed inline (got ${code.length} scripts: ${html.slice(0, 120)})`);
  const amdModules: unknown[] = [];
  const define = Object.assign((...args: unknown[]) => amdModules.push(args), { amd: {} });
  const page = vm.createContext({ define, console, setTimeout, clearTimeout, structuredClone, URL, TextEncoder, TextDecoder, setInterval, clearInterval, queueMicrotask, performance, fetch });
  vm.runInContext('var window = globalThis, self = globalThis;', page);
  for (const c of code) vm.runInContext(c, page);
  assert.equal(typeof vm.runInContext('vegaEmbed', page), 'function');
  assert.equal(amdModules.length, 0, 'a build registered itself with require.js instead');
});

test('a notebook figure carries its spec for vega-embed, the static SVG as fallback and download, and escapes its title', () => {
  const html = figureHtml({ name: 'x-fig', title: 'a <b> & "c"', svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', png: new Uint8Array(), spec: { data: { values: [] }, mark: 'point', title: '</script><i>' } });
  assert.match(html, /<figure class="notebook-figure" data-figure="x-fig">/);
  assert.match(html, /a &lt;b&gt; &amp; &quot;c&quot;/);
  assert.match(html, /download="x-fig\.svg" href="data:image\/svg\+xml;base64,/);
  assert.match(html, /vegaEmbed\(el, \{"data":\{"values":\[\]\},"mark":"point","title":"\\u003c\/script>\\u003ci>"\}/);
  assert.doesNotMatch(html.slice(html.indexOf('<script>') + 8, html.lastIndexOf('</script>')), /<\/script/i);
});

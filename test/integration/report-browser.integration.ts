/**
 * report.html in a real browser, offline: `reproduce --profile smoke` for every
 * registered paper, then headless Chromium opens the page from file:// with every
 * non-file request aborted (and counted: there must be none). Checks no page or
 * console error, a section per paper, a rendered Plotly graph per interactive figure
 * (hover shows a value), and that clicking a column header sorts the claims table.
 * Run with `npm run test:integration`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../../lib/core/paths';
import { PAPERS } from '../../lib/papers/registry';
import { vegaLiteToPlotly } from '../../lib/report/plotly-figures';
import { launchChromium, type LaunchedChromium } from '../../reproduce/browser/chromium';

const root = repoRoot();
const screenshots = path.join(root, 'results', 'ci-artifacts', 'screenshots');
let out = '';
let chrome: LaunchedChromium | undefined;
let context: BrowserContext | undefined;
let page: Page | undefined;
const blocked: string[] = [];
const errors: string[] = [];

process.on('exit', () => {
  try {
    if (chrome) process.kill(chrome.pid, 'SIGKILL');
  } catch {
    // already gone
  }
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'reproduce', 'cli.ts'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Figures listed under `out`, and how many of them have an interactive version. */
function figureCounts(dir: string): { figures: number; interactive: number } {
  let figures = 0;
  let interactive = 0;
  for (const paper of fs.readdirSync(dir)) {
    const pdir = path.join(dir, paper);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const profile of fs.readdirSync(pdir)) {
      const index = path.join(pdir, profile, 'figures', 'figures.json');
      if (!fs.existsSync(index)) continue;
      for (const f of JSON.parse(fs.readFileSync(index, 'utf8')) as { files: { vl: string } }[]) {
        figures++;
        if (vegaLiteToPlotly(JSON.parse(fs.readFileSync(path.join(pdir, profile, f.files.vl), 'utf8'))).ok) interactive++;
      }
    }
  }
  return { figures, interactive };
}

before(async () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-report-html-'));
  const t0 = Date.now();
  const r = await runCli(['--profile', 'smoke', '--out', out, '--quiet']);
  console.log(`reproduce --profile smoke (every registered paper): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // 1 = a claim did not reproduce at smoke: not this test's concern, the report is complete.
  assert.ok(r.code === 0 || r.code === 1, `reproduce exited ${r.code}: ${r.stderr.slice(-2000)}`);
  chrome = await launchChromium();
  // offline: a page that reaches for the network would show up as a failed request.
  context = await chrome.browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (req) => {
    if (!blocked.includes(req.url())) errors.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  const t1 = Date.now();
  await page.goto(pathToFileURL(path.join(out, 'report.html')).href, { waitUntil: 'load' });
  console.log(`chromium start + report.html load: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

after(async () => {
  try {
    if (page) {
      fs.mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: path.join(screenshots, 'report.png'), fullPage: true }).catch(() => {});
    }
    await context?.close().catch(() => {});
    await chrome?.close();
  } finally {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  }
});

test('report.html and plotly.js sit beside REPORT.md; the page loads offline with no request off file://', async () => {
  for (const f of ['REPORT.md', 'report.html', 'plotly.js']) assert.ok(fs.existsSync(path.join(out, f)), f);
  await page!.waitForFunction(() => document.readyState === 'complete');
  assert.deepEqual(blocked, [], 'the page tried to reach the network');
});

test('every registered paper has a section with its claims in the table', async () => {
  for (const p of PAPERS) {
    assert.equal(await page!.locator(`section.paper-section[data-paper="${p.id}"]`).count(), 1, `section for ${p.id}`);
    const rows = await page!.locator(`#claims tr.claim-row[data-paper="${p.id}"]`).count();
    assert.equal(rows, p.claims.length, `claim rows of ${p.id}`);
  }
});

test('verdicts are coloured', async () => {
  const spans = page!.locator('#claims .verdict');
  assert.ok((await spans.count()) > 0);
  const colours = await spans.evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  for (const c of colours) assert.doesNotMatch(c, /^(transparent|rgba\(0, 0, 0, 0\))$/, 'a verdict without a colour');
});

test('a Plotly graph renders for every interactive figure, and hovering a point shows its value', async () => {
  const want = figureCounts(out);
  assert.equal(await page!.locator('figure.report-figure').count(), want.figures, 'one figure block per figure');
  assert.equal(await page!.locator('figure.report-figure img.static-figure').count(), want.figures, 'a static SVG per figure');
  const divs = page!.locator('.plotly-figure');
  assert.equal(await divs.count(), want.interactive, 'one Plotly div per convertible figure');
  await page!.waitForFunction((n) => document.querySelectorAll('.plotly-figure.js-plotly-plot .main-svg').length >= n, want.interactive, { timeout: 30_000 });
  assert.equal(await page!.locator('.plotly-figure.js-plotly-plot').count(), want.interactive);
  if (want.interactive === 0) return;
  // Hover the first point of the first visible trace with markers, where Plotly drew it.
  const div = divs.first();
  await div.scrollIntoViewIfNeeded();
  const target = await div.evaluate((el) => {
    const g = el as unknown as { _fullData: { visible: unknown; mode?: string; x: unknown[]; y: unknown[] }[]; _fullLayout: { xaxis: Axis; yaxis: Axis } };
    type Axis = { _offset: number; c2p: (v: unknown) => number; d2c: (v: unknown) => unknown };
    const t = g._fullData.find((d) => d.visible === true && (d.mode ?? '').includes('markers'));
    if (!t) return null;
    const box = el.querySelector('.main-svg')!.getBoundingClientRect();
    const { xaxis, yaxis } = g._fullLayout;
    return { x: box.left + xaxis._offset + xaxis.c2p(xaxis.d2c(t.x[0])), y: box.top + yaxis._offset + yaxis.c2p(yaxis.d2c(t.y[0])) };
  });
  assert.ok(target, 'a trace with markers to hover');
  await page!.mouse.move(target.x, target.y);
  await page!.waitForSelector('.hoverlayer .hovertext', { timeout: 5000 });
  assert.match((await page!.locator('.hoverlayer .hovertext').first().textContent()) ?? '', /\d/);
});

test('clicking a column header sorts the claims table (and again reverses it)', async () => {
  const ids = () => page!.locator('#claims tr.claim-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.claim ?? ''));
  const before = await ids();
  assert.ok(before.length >= 2, 'need two claims to sort');
  const header = page!.locator('#claims thead th', { hasText: /^claim$/ });
  await header.click();
  const asc = await ids();
  assert.deepEqual(asc, [...before].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0)));
  assert.equal(await header.getAttribute('aria-sort'), 'ascending');
  await header.click();
  assert.deepEqual(await ids(), [...asc].reverse());
  assert.equal(await header.getAttribute('aria-sort'), 'descending');
});

test('no page errors and no console errors', () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, []);
});

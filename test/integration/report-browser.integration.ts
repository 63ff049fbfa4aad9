/**
 * report.html in a real browser, offline: `reproduce --profile smoke` for every
 * registered paper, then headless Chromium opens the page from file:// with every
 * non-file request aborted (and counted: there must be none). Checks no page or
 * console error, a section per paper, every figure embedded by vega-embed from its own
 * Vega-Lite spec (hover shows a value in a tooltip, a legend click fades the other
 * series), and that clicking a column header sorts the claims table.
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
import { VEGA_SCRIPTS } from '../../lib/report/vega-assets';
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

/** Figures listed under `out`. */
function figureCount(dir: string): number {
  let figures = 0;
  for (const paper of fs.readdirSync(dir)) {
    const pdir = path.join(dir, paper);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const profile of fs.readdirSync(pdir)) {
      const index = path.join(pdir, profile, 'figures', 'figures.json');
      if (fs.existsSync(index)) figures += (JSON.parse(fs.readFileSync(index, 'utf8')) as unknown[]).length;
    }
  }
  return figures;
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

test('report.html and the vega scripts sit beside REPORT.md; the page loads offline with no request off file://', async () => {
  for (const f of ['REPORT.md', 'report.html', ...VEGA_SCRIPTS.map((v) => v.as)]) assert.ok(fs.existsSync(path.join(out, f)), f);
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

test('vega-embed renders every figure from its spec; hovering a point shows its values', async () => {
  const want = figureCount(out);
  assert.ok(want > 0, 'the smoke run exports figures');
  assert.equal(await page!.locator('figure.report-figure').count(), want, 'one figure block per figure');
  await page!.waitForFunction((n) => document.querySelectorAll('.vega-figure[data-embedded="true"] svg.marks').length >= n, want, { timeout: 60_000 });
  assert.equal(await page!.locator('.vega-figure[data-embed-error]').count(), 0, 'no spec failed to embed');
  // Hover a point mark of the first line chart: vega-tooltip shows the point's values.
  const point = page!.locator('.vega-figure[data-embedded="true"] svg .mark-symbol path').first();
  await point.scrollIntoViewIfNeeded();
  await point.hover({ force: true });
  await page!.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
  assert.match((await page!.locator('#vg-tooltip-element').textContent()) ?? '', /\d/);
});

test('clicking a legend entry fades the other series', async () => {
  // A figure built by lineChart (lib/figures/charts.ts), whose legend drives the selection.
  const fig = page!.locator('figure[data-figure="rer-linsys-error"] .vega-figure[data-embedded="true"]');
  await fig.scrollIntoViewIfNeeded();
  const opacities = () => fig.locator('svg .mark-line path').evaluateAll((ps) => ps.map((p) => Number(p.getAttribute('opacity') ?? getComputedStyle(p).opacity)));
  const before = await opacities();
  assert.ok(before.length >= 2 && before.every((o) => o === 1), `all series opaque before a pick: ${before}`);
  await fig.locator('.role-legend-symbol path').first().click({ force: true });
  await page!.waitForFunction((el) => Array.from(el!.querySelectorAll('svg .mark-line path')).some((p) => Number(p.getAttribute('opacity')) < 0.5), await fig.elementHandle(), { timeout: 5000 });
  const after = await opacities();
  assert.ok(after.some((o) => o === 1) && after.some((o) => o < 0.5), `one series picked, the others faded: ${after}`);
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

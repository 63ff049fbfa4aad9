/**
 * Every notebooks/*.ipynb in a real browser: Debian's classic Jupyter Notebook server
 * with our tslab kernel, headless Chromium clicking Cell > Run All on a fresh kernel at
 * the smoke profile (injected after the parameters cell). Checks no cell failed, every
 * figure is drawn by vega-embed and hovering a point shows its value, the claims table
 * is there; saves a full-page screenshot per notebook to
 * results/ci-artifacts/screenshots/<notebook>.png.
 *
 * The notebooks run from copies in a temp folder under results/ (never in place), and
 * the server and the browser are stopped by their PIDs in `after`, even on failure.
 * Run with `npm run test:integration`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../../lib/core/paths';
import { scaleTrend } from '../../lib/notebook/scale-trend';
import { PAPERS } from '../../lib/papers/registry';
import { defaultNotebooks } from '../../reproduce/notebook-options';
import { KERNEL_NAME } from '../../reproduce/jupyter-kernel';
import { launchChromium, type LaunchedChromium } from '../../reproduce/browser/chromium';
import { startJupyterServer, type JupyterServer } from '../../reproduce/browser/jupyter-server';
import { describeFailures, hoverFirstFigure, openNotebook, runAllAndWait, screenshotNotebook, waitForFigures } from '../../reproduce/browser/classic-notebook';
import { expectedOutputs, paperIdOfNotebook, type ExpectedOutputs } from '../../reproduce/browser/expected-outputs';
import { makeNotebookWorkspace, type NotebookWorkspace } from '../../reproduce/browser/notebook-workspace';

const root = repoRoot();
const notebooks = defaultNotebooks(root);
const artifacts = path.join(root, 'results', 'ci-artifacts');
const screenshots = path.join(artifacts, 'screenshots');
/** Kernel start + Run All, per notebook: smoke runs take seconds, a loaded CI machine may be 10x slower. */
const NOTEBOOK_TIMEOUT_MS = Number(process.env.REPRO_BROWSER_NOTEBOOK_TIMEOUT_S ?? 300) * 1000;

let ws: NotebookWorkspace | undefined;
let server: JupyterServer | undefined;
let chrome: LaunchedChromium | undefined;
let expected: Promise<Map<string, ExpectedOutputs>> | undefined;

// Last resort if the runner is killed before `after`: kill what we started, by PID.
process.on('exit', () => {
  for (const pid of [server?.pid, chrome?.pid]) {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

before(async () => {
  fs.mkdirSync(screenshots, { recursive: true });
  // Each copy runs at smoke, injected after its parameters cell as `npm run notebooks` does,
  // with its results in the workspace (not the repository's results/).
  ws = makeNotebookWorkspace(root, notebooks, 'notebooks-', (dir) => ({ profile: 'smoke', results: path.join(dir, 'results') }));
  const ids = notebooks.map(paperIdOfNotebook).filter((id) => PAPERS.some((p) => p.id === id));
  // What each notebook must show, from the CLI at the same profile (runs while the server and browser start).
  expected = expectedOutputs(root, ids, path.join(ws.dir, 'cli-out'), 'smoke');
  expected.catch(() => {}); // awaited (and reported) by each test
  const [s, c] = await Promise.allSettled([
    startJupyterServer({
      root,
      notebookDir: ws.notebooksDir,
      baseDir: path.join(ws.dir, 'jupyter'),
      logFile: path.join(artifacts, 'jupyter-server.log'),
    }),
    launchChromium(),
  ]);
  if (s.status === 'fulfilled') server = s.value;
  if (c.status === 'fulfilled') chrome = c.value;
  if (s.status === 'rejected') throw s.reason;
  if (c.status === 'rejected') throw c.reason;
});

after(async () => {
  const problems: string[] = [];
  await chrome?.close().catch((e: Error) => problems.push(e.message));
  const kernelsBefore = server?.kernelPids() ?? [];
  await server?.stop().catch((e: Error) => problems.push(e.message));
  const left = server?.kernelPids() ?? [];
  if (left.length) problems.push(`kernel processes still alive after stop: ${left.join(', ')} (before stop: ${kernelsBefore.join(', ')})`);
  ws?.remove();
  assert.deepEqual(problems, []);
});

test('there are notebooks to drive', () => {
  assert.ok(notebooks.length > 0, `no notebooks under ${path.join(root, 'notebooks')}`);
});

for (const nb of notebooks) {
  const name = path.basename(nb);
  test(`${name}: Run All in Chromium on a fresh ${KERNEL_NAME} kernel (smoke) shows no error, every figure interactive (hover shows a value) and the claims table`, { timeout: NOTEBOOK_TIMEOUT_MS + 60_000 }, async (t) => {
    assert.ok(server && chrome && ws, 'server or browser did not start (see the before hook)');
    const copy = ws.copies.find((c) => c.source === nb)!;
    const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page: Page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    const opts = { kernelName: KERNEL_NAME, timeoutMs: NOTEBOOK_TIMEOUT_MS };
    try {
      await openNotebook(page, server.notebookUrl(copy.name), opts);
      const report = await runAllAndWait(page, opts);
      t.diagnostic(`${name}: Run All took ${report.seconds.toFixed(1)} s, ${report.cells.length} code cells, ${report.figures.length} figures`);
      for (const c of report.cells.filter((c) => c.stderr.trim() && c.status === 'ok')) t.diagnostic(`cell ${c.index} wrote to stderr (progress lines are expected): ${c.stderr.trim().replace(/\s*\n\s*/g, ' | ').slice(0, 300)}`);
      if (consoleErrors.length) t.diagnostic(`browser console errors (Jupyter UI): ${consoleErrors.slice(0, 5).join(' | ')}`);

      assert.equal(report.failed.length, 0, `cells failed:\n${describeFailures(report)}`);
      assert.equal(report.errorOutputs, 0, 'an output area shows an error');
      assert.ok(report.figures.length > 0, 'no figure shown');
      const figures = await waitForFigures(page, report);
      for (const [i, f] of figures.entries()) {
        assert.equal(f.embedError, null, `figure ${i + 1} (${f.name}) failed to embed`);
        assert.ok(f.embedded, `figure ${i + 1} (${f.name}) is static: vega-embed did not draw it`);
        assert.ok(f.width > 0 && f.height > 0, `figure ${i + 1} (${f.name}) has no size (${f.width}x${f.height})`);
        assert.ok(f.marks > 0, `figure ${i + 1} (${f.name}) has no vega marks: not a rendered chart`);
      }
      const tooltip = await hoverFirstFigure(page);
      t.diagnostic(`${name}: hovering the first figure shows: ${tooltip.replace(/\s+/g, ' ').slice(0, 120)}`);
      assert.match(tooltip, /\d/, 'hovering a point shows no value');
      assert.ok(report.claimsTableRows > 0, 'no claims table (table.claims-table) in the outputs');
      const id = paperIdOfNotebook(nb);
      const want = (await expected!).get(id);
      if (want) {
        // The explore and scale sections add their own figures beside the paper's (the scale figure
        // only where a committed full run left a claim unreproduced).
        const ownFigures = report.figures.filter((f) => !f.name.includes('-explore-') && !f.name.endsWith('-scale-trend'));
        assert.equal(ownFigures.length, want.figures, `figures shown vs figures the CLI makes for '${id}' at smoke`);
        assert.equal(report.figures.filter((f) => f.name === `${id}-scale-trend`).length, scaleTrend(id).figure ? 1 : 0, `the scale section's figure for '${id}'`);
        assert.equal(report.claimsTableRows, want.claims, `claims table rows vs claims of '${id}'`);
      } else {
        t.diagnostic(`${name}: '${id}' is not in the paper registry: figure and claim counts not compared`);
      }
    } finally {
      await screenshotNotebook(page, path.join(screenshots, name.replace(/\.ipynb$/, '.png'))).catch((e: Error) => t.diagnostic(`screenshot failed: ${e.message}`));
      await context.close().catch(() => {});
      // A fresh kernel for the next notebook; also frees memory on a 2-core CI machine.
      await server.shutdownKernels().catch(() => {});
    }
  });
}

/**
 * Drives one notebook in the classic Jupyter Notebook UI (6.4) the way a user does:
 * open it (which starts a fresh kernel), Cell > Run All, wait until every code cell
 * has answered and the kernel is idle, then read what the page shows.
 *
 * Failure detection: tslab's error replies carry no message (it writes the error to
 * stderr) and, after an error, it drops requests for ~200 ms, so later queued cells may
 * never answer. We therefore record each cell's execute_reply status in the page and
 * stop waiting once a cell has failed and the kernel has been idle for a while.
 */
import type { Page } from 'playwright-core';
import { sleep, waitFor } from './wait-for';

export interface CellReport {
  /** 1-based position among all cells. */
  index: number;
  source: string;
  /** execute_reply status: ok / error / aborted; null when no reply came. */
  status: string | null;
  stderr: string;
  errorText: string;
  /** Figures (figure.notebook-figure) in this cell's outputs. */
  figureCount: number;
}

export interface NotebookRunReport {
  kernelName: string;
  cells: CellReport[];
  /** Cells that errored, were aborted or never answered. */
  failed: CellReport[];
  /** Output areas rendered as errors (output_error). */
  errorOutputs: number;
  /**
   * Figures shown (lib/notebook/figures.ts): per figure.notebook-figure, whether vega-embed
   * drew it from its spec (else the static SVG shows, or the embed failed), the size of
   * what shows and the vega mark groups of the interactive chart.
   */
  figures: { name: string; embedded: boolean; embedError: string | null; width: number; height: number; marks: number }[];
  /** Rows of every claims table (table.claims-table) in the outputs. */
  claimsTableRows: number;
  seconds: number;
}

export interface RunNotebookOptions {
  kernelName: string;
  /** For kernel start and Run All together. */
  timeoutMs: number;
  /** After a failed cell: how long the kernel must stay idle before we stop waiting. */
  settleMs?: number;
}

/** The parts of the classic Notebook's page-side API this driver touches. */
interface NotebookCell {
  cell_type: string;
  get_text(): string;
  _handle_execute_reply: (msg: { content: { status: string } }) => unknown;
}
declare const Jupyter: { notebook: { _fully_loaded?: boolean; kernel: { name: string; is_connected(): boolean; info_reply?: unknown }; get_cells(): NotebookCell[] } };

/** Opens `url` (a /notebooks/... URL) and waits for the notebook and its kernel. */
export async function openNotebook(page: Page, url: string, opts: RunNotebookOptions): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await waitFor(
    () =>
      page.evaluate(() => {
        const nb = typeof Jupyter !== 'undefined' ? Jupyter.notebook : undefined;
        const k = nb && nb.kernel;
        // info_reply is filled when the kernel answered kernel_info: it is ready.
        return nb && nb._fully_loaded && k && k.is_connected() && Object.keys(k.info_reply || {}).length ? true : undefined;
      }),
    { timeoutMs: opts.timeoutMs, intervalMs: 250, what: 'the notebook to load and its kernel to be ready' },
  );
  const name = await page.evaluate(() => Jupyter.notebook.kernel.name as string);
  if (name !== opts.kernelName) throw new Error(`the notebook runs kernel '${name}', expected '${opts.kernelName}' (check its metadata.kernelspec.name)`);
}

/** Cell > Run All through the menus, then waits for every code cell's reply and an idle kernel. */
export async function runAllAndWait(page: Page, opts: RunNotebookOptions): Promise<NotebookRunReport> {
  const t0 = Date.now();
  await page.evaluate(() => {
    const w = window as unknown as { __reproReplies: Record<number, string> };
    w.__reproReplies = {};
    Jupyter.notebook.get_cells().forEach((cell, i) => {
      if (cell.cell_type !== 'code') return;
      const orig = cell._handle_execute_reply;
      // get_callbacks() binds this property at execute time, so wrapping the instance works.
      cell._handle_execute_reply = function (this: NotebookCell, msg: { content: { status: string } }) {
        w.__reproReplies[i] = msg.content.status;
        return orig.call(this, msg);
      };
    });
  });
  await page.click('#celllink');
  await page.click('#run_all_cells');
  const settleMs = opts.settleMs ?? 3000;
  let idleSince: number | undefined;
  await waitFor(
    async () => {
      const s = await page.evaluate(() => {
        const replies = (window as unknown as { __reproReplies: Record<number, string> }).__reproReplies;
        const cells = Jupyter.notebook.get_cells();
        const pending = cells.filter((c, i) => c.cell_type === 'code' && c.get_text().trim() && replies[i] === undefined).length;
        const failed = Object.values(replies).some((st) => st !== 'ok');
        const icon = document.getElementById('kernel_indicator_icon');
        const idle = !!icon && icon.classList.contains('kernel_idle_icon');
        return { pending, failed, idle };
      });
      if (s.pending === 0 && s.idle) return true;
      if (s.failed && s.idle) {
        idleSince = idleSince ?? Date.now();
        if (Date.now() - idleSince >= settleMs) return true;
      } else idleSince = undefined;
      return undefined;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 300, what: 'Run All to finish (every code cell answered, kernel idle)' },
  );
  await sleep(200); // the last outputs render right after the reply
  return { ...(await readNotebook(page, opts.kernelName)), seconds: (Date.now() - t0) / 1000 };
}

/**
 * In-page code as a string: tsx/esbuild would wrap named inner functions of a
 * page.evaluate callback in a `__name` helper that does not exist in the page.
 */
const READ_NOTEBOOK_JS = `(() => {
  const replies = window.__reproReplies || {};
  const texts = (el, sel) => Array.from(el.querySelectorAll(sel)).map((e) => e.innerText).join('\\n');
  const cells = [];
  Jupyter.notebook.get_cells().forEach((c, i) => {
    if (c.cell_type !== 'code' || !c.get_text().trim()) return;
    const el = c.element[0];
    cells.push({
      index: i + 1,
      source: c.get_text(),
      status: replies[i] === undefined ? null : replies[i],
      stderr: texts(el, '.output_stderr'),
      errorText: texts(el, '.output_error'),
      figureCount: el.querySelectorAll('.output_area figure.notebook-figure').length,
    });
  });
  const figures = Array.from(document.querySelectorAll('.output_area figure.notebook-figure')).map((f) => {
    const holder = f.querySelector('.vega-figure');
    const svg = holder && holder.querySelector('svg.marks');
    const shown = svg || (holder && holder.querySelector('img'));
    const r = shown ? shown.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      name: f.getAttribute('data-figure') || '',
      embedded: !!holder && holder.getAttribute('data-embedded') === 'true',
      embedError: holder ? holder.getAttribute('data-embed-error') : 'no .vega-figure',
      width: r.width,
      height: r.height,
      marks: svg ? svg.querySelectorAll('g[class^="mark-"], g[class*=" mark-"]').length : 0,
    };
  });
  return {
    cells,
    errorOutputs: document.querySelectorAll('.output_area .output_error').length,
    figures,
    claimsTableRows: document.querySelectorAll('.output_area table.claims-table tbody tr').length,
  };
})()`;

/**
 * Waits until vega-embed has drawn every figure (or one failed), then reads the notebook
 * again. The embeds are asynchronous: they finish after the cell's reply.
 */
export async function waitForFigures(page: Page, report: Omit<NotebookRunReport, 'seconds'>, timeoutMs = 60_000): Promise<NotebookRunReport['figures']> {
  const n = report.figures.length;
  await page.waitForFunction(
    (want) => document.querySelectorAll('.output_area figure.notebook-figure .vega-figure[data-embedded="true"], .output_area figure.notebook-figure .vega-figure[data-embed-error]').length >= want,
    n,
    { timeout: timeoutMs },
  );
  return (await readNotebook(page, report.kernelName)).figures;
}

/**
 * Hovers the first point (or bar) of the first interactive figure and returns what
 * vega-tooltip shows: the hovered value, as a reader of the notebook would see it.
 */
export async function hoverFirstFigure(page: Page): Promise<string> {
  // role-mark: a data point or bar, not a legend symbol.
  const mark = page.locator('.output_area .vega-figure[data-embedded="true"] svg g.role-mark.mark-symbol path, .output_area .vega-figure[data-embedded="true"] svg g.role-mark.mark-rect path').first();
  await mark.scrollIntoViewIfNeeded();
  await mark.hover({ force: true });
  await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
  return (await page.locator('#vg-tooltip-element').textContent()) ?? '';
}

async function readNotebook(page: Page, kernelName: string): Promise<Omit<NotebookRunReport, 'seconds'>> {
  const raw = (await page.evaluate(READ_NOTEBOOK_JS)) as Omit<NotebookRunReport, 'seconds' | 'kernelName' | 'failed'>;
  const failed = raw.cells.filter((c) => c.status !== 'ok');
  return { kernelName, ...raw, failed };
}

/**
 * A full-page PNG of the notebook. The classic UI scrolls inside #site, so a plain
 * full-page screenshot would show one screen: let the page grow to its content first.
 */
export async function screenshotNotebook(page: Page, file: string): Promise<void> {
  await page.addStyleTag({ content: 'html, body, #site { height: auto !important; overflow: visible !important; } #header { position: static !important; }' });
  await sleep(100);
  await page.screenshot({ path: file, fullPage: true });
}

/** Text for an assertion message: the failing cells' sources and what they printed; aborted cells in one line. */
export function describeFailures(r: NotebookRunReport): string {
  const aborted = r.failed.filter((c) => c.status === 'abort' || c.status === 'aborted');
  const lines = r.failed
    .filter((c) => !aborted.includes(c))
    .map((c) => {
      const src = c.source.split('\n').slice(0, 8).join('\n    | ');
      const err = (c.stderr + '\n' + c.errorText).trim().split('\n').slice(0, 30).join('\n    ! ');
      return `cell ${c.index}: status ${c.status ?? 'no reply'}\n    | ${src}\n    ! ${err || '(no output)'}`;
    });
  if (aborted.length) lines.push(`cells ${aborted.map((c) => c.index).join(', ')}: aborted by the kernel after the error`);
  return lines.join('\n');
}

/**
 * Committed notebooks carry no outputs (ARCHITECTURE.md §8): outputs hold timings, paths and
 * figures that change on every run, and would make every re-run a diff. Here: what
 * "stripped" means, how to strip, and how to write a notebook the way Jupyter does
 * (sorted keys, one-space indent) so saving from Jupyter afterwards changes nothing.
 */
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from './jupyter-kernel';

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  outputs?: unknown[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export const NOTEBOOK_KERNELSPEC = { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: 'typescript' } as const;

/** Cell metadata written by running or viewing a cell, not by its author. */
export const TRANSIENT_CELL_METADATA = ['execution', 'ExecuteTime', 'collapsed', 'scrolled'] as const;
/** Notebook metadata of the same kind (ipywidgets' saved state). */
export const TRANSIENT_NOTEBOOK_METADATA = ['widgets'] as const;

export function parseNotebook(text: string, name: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(text) as Notebook;
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${(e as Error).message}`);
  }
  if (!nb || !Array.isArray(nb.cells) || typeof nb.metadata !== 'object' || nb.nbformat !== 4) {
    throw new Error(`${name} is not an nbformat 4 notebook`);
  }
  return nb;
}

/** Everything that keeps `nb` from being committable; empty when it is clean. */
export function notebookProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const ks = nb.metadata.kernelspec as { name?: unknown; language?: unknown } | undefined;
  if (ks?.name !== KERNEL_NAME) problems.push(`kernelspec name is ${JSON.stringify(ks?.name)}, not '${KERNEL_NAME}'`);
  if (ks?.language !== 'typescript') problems.push(`kernelspec language is ${JSON.stringify(ks?.language)}, not 'typescript'`);
  for (const key of TRANSIENT_NOTEBOOK_METADATA) if (key in nb.metadata) problems.push(`notebook metadata has '${key}'`);
  nb.cells.forEach((cell, i) => {
    const where = `cell ${i + 1}`;
    if (cell.cell_type === 'code') {
      if (cell.outputs?.length) problems.push(`${where} has ${cell.outputs.length} output(s)`);
      if (cell.execution_count !== null && cell.execution_count !== undefined) problems.push(`${where} has execution_count ${cell.execution_count}`);
    }
    for (const key of TRANSIENT_CELL_METADATA) if (cell.metadata && key in cell.metadata) problems.push(`${where} has metadata '${key}'`);
  });
  return problems;
}

/** A copy of `nb` without outputs, execution counts and transient metadata, on the tslab kernelspec. */
export function stripNotebook(nb: Notebook): Notebook {
  const metadata: Record<string, unknown> = { ...nb.metadata, kernelspec: { ...NOTEBOOK_KERNELSPEC } };
  for (const key of TRANSIENT_NOTEBOOK_METADATA) delete metadata[key];
  const cells = nb.cells.map((cell) => {
    const out: NotebookCell = { ...cell, metadata: { ...(cell.metadata ?? {}) } };
    for (const key of TRANSIENT_CELL_METADATA) delete out.metadata![key];
    if (cell.cell_type === 'code') {
      out.outputs = [];
      out.execution_count = null;
    }
    return out;
  });
  return { ...nb, metadata, cells };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** As nbformat writes it: json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + newline. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/** The tag of the cell whose variables a runner may override (papermill's convention). */
export const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

function tagsOf(cell: NotebookCell): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/**
 * Papermill-style: a copy of `nb` with a cell tagged 'injected-parameters' right after the
 * cell tagged 'parameters', assigning each value (JSON literals are TypeScript literals).
 * Throws when the notebook has no parameters cell.
 */
export function injectParameters(nb: Notebook, params: Record<string, unknown>, name: string): Notebook {
  const at = nb.cells.findIndex((c) => c.cell_type === 'code' && tagsOf(c).includes(PARAMETERS_TAG));
  if (at < 0) throw new Error(`${name} has no code cell tagged '${PARAMETERS_TAG}' to inject ${Object.keys(params).join(', ')} into`);
  const lines = ['// Injected after the parameters cell (papermill-style).', ...Object.entries(params).map(([k, v]) => `${k} = ${JSON.stringify(v)};`)];
  const cell: NotebookCell = { cell_type: 'code', execution_count: null, id: 'injected-parameters', metadata: { tags: [INJECTED_TAG] }, outputs: [], source: lines.map((l, i) => (i < lines.length - 1 ? l + '\n' : l)) };
  return { ...nb, cells: [...nb.cells.slice(0, at + 1), cell, ...nb.cells.slice(at + 1)] };
}

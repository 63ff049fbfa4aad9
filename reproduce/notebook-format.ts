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

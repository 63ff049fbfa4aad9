"""Executes notebooks headlessly with nbclient; called by reproduce/notebooks.ts.

Each notebook runs in memory on a fresh kernel: the committed .ipynb is never
written; an executed copy can go to --out. The run stops at a notebook's first
failing cell (tslab drops requests for 200 ms after an error, so later cells would
be silently aborted) and, because tslab's error replies carry no message, prints the
failing cell's source and its stderr output itself.

Exit status: 0 every notebook ran, 1 one failed, 2 bad usage, 130 interrupted.
"""
import argparse
import asyncio
import math
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

SOURCE_LINES = 12
STDERR_LINES = 40
INTERNAL_FRAME = re.compile(r'^\s+at .*(node:vm:|node:internal/|node_modules/tslab/dist/|tslab-kernel\.cjs)')
INTERRUPTED = 130  # exit status after Ctrl-C, as a shell reports it


class InterruptAwareLoop(asyncio.SelectorEventLoop):
    """Records that a signal handler fired, then runs it.

    nbclient answers SIGINT/SIGTERM by shutting the kernel down; the cell then fails
    with some unrelated error and the next notebook would start. With this flag the
    run reports "interrupted" and stops instead.
    """

    interrupted = False

    def add_signal_handler(self, sig, callback, *args):
        def record_then_call(*a):
            InterruptAwareLoop.interrupted = True
            callback(*a)

        super().add_signal_handler(sig, record_then_call, *args)


class InterruptAwarePolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return InterruptAwareLoop()


def out(line=''):
    print(line, flush=True)


def indent(text, limit):
    lines = text.rstrip('\n').split('\n')
    shown = ['    | ' + l for l in lines[:limit]]
    if len(lines) > limit:
        shown.append('    | ... (%d more lines)' % (len(lines) - limit))
    return '\n'.join(shown)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == 'code' and c.source.strip()]


def report_failure(nb, index, reason):
    """Prints what a reader needs to fix the cell: where, its source, its stderr/error outputs."""
    cell = nb.cells[index] if index is not None and index < len(nb.cells) else None
    if cell is None:
        out('  %s' % reason)
        return
    number = sum(1 for c in nb.cells[:index + 1] if c.cell_type == 'code' and c.source.strip())
    out('  cell %d (code cell %d): %s' % (index + 1, number, reason))
    out('  source:')
    out(indent(cell.source, SOURCE_LINES))
    stderr = ''.join(o.get('text', '') for o in cell.get('outputs', [])
                     if o.get('output_type') == 'stream' and o.get('name') == 'stderr')
    errors = [o for o in cell.get('outputs', []) if o.get('output_type') == 'error']
    # Stack frames inside tslab and node:vm say nothing about the notebook's bug.
    stderr = '\n'.join(l for l in stderr.split('\n') if not INTERNAL_FRAME.search(l))
    if stderr.strip():
        out('  stderr:')
        out(indent(stderr, STDERR_LINES))
    for e in errors:
        out('  error: %s: %s' % (e.get('ename', ''), e.get('evalue', '')))
        if e.get('traceback'):
            out(indent('\n'.join(e['traceback']), STDERR_LINES))
    if not stderr.strip() and not errors:
        out('  (the cell wrote nothing to stderr)')


def display_name(path, cwd):
    name = os.path.relpath(path, cwd)
    return path if name.startswith('..') else name


def run_one(path, args):
    name = display_name(path, args.cwd)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # not JSON, not a notebook
        out('FAILED  %s  cannot be read: %s' % (name, str(e).strip().split('\n')[0]))
        return False
    total = len(code_cells(nb))
    state = {'index': None, 'ran': 0}

    # Counts cells started, so the failing cell (error or timeout) is the last one counted.
    def on_cell_execute(cell, cell_index, **_):
        state['index'] = cell_index
        state['ran'] += 1

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=math.ceil(args.timeout) if args.timeout > 0 else None,  # nbclient wants an int
        allow_errors=False,
        resources={'metadata': {'path': args.cwd}},
        on_cell_execute=on_cell_execute,
    )
    start = time.monotonic()
    reason = None
    try:
        client.execute()
    except CellTimeoutError:
        reason = 'timed out after %g s (raise it with --timeout)' % args.timeout
    except DeadKernelError:
        reason = 'the kernel died'
    except CellExecutionError as e:
        reason = 'raised an error' if not e.ename or e.ename == '<Error>' else 'failed with %s: %s' % (e.ename, e.evalue)
    except (Exception, asyncio.CancelledError) as e:  # no such kernel, start timeout, Ctrl-C while starting...
        reason = '%s: %s' % (type(e).__name__, str(e).strip().split('\n')[0])
    seconds = time.monotonic() - start
    if InterruptAwareLoop.interrupted:
        reason = 'interrupted'
    ok = reason is None
    out('%-7s %s  %d/%d code cells  %.1f s' % ('OK' if ok else 'FAILED', name, state['ran'], total, seconds))
    if not ok:
        report_failure(nb, state['index'], reason)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        target = os.path.join(args.out, os.path.basename(path))
        tmp = '%s.tmp-%d' % (target, os.getpid())
        nbformat.write(nb, tmp)
        os.replace(tmp, target)
    if InterruptAwareLoop.interrupted:
        raise KeyboardInterrupt
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description='Execute notebooks with nbclient (see reproduce/notebooks.ts).')
    ap.add_argument('--cwd', required=True, help='directory the kernel starts in (the repository root)')
    ap.add_argument('--kernel', default='tslab')
    ap.add_argument('--timeout', type=float, default=600, help='seconds per cell; 0 = no limit')
    ap.add_argument('--out', help='write executed copies here')
    ap.add_argument('notebooks', nargs='+')
    args = ap.parse_args(argv)
    args.cwd = os.path.abspath(args.cwd)
    # nbclient runs on a loop from jupyter_core's run_sync (new_event_loop) or the current one.
    asyncio.set_event_loop_policy(InterruptAwarePolicy())
    asyncio.set_event_loop(asyncio.new_event_loop())
    failed = 0
    try:
        for path in args.notebooks:
            if not run_one(os.path.abspath(path), args):
                failed += 1
    except KeyboardInterrupt:
        out('interrupted: stopped before the remaining notebooks')
        return INTERRUPTED
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

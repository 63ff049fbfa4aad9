/**
 * A job worker of a parallel run (--jobs N): a child process the CLI forks
 * (reproduce/parallel/pool.ts), one (paper, seed) job at a time, through the same
 * `runJob` as a run without workers, so the job files are the same. The messages are in
 * ./protocol.ts. Under tsx the parent passes its loader flags; the bundle re-runs itself
 * with REPRO_WORKER_CHILD=1 (reproduce/bundle/entry.mjs).
 *
 * The worker loads the backend the parent selected, by name, and records the parent's
 * BackendInfo in its job files, so every job of a run names one backend.
 */
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../../lib/core/backend';
import { runJob } from '../../lib/harness/runner';
import { PAPERS, type AnyPaper } from '../../lib/papers/registry';
import type { FromWorker, ToWorker } from './protocol';

type Init = Extract<ToWorker, { type: 'init' }>;

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

/** Progress ticks go to the parent at most this often per phase (a training loop ticks far more). */
const PROGRESS_EVERY_MS = 250;

let init: Init | undefined;
let papers: readonly AnyPaper[] = PAPERS;
const grants = new Map<number, () => void>();
let nextId = 0;

function exclusive<T>(label: string, section: () => Promise<T>): Promise<T> {
  const id = nextId++;
  return new Promise<void>((resolve) => {
    grants.set(id, resolve);
    send({ type: 'exclusive', id, label });
  }).then(async () => {
    try {
      return await section();
    } finally {
      send({ type: 'released', id });
    }
  });
}

async function runOne(paperId: string, plan: Extract<ToWorker, { type: 'job' }>['plan'], seed: number): Promise<void> {
  const paper = papers.find((p) => p.id === paperId);
  if (!paper) throw new Error(`worker: paper '${paperId}' is not in the worker's registry`);
  let last = { phase: '', at: -Infinity };
  const outcome = await runJob(paper, plan, seed, init!.backend, {
    out: init!.out,
    // The parent checked the cache and holds the job's lock: compute.
    force: true,
    quiet: init!.quiet,
    log: (line) => send({ type: 'log', line }),
    progressLines: false,
    onProgress: (phase, done, total) => {
      const now = performance.now();
      if (phase === last.phase && done < total && now - last.at < PROGRESS_EVERY_MS) return;
      last = { phase, at: now };
      send({ type: 'progress', phase, done, total });
    },
    exclusive,
  });
  send({ type: 'done', seed, wallSeconds: outcome.wallSeconds });
}

async function onMessage(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      init = m;
      if (m.papersModule) papers = ((await import(pathToFileURL(m.papersModule).href)) as { PAPERS: readonly AnyPaper[] }).PAPERS;
      await selectBackend(m.backend.name);
      send({ type: 'ready' });
      return;
    }
    case 'job':
      try {
        await runOne(m.paper, m.plan, m.seed);
      } catch (err) {
        const exitCode = (err as { exitCode?: unknown }).exitCode;
        const usage = typeof exitCode === 'number';
        send({ type: 'failed', message: usage ? (err as Error).message : String((err as Error).stack ?? err), exitCode: usage ? exitCode : undefined });
      }
      return;
    case 'granted':
      grants.get(m.id)?.();
      grants.delete(m.id);
      return;
  }
}

// The parent is gone (killed, or done): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToWorker) => {
  onMessage(m).catch((err) => {
    send({ type: 'failed', message: String((err as Error).stack ?? err), exitCode: (err as { exitCode?: number }).exitCode });
  });
});

/**
 * Messages between the CLI (parent) and its job workers (reproduce/parallel/worker.ts),
 * over the IPC channel of child_process.fork (JSON). One job at a time per worker.
 *
 *   parent -> worker  init        once: backend to load, where results go, where the papers are
 *   worker -> parent  ready       the backend is loaded
 *   parent -> worker  job         run (paper, seed) of this plan; the parent holds its lock
 *   worker -> parent  log         one line for stderr
 *   worker -> parent  progress    a phase tick (throttled)
 *   worker -> parent  exclusive   asks to run a timed section alone (ctx.exclusive) ...
 *   parent -> worker  granted     ... every other worker is now stopped (SIGSTOP)
 *   worker -> parent  released    the section is over: the others continue (SIGCONT)
 *   worker -> parent  done        the job file is written
 *   worker -> parent  failed      the job threw: message, and exit code when it is a UsageError
 *
 * A worker exits when the channel closes (the parent is gone), so none outlives its run.
 */
import type { BackendInfo } from '../../lib/core/backend';
import type { PaperPlan } from '../../lib/harness/runner';

export type ToWorker =
  | { type: 'init'; backend: BackendInfo; out: string; quiet: boolean; papersModule: string | undefined }
  | { type: 'job'; paper: string; plan: PaperPlan; seed: number }
  | { type: 'granted'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'progress'; phase: string; done: number; total: number }
  | { type: 'exclusive'; id: number; label: string }
  | { type: 'released'; id: number }
  | { type: 'done'; seed: number; wallSeconds: number }
  | { type: 'failed'; message: string; exitCode: number | undefined };

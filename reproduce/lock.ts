#!/usr/bin/env node
/**
 * `npm run lock -- --why "..." --results-seen yes|no`: brings claims.lock.json in line with
 * lib/papers/<id>/claims.ts, recording every difference (field, old -> new) in the claim's
 * history with the reason and whether results had been seen. `--check` only lists the
 * differences (exit 1 when there are some). See lib/harness/lock.ts.
 */
import { listChoices, UsageError } from '../lib/core/errors';
import { lockDifferences, readLock, updateLock, writeLock } from '../lib/harness/lock';
import { PAPERS } from '../lib/papers/registry';
import { parseStrict } from './args';

export const LOCK_USAGE = `usage: npm run lock -- --why "what changed and why" --results-seen yes|no [--only paper,...]
       npm run lock -- --check
  Records every difference between lib/papers/*/claims.ts and claims.lock.json in the claim's
  history (date, field, old -> new, why, whether results had been seen) and updates the lock.`;

export function runLock(argv: string[], write: (t: string) => void = (t) => process.stdout.write(t), today = new Date().toISOString().slice(0, 10)): number {
  try {
    const { values, positionals } = parseStrict(argv, { why: { type: 'string' }, 'results-seen': { type: 'string' }, only: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const);
    if (values.help) {
      write(LOCK_USAGE + '\n');
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'; ${LOCK_USAGE.split('\n')[0]}`);
    // --only records one paper's changes (each with its own reason); the other papers' entries are left as they are.
    const only = values.only === undefined ? undefined : values.only.split(',').map((s) => s.trim());
    for (const id of only ?? []) if (!PAPERS.some((p) => p.id === id)) throw new UsageError(`unknown paper '${id}' in --only; valid papers: ${listChoices(PAPERS.map((p) => p.id))}`);
    const lock = readLock();
    const all = PAPERS.flatMap((p) => p.claims.map((claim) => ({ paper: p.id, claim })));
    const mine = (paper: string) => !only || only.includes(paper);
    // Claims of the other papers count as they stand in the lock, so their differences stay unrecorded.
    const claims = all.filter((c) => mine(c.paper));
    const scoped = lock && only ? { ...lock, claims: Object.fromEntries(Object.entries(lock.claims).filter(([, e]) => mine(e.paper))) } : lock;
    const diffs = lockDifferences(claims, scoped);
    if (values.check) {
      for (const d of diffs) write(`${d.id}: ${d.field} ${JSON.stringify(d.from)} -> ${JSON.stringify(d.to)}\n`);
      write(diffs.length ? `${diffs.length} difference(s): run npm run lock -- --why "..." --results-seen yes|no\n` : 'claims.ts and claims.lock.json agree\n');
      return diffs.length ? 1 : 0;
    }
    const why = (values.why ?? '').trim();
    if (!why) throw new UsageError('--why is required: say what changed and why (it is kept in every changed claim\'s history)');
    const seen = values['results-seen'];
    if (seen !== 'yes' && seen !== 'no') throw new UsageError(`--results-seen must be yes or no (had you seen results of these claims before the change?), got '${seen ?? ''}'`);
    if (diffs.length === 0) {
      write('claims.ts and claims.lock.json already agree: nothing to record\n');
      return 0;
    }
    const { lock: updated, changes } = updateLock(claims, scoped, why, seen === 'yes', today);
    const next = lock && only ? { ...updated, claims: { ...Object.fromEntries(Object.entries(lock.claims).filter(([, e]) => !mine(e.paper))), ...updated.claims }, retired: { ...lock.retired, ...updated.retired } } : updated;
    writeLock(next);
    for (const d of changes) write(`${d.id}: ${d.field} recorded\n`);
    write(`claims.lock.json updated (${changes.length} change(s))\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lock: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

if (process.argv[1] && /reproduce[\\/]lock\.ts$/.test(process.argv[1])) process.exitCode = runLock(process.argv.slice(2));

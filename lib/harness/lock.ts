/**
 * The pre-registration lock: claims.lock.json at the repository root holds, per claim,
 * what judges it (statement, paper value, kind, tolerance, profiles, noise scale, expected
 * verdicts) and the history of every change: date, field, old -> new, why, and whether
 * results had been seen. A test fails when claims.ts and the lock disagree, so no
 * tolerance or expectation changes without a recorded reason; `npm run lock -- --why ...`
 * is the one way to update it. Reports show each claim's history.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../core/atomic-fs';
import { canonicalJson } from '../core/config';
import { repoRoot } from '../core/paths';
import * as s from '../core/schema';
import type { Infer } from '../core/schema';
import type { Claim, ProfileName } from './contract';
import type { LockHistoryEntry } from './files';

export const LOCK_FILE = 'claims.lock.json';

/** The fields of a claim the lock pins: everything that decides its verdict or how it is counted. */
export function lockedFields<R>(c: Claim<R>): Record<string, unknown> {
  const expected: Partial<Record<ProfileName, string>> = {};
  for (const [p, e] of Object.entries(c.expected ?? {})) if (e) expected[p as ProfileName] = e.verdict;
  return {
    kind: c.kind,
    statement: c.statement,
    paperValue: c.paperValue,
    falsifiedBy: c.falsifiedBy,
    tolerance: c.expect,
    profiles: c.profiles,
    noise: c.noise ?? null,
    timing: c.timing !== undefined,
    expected,
  };
}

const entrySchema = s.object({
  paper: s.string,
  fields: s.record(s.unknown),
  history: s.array(s.object({ date: s.string, field: s.string, from: s.unknown, to: s.unknown, why: s.string, resultsSeen: s.boolean })),
});
export const lockSchema = s.object({
  note: s.string,
  claims: s.record(entrySchema),
  /** Claims that were removed, with their last fields and history (a removal is a change too). */
  retired: s.record(entrySchema),
});
export type LockFile = Infer<typeof lockSchema>;

export function lockPath(root = repoRoot()): string {
  return path.join(root, LOCK_FILE);
}

/** The lock, or undefined where there is none (a bundle far from the repository). Throws on a malformed lock. */
export function readLock(file = lockPath()): LockFile | undefined {
  if (!fs.existsSync(file)) return undefined;
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const bad = lockSchema.check(value, LOCK_FILE);
  if (bad) throw new Error(bad);
  return value as LockFile;
}

/** A claim's history from the lock (empty when the lock or the claim is not there). */
export function historyOf(lock: LockFile | undefined, id: string): LockHistoryEntry[] {
  return lock?.claims[id]?.history ?? [];
}

export interface LockDifference {
  id: string;
  /** 'added' and 'removed' for whole claims; otherwise the field that changed. */
  field: string;
  from: unknown;
  to: unknown;
}

/** Where the registered claims and the lock disagree. */
export function lockDifferences(claims: { paper: string; claim: Claim<unknown> }[], lock: LockFile | undefined): LockDifference[] {
  const out: LockDifference[] = [];
  const seen = new Set<string>();
  for (const { claim } of claims) {
    seen.add(claim.id);
    const now = lockedFields(claim);
    const entry = lock?.claims[claim.id];
    if (!entry) {
      out.push({ id: claim.id, field: 'added', from: null, to: now });
      continue;
    }
    for (const key of new Set([...Object.keys(now), ...Object.keys(entry.fields)])) {
      if (canonicalJson(now[key] ?? null) !== canonicalJson(entry.fields[key] ?? null)) out.push({ id: claim.id, field: key, from: entry.fields[key] ?? null, to: now[key] ?? null });
    }
  }
  for (const id of Object.keys(lock?.claims ?? {})) if (!seen.has(id)) out.push({ id, field: 'removed', from: lock!.claims[id].fields, to: null });
  return out;
}

/** The lock brought in line with the claims, each difference recorded in the claim's history. */
export function updateLock(claims: { paper: string; claim: Claim<unknown> }[], lock: LockFile | undefined, why: string, resultsSeen: boolean, date: string): { lock: LockFile; changes: LockDifference[] } {
  const next: LockFile = lock ? (JSON.parse(JSON.stringify(lock)) as LockFile) : { note: '', claims: {}, retired: {} };
  next.note = 'Pre-registration lock: written by `npm run lock -- --why "..." --results-seen yes|no`, never by hand. A test fails when lib/papers/*/claims.ts and this file disagree.';
  const changes = lockDifferences(claims, lock);
  for (const d of changes) {
    const entry = { date, field: d.field, from: d.from, to: d.to, why, resultsSeen };
    if (d.field === 'removed') {
      const old = next.claims[d.id];
      next.retired[d.id] = { ...old, history: [...old.history, entry] };
      delete next.claims[d.id];
      continue;
    }
    const c = claims.find((x) => x.claim.id === d.id)!;
    const fields = lockedFields(c.claim);
    const old = next.claims[d.id] ?? next.retired[d.id];
    next.claims[d.id] = { paper: c.paper, fields, history: [...(old?.history ?? []), entry] };
    delete next.retired[d.id];
  }
  return { lock: next, changes };
}

export function writeLock(lock: LockFile, file = lockPath()): void {
  writeJsonAtomic(file, lock);
}

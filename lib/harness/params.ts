/**
 * Run parameters as a user types them (CLI options, a notebook's parameters cell),
 * checked the same way everywhere so a bad value gets the same one-line error.
 */
import { listChoices, UsageError } from '../core/errors';
import { PROFILES, type ProfileName } from './contract';

export function parseProfile(value: unknown): ProfileName {
  if (typeof value !== 'string' || !(PROFILES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown profile '${String(value)}'; valid profiles: ${listChoices(PROFILES)}`);
  }
  return value as ProfileName;
}

/** Seeds are distinct positive integers (seed 0 means "unseeded" to some tfjs samplers). */
export function checkSeeds(seeds: unknown, what = 'seeds'): number[] {
  const ok = Array.isArray(seeds) && seeds.length > 0 && seeds.every((s) => Number.isSafeInteger(s) && (s as number) >= 1);
  if (!ok) throw new UsageError(`bad ${what} ${JSON.stringify(seeds)}: expected a non-empty list of positive integers, e.g. [1, 2, 3]`);
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`bad ${what} ${JSON.stringify(seeds)}: a seed is repeated`);
  return seeds as number[];
}

/** --set style overrides: each 'key=value' (the keys are checked against the paper's config later). */
export function checkOverrides(sets: unknown, what = 'overrides'): string[] {
  if (!Array.isArray(sets) || sets.some((s) => typeof s !== 'string' || !s.includes('='))) {
    throw new UsageError(`bad ${what} ${JSON.stringify(sets)}: expected a list of 'key=value' strings, e.g. ['trials=4']`);
  }
  return sets as string[];
}

/**
 * Strict config overrides (nanoGPT's configurator, typed): `--set key=value` may only
 * name a key the profile's config has, and the value must parse as that key's type.
 * Anything else is a UsageError that lists the valid keys — never silently ignored.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Dotted paths of every leaf (non-object) value, e.g. ['steps', 'lr', 'model.width']. */
export function configKeys(config: object, prefix = ''): string[] {
  const keys: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) keys.push(...configKeys(v, p));
    else keys.push(p);
  }
  return keys;
}

function describeType(v: unknown): string {
  if (Array.isArray(v)) return v.length > 0 && typeof v[0] === 'string' ? 'a comma-separated list of strings' : 'a comma-separated list of numbers';
  if (typeof v === 'boolean') return 'true or false';
  if (typeof v === 'number') return 'a number';
  return `a ${typeof v}`;
}

function parseNumber(text: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text.trim())) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses `raw` as the type of `current`; undefined when it does not fit. */
function parseLike(current: unknown, raw: string): unknown {
  if (typeof current === 'number') return parseNumber(raw);
  if (typeof current === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : undefined;
  if (typeof current === 'string') return raw;
  if (Array.isArray(current)) {
    const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length === 0) return undefined;
    const wantsStrings = current.length > 0 && typeof current[0] === 'string';
    if (wantsStrings) return parts;
    const nums = parts.map(parseNumber);
    return nums.some((n) => n === undefined) ? undefined : nums;
  }
  return undefined;
}

/** A deep copy of `base` with `key=value` overrides applied; throws UsageError on any bad override. */
export function applyOverrides<C extends object>(base: C, sets: readonly string[], what: string): C {
  const config = JSON.parse(JSON.stringify(base)) as C;
  const valid = configKeys(base);
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key=value, got '${set}'`);
    const key = set.slice(0, eq).trim();
    const raw = set.slice(eq + 1).trim();
    if (!valid.includes(key)) {
      throw new UsageError(`unknown --set key '${key}' for ${what}; valid keys: ${valid.join(', ')}`);
    }
    const path = key.split('.');
    let holder = config as Record<string, unknown>;
    for (const p of path.slice(0, -1)) holder = holder[p] as Record<string, unknown>;
    const leaf = path[path.length - 1];
    const value = parseLike(holder[leaf], raw);
    if (value === undefined) {
      throw new UsageError(`--set ${key}='${raw}' has the wrong type for ${what}: expected ${describeType(holder[leaf])}`);
    }
    holder[leaf] = value;
  }
  return config;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): Json => {
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const out: { [k: string]: Json } = {};
      for (const k of Object.keys(v as object).sort()) out[k] = norm((v as Record<string, unknown>)[k]);
      return out;
    }
    return v as Json;
  };
  return JSON.stringify(norm(value));
}

export function configHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/**
 * Config validation for every paper's `validate(config)`, with one message format:
 *
 *   <paper>: <key>=<value> must be <what is valid>
 *
 * where <key> is the dotted name `--set` takes, so the user can fix it in one step.
 * Each check throws UsageError (exit 2) on the first bad key.
 */
import { listChoices, UsageError } from '../core/errors';

export interface Bounds {
  /** value >= min */
  min?: number;
  /** value <= max */
  max?: number;
  /** value > above */
  above?: number;
  /** value < below */
  below?: number;
}

function describeBounds(b: Bounds): string {
  const lo = b.above !== undefined ? `> ${b.above}` : b.min !== undefined ? `>= ${b.min}` : undefined;
  const hi = b.below !== undefined ? `< ${b.below}` : b.max !== undefined ? `<= ${b.max}` : undefined;
  if (lo && hi) {
    const open = b.above !== undefined ? '(' : '[';
    const close = b.below !== undefined ? ')' : ']';
    return `in ${open}${b.above ?? b.min}, ${b.below ?? b.max}${close}`;
  }
  return lo ?? hi ?? 'a number';
}

function withinBounds(v: number, b: Bounds): boolean {
  if (typeof v !== 'number' || Number.isNaN(v)) return false;
  if (b.min !== undefined && !(v >= b.min)) return false;
  if (b.max !== undefined && !(v <= b.max)) return false;
  if (b.above !== undefined && !(v > b.above)) return false;
  if (b.below !== undefined && !(v < b.below)) return false;
  return true;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Checks on one paper's config; keys are dotted paths into it ('model.width'). */
export class ConfigCheck {
  constructor(
    private readonly paper: string,
    private readonly config: object,
  ) {}

  /** The value at a dotted key. */
  get(key: string): unknown {
    let v: unknown = this.config;
    for (const part of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    return v;
  }

  /** Throws `<paper>: <key>=<value> must be <what>`. */
  fail(key: string, what: string, value: unknown = this.get(key)): never {
    throw new UsageError(`${this.paper}: ${key}=${show(value)} must be ${what}`);
  }

  /** Fails with `what` unless `ok`. For relations between keys: name the key to change. */
  require(ok: boolean, key: string, what: string): this {
    if (!ok) this.fail(key, what);
    return this;
  }

  /** Each key is an integer within bounds (default: >= 1). */
  integers(keys: readonly string[], bounds: Bounds = { min: 1 }): this {
    for (const key of keys) {
      const v = this.get(key);
      if (typeof v !== 'number' || !Number.isInteger(v) || !withinBounds(v, bounds)) this.fail(key, `an integer ${describeBounds(bounds)}`);
    }
    return this;
  }

  /** Each key is a number within bounds (default: > 0). */
  numbers(keys: readonly string[], bounds: Bounds = { above: 0 }, why = ''): this {
    for (const key of keys) {
      const v = this.get(key);
      if (typeof v !== 'number' || !withinBounds(v, bounds)) this.fail(key, `a number ${describeBounds(bounds)}${why ? ` (${why})` : ''}`);
    }
    return this;
  }

  /** A non-empty list whose every element is within bounds (and an integer with `integer`). */
  list(key: string, bounds: Bounds, opts: { integer?: boolean; increasing?: boolean; allowEmpty?: boolean } = {}): this {
    const v = this.get(key);
    const what = `a list of ${opts.integer ? 'integers' : 'numbers'} ${describeBounds(bounds)}${opts.increasing ? ', increasing' : ''}`;
    if (!Array.isArray(v) || (!opts.allowEmpty && v.length === 0)) this.fail(key, `a non-empty ${what}`);
    (v as number[]).forEach((x, i) => {
      if (typeof x !== 'number' || !withinBounds(x, bounds) || (opts.integer && !Number.isInteger(x))) this.fail(key, what);
      if (opts.increasing && i > 0 && !(x > (v as number[])[i - 1])) this.fail(key, what);
    });
    return this;
  }

  /** The key (a string, or every element of a list of strings) is one of `choices`. */
  oneOf(key: string, choices: readonly string[], opts: { allowEmpty?: boolean } = {}): this {
    const v = this.get(key);
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && v.length === 0 && !opts.allowEmpty) this.fail(key, `a non-empty list of ${listChoices(choices)}`);
    for (const x of values) {
      if (typeof x === 'string' && choices.includes(x)) continue;
      this.fail(key, Array.isArray(v) ? `a list of ${listChoices(choices)} ('${String(x)}' is not one of them)` : `one of ${listChoices(choices)}`);
    }
    return this;
  }

  /** `widthKey` splits into `headsKey` attention heads of even size (RoPE rotates pairs). */
  evenHeads(widthKey: string, headsKey: string): this {
    const w = this.get(widthKey) as number;
    const h = this.get(headsKey) as number;
    return this.require(w % h === 0 && (w / h) % 2 === 0, widthKey, `divisible into ${headsKey}=${h} heads of even size (RoPE)`);
  }
}

export function configCheck(paper: string, config: object): ConfigCheck {
  return new ConfigCheck(paper, config);
}

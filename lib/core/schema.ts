/**
 * Tiny runtime schemas whose TypeScript types are inferred from them, so the type a
 * writer fills in and the check a reader applies are one definition (lib/harness/files.ts
 * describes every file the suite writes with these). A file that fails its schema (torn,
 * hand-edited, from another version) is reported with the path of the first bad value,
 * never trusted.
 */

export interface Schema<T> {
  /** undefined when `value` fits; otherwise a one-line reason naming the bad path. */
  check(value: unknown, at?: string): string | undefined;
  /** Phantom: carries T for Infer<>. Never set. */
  readonly _type?: T;
}

/** A property that may be absent. */
export interface OptionalSchema<T> extends Schema<T> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : `${typeof v} ${typeof v === 'object' ? '' : String(v)}`.trim();
}

function primitive<T>(name: string, test: (v: unknown) => boolean): Schema<T> {
  return { check: (v, at = 'value') => (test(v) ? undefined : `${at}: expected ${name}, got ${describe(v)}`) };
}

export const string = primitive<string>('a string', (v) => typeof v === 'string');
/** Any JSON number, finite or not (JSON has no NaN: a non-finite metric is written as null). */
export const number = primitive<number>('a number', (v) => typeof v === 'number');
export const boolean = primitive<boolean>('true or false', (v) => typeof v === 'boolean');
export const unknown: Schema<unknown> = { check: () => undefined };

export function literal<const L extends string | number | boolean>(...values: L[]): Schema<L> {
  return primitive<L>(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (v) => (values as unknown[]).includes(v));
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return { check: (v, at = 'value') => (v === null ? undefined : s.check(v, at)) };
}

export function optional<T>(s: Schema<T>): OptionalSchema<T> {
  return { optional: true, check: (v, at = 'value') => (v === undefined ? undefined : s.check(v, at)) };
}

export function array<T>(item: Schema<T>): Schema<T[]> {
  return {
    check(v, at = 'value') {
      if (!Array.isArray(v)) return `${at}: expected an array, got ${describe(v)}`;
      for (let i = 0; i < v.length; i++) {
        const bad = item.check(v[i], `${at}[${i}]`);
        if (bad) return bad;
      }
      return undefined;
    },
  };
}

/** Any JSON object (a config, a result): only its being an object is checked. */
export const anyObject: Schema<object> = {
  check: (v, at = 'value') => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : `${at}: expected an object, got ${describe(v)}`),
};

/** A value that fits any of `options`. */
export function union<T>(...options: Schema<T>[]): Schema<T> {
  return {
    check(v, at = 'value') {
      const reasons = options.map((o) => o.check(v, at));
      return reasons.some((r) => r === undefined) ? undefined : reasons.join('; or ');
    },
  };
}

/** A JSON object whose values all fit `value` (a map keyed by name). */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    check(v, at = 'value') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
      for (const [k, x] of Object.entries(v)) {
        const bad = value.check(x, `${at}.${k}`);
        if (bad) return bad;
      }
      return undefined;
    },
  };
}

type Props = Record<string, Schema<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends OptionalSchema<unknown> ? K : never }[keyof P];
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>;
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<P extends Props> = Flatten<{ [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }>;

/** A JSON object with these properties (extra properties are allowed: newer writers may add some). */
export function object<P extends Props>(props: P): Schema<ObjectOf<P>> & { props: P } {
  return {
    props,
    check(v, at = 'value') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${at}: expected an object, got ${describe(v)}`;
      const o = v as Record<string, unknown>;
      for (const [k, s] of Object.entries(props)) {
        if (!(k in o) && !('optional' in s)) return `${at}.${k}: missing`;
        const bad = s.check(o[k], `${at}.${k}`);
        if (bad) return bad;
      }
      return undefined;
    },
  };
}

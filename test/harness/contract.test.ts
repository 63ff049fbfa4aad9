/**
 * One contract test for every registered paper (and the test fixture paper, which is
 * the worked example of ARCHITECTURE.md "Adding a paper"): its profiles validate, its
 * claims are well-formed and computable on a smoke result, its figures render and its
 * tables are rectangular. A new paper gets all of this by being registered.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { selectBackend } from '../../lib/core/backend';
import { UsageError } from '../../lib/core/errors';
import { renderFigures } from '../../lib/figures/render';
import { PROFILES, type PaperDefinition } from '../../lib/harness/contract';
import { PAPERS } from '../../lib/papers/registry';
import { fakePaper } from '../fixtures/fake-paper';
import { testContext } from '../fixtures/run-context';

before(async () => {
  await selectBackend('wasm');
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ALL: PaperDefinition<any, any>[] = [...PAPERS, fakePaper];
const NAME = /^[a-z0-9][a-z0-9-]*$/;

test('claim ids are unique across the suite', () => {
  const ids = ALL.flatMap((p) => p.claims.map((c) => c.id));
  assert.deepEqual(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
  );
});

for (const paper of ALL) {
  test(`${paper.id}: profiles validate, seeds are sane, claims are well-formed`, () => {
    assert.match(paper.id, NAME);
    assert.ok(paper.title.length > 10 && paper.references.length > 0);
    for (const profile of PROFILES) {
      paper.validate(paper.profiles[profile]);
      const seeds = paper.defaultSeeds[profile];
      assert.ok(seeds.length > 0 && seeds.every((s) => Number.isInteger(s) && s > 0) && new Set(seeds).size === seeds.length, `${profile} seeds ${seeds}`);
    }
    for (const c of paper.claims) {
      assert.match(c.id, NAME);
      for (const field of ['paper', 'source', 'statement', 'paperValue', 'measures'] as const) assert.ok(c[field].trim().length > 0, `${c.id}: empty ${field}`);
      assert.ok(c.toleranceWhy.length > 20, `${c.id}: the tolerance needs its reason`);
      const { atLeast, atMost } = c.expect;
      assert.ok(atLeast !== undefined || atMost !== undefined, `${c.id}: no expectation`);
      if (atLeast !== undefined && atMost !== undefined) assert.ok(atLeast <= atMost, `${c.id}: empty interval`);
      assert.ok(c.profiles.length > 0 && c.profiles.every((p) => PROFILES.includes(p)), `${c.id}: profiles ${c.profiles}`);
    }
  });

  test(`${paper.id}: validate refuses -1 in every numeric key, naming the key (no config reaches a job unchecked)`, () => {
    const unchecked: string[] = [];
    for (const path of numericKeys(paper.profiles.smoke)) {
      const config = JSON.parse(JSON.stringify(paper.profiles.smoke)) as Record<string, unknown>;
      setAt(config, path, -1);
      const key = path.join('.');
      try {
        paper.validate(config);
        unchecked.push(key);
      } catch (e) {
        assert.ok(e instanceof UsageError, `${key}: ${(e as Error).message}`);
        assert.ok(e.message.includes(`${key}=`), `${key}: the message names another key: ${e.message}`);
      }
    }
    assert.deepEqual(unchecked, [], 'keys whose -1 validate accepts');
  });

  test(`${paper.id}: a smoke result is JSON-safe; every claim computes; figures render; tables are rectangular`, async (t) => {
    const config = paper.profiles.smoke;
    const why = paper.unavailable?.(config);
    if (why) return t.skip(why);
    paper.checkData?.(config);
    const result = await paper.run(config, testContext(1, 'wasm'));
    assert.deepEqual(JSON.parse(JSON.stringify(result)), result, 'the result survives run.json');
    const results = [{ seed: 1, result }];
    for (const c of paper.claims) {
      const v = c.metric(result);
      // A number, or an outcome with its reason; at smoke the committed config must leave nothing to a 'config' not-run.
      const ok = typeof v === 'number' ? Number.isFinite(v) : 'outcome' in v ? v.reason.length > 0 : v.precondition !== 'config';
      assert.ok(ok, `${c.id}: ${JSON.stringify(v)}`);
    }
    const figures = paper.figures(results, config);
    assert.ok(figures.length > 0, 'at least one figure');
    const rendered = renderFigures(figures, { test: true });
    for (const f of rendered) assert.match(f.svg, /<svg[\s\S]*<\/svg>/, `${f.name} rendered`);
    const tables = paper.tables(results, config);
    const names = new Set<string>();
    for (const tb of tables) {
      assert.match(tb.name, NAME);
      assert.ok(!names.has(tb.name), `duplicate table ${tb.name}`);
      names.add(tb.name);
      assert.ok(tb.rows.length > 0, `${tb.name} has rows`);
      for (const row of tb.rows) assert.equal(row.length, tb.columns.length, `${tb.name}: a row of ${row.length} cells under ${tb.columns.length} columns`);
    }
  });
}

/** Dotted paths of every number leaf (lists of numbers excluded: their elements are checked by list()). */
function numericKeys(o: object, prefix: string[] = []): string[][] {
  return Object.entries(o).flatMap(([k, v]) => {
    if (typeof v === 'number') return [[...prefix, k]];
    if (v && typeof v === 'object' && !Array.isArray(v)) return numericKeys(v as object, [...prefix, k]);
    return [];
  });
}

function setAt(o: Record<string, unknown>, path: string[], value: unknown): void {
  let h = o;
  for (const k of path.slice(0, -1)) h = h[k] as Record<string, unknown>;
  h[path[path.length - 1]] = value;
}

/**
 * Measured numbers in the docs come from the committed reference results only: the
 * generated regions of README.md and each paper's README equal what `npm run docs`
 * renders from results/reference/ (the gate), and the renderers say what they should.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateClaim } from '../../lib/harness/verdicts';
import type { Claim } from '../../lib/harness/contract';
import { BEGIN, END, renderPaperResults, renderSuiteResults, replaceGenerated, type ReferenceRun } from '../../lib/report/reference-docs';
import { staleDocs } from '../../reproduce/docs';
import { runFile } from '../fixtures/run-file';

test('README.md and every paper README show exactly the committed reference results (run npm run docs)', () => {
  assert.deepEqual(staleDocs(), []);
});

const claim: Claim<number> = {
  id: 'x-ratio',
  kind: 'paper',
  paper: 'arXiv:0000.00000',
  source: 'Fig. 1',
  statement: 's',
  paperValue: '~3x',
  measures: 'a ratio',
  falsifiedBy: 'below 2',
  metric: (r) => r,
  expect: { atLeast: 2 },
  toleranceWhy: 'why',
  profiles: ['quick'],
  expected: { quick: { verdict: 'not-reproduced', reason: 'too small a model', hypothesis: true } },
};

function ref(profile: 'quick' | 'full' = 'quick', values = [1.5, 1.6, 1.4]): ReferenceRun {
  const both: Claim<number> = { ...claim, profiles: ['quick', 'full'] };
  const c = evaluateClaim(both, values.map((v, i) => ({ seed: i + 1, result: v })), { profile });
  return { profile, paper: 'x', run: runFile('x', { seeds: [1, 2, 3] }), claims: [c] };
}

test('the suite table has the headline, the interval, the verdict and where the run came from', () => {
  const md = renderSuiteResults([ref()]);
  assert.match(md, /\*\*0 of 1 paper claims reproduced, 0 inconclusive, 1 not reproduced at profile quick; 0 of 0 checks pass\.\*\*/);
  assert.match(md, /\| x \| paper \| x-ratio: a ratio \| ~3x \| >= 2 \| 1\.50 \[1\.25, 1\.75\] \(n=3\) \| \*\*not-reproduced \(expected\)\*\* \|/);
  assert.match(md, /- x \(quick\): seeds 1, 2, 3, 2 s of compute, cpu on test CPU \(2 cores/);
  const paper = renderPaperResults([ref()], 'x');
  assert.match(paper, /expected \(hypothesis\): too small a model/);
  assert.match(renderPaperResults([ref()], 'y'), /No reference results for y/);
});

test('quick and full stand side by side: one row per claim, a measurement and a verdict column per profile', () => {
  const md = renderSuiteResults([ref('quick'), ref('full', [3.0, 3.1, 2.9])]);
  assert.match(md, /\| paper \| kind \| claim \| paper value \| tolerance \| quick: measured \[95% interval\] \| quick: verdict \| full: measured \[95% interval\] \| full: verdict \|/);
  assert.match(md, /\| 1\.50 \[1\.25, 1\.75\] \(n=3\) \| \*\*not-reproduced \(expected\)\*\* \| 3\.00 \[2\.75, 3\.25\] \(n=3\) \| reproduced \|/);
  assert.equal(md.split('\n').filter((l) => l.startsWith('| x |')).length, 1, 'one row for the claim, not one per profile');
  const paper = renderPaperResults([ref('quick'), ref('full', [3.0, 3.1, 2.9])], 'x');
  assert.match(paper, /\| kind \| claim \| tolerance \| quick: measured/);
  assert.match(paper, /Why, at quick:[\s\S]*Why, at full:/);
});

test('generated regions are replaced between their markers, and a document without them is an error', () => {
  const doc = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
  assert.equal(replaceGenerated(doc, 'new', 'doc'), `intro\n${BEGIN}\nnew\n${END}\noutro\n`);
  assert.throws(() => replaceGenerated('no markers', 'new', 'README.md'), /README\.md has no <!-- results:begin -->/);
});

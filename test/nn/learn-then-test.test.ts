import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../lib/core/errors';
import { RunRng } from '../../lib/core/rng';
import { binomialCdf, fixedSequenceRejections, hoeffdingBentkusPValue, hoeffdingPValue, learnThenTest } from '../../lib/nn/learn-then-test';

test('binomial CDF and Hoeffding p-value against hand values', () => {
  // P(Bin(4, 0.5) <= 1) = (1 + 4) / 16
  assert.ok(Math.abs(binomialCdf(1, 4, 0.5) - 5 / 16) < 1e-12);
  assert.equal(binomialCdf(4, 4, 0.3), 1);
  assert.equal(binomialCdf(-1, 4, 0.3), 0);
  // P(Bin(10, 0.1) <= 0) = 0.9^10
  assert.ok(Math.abs(binomialCdf(0, 10, 0.1) - 0.9 ** 10) < 1e-12);
  assert.ok(Math.abs(hoeffdingPValue(0.1, 50, 0.3) - Math.exp(-2 * 50 * 0.04)) < 1e-12);
  assert.equal(hoeffdingPValue(0.4, 50, 0.3), 1);
});

test('Hoeffding–Bentkus: 1 when the mean is above δ, zero risk on n examples gives min(e(1-δ)^n, (1-δ)^n)', () => {
  assert.equal(hoeffdingBentkusPValue(0.35, 100, 0.3), 1);
  // R̂ = 0: h1(0, δ) = -ln(1-δ), so the Hoeffding part is (1-δ)^n, smaller than e (1-δ)^n
  assert.ok(Math.abs(hoeffdingBentkusPValue(0, 100, 0.05) - 0.95 ** 100) < 1e-12);
  // monotone: more risk -> larger p-value; more examples -> smaller
  assert.ok(hoeffdingBentkusPValue(0.05, 100, 0.2) < hoeffdingBentkusPValue(0.1, 100, 0.2));
  assert.ok(hoeffdingBentkusPValue(0.1, 400, 0.2) < hoeffdingBentkusPValue(0.1, 100, 0.2));
  assert.throws(() => hoeffdingBentkusPValue(0.1, 10, 1.5), UsageError);
});

test('fixed-sequence testing stops at the first failure; LTT returns the last rejected λ or null', () => {
  assert.equal(fixedSequenceRejections([0.01, 0.02, 0.5, 0.01], 0.05), 2);
  assert.equal(fixedSequenceRejections([0.2], 0.05), 0);
  const lambdas = [0.9, 0.7, 0.5, 0.3];
  const n = 200;
  const rows = [0, 0.02, 0.3, 0].map((r) => new Array(n).fill(r));
  const res = learnThenTest(lambdas, rows, 0.1, 0.05);
  assert.equal(res.index, 1);
  assert.equal(res.lambda, 0.7);
  assert.ok(res.pValues[2] > 0.05);
  const none = learnThenTest(lambdas, [0.5, 0, 0, 0].map((r) => new Array(n).fill(r)), 0.1, 0.05);
  assert.equal(none.lambda, null);
  assert.throws(() => learnThenTest(lambdas, rows.slice(1), 0.1, 0.05), UsageError);
  assert.throws(() => learnThenTest([0.5], [[1.5]], 0.1, 0.05), UsageError);
});

test('validity: over many calibration draws the chosen λ has true risk > δ in at most ~ε of them', () => {
  // True risk of λ_i is p_i (Bernoulli losses); p grows as λ falls. δ = 0.2, ε = 0.1.
  const lambdas = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  const truth = [0.02, 0.08, 0.15, 0.19, 0.21, 0.3, 0.5];
  const delta = 0.2;
  const eps = 0.1;
  const s = new RunRng(7).stream('ltt-validity');
  const trials = 400;
  let violations = 0;
  let chosenSomething = 0;
  for (let t = 0; t < trials; t++) {
    const u = Array.from({ length: 150 }, () => s.next());
    // coupled losses: example j fails at λ_i iff u_j < p_i (monotone in λ, like early exit)
    const risks = truth.map((p) => u.map((x) => (x < p ? 1 : 0)));
    const r = learnThenTest(lambdas, risks, delta, eps);
    if (r.index >= 0) {
      chosenSomething++;
      if (truth[r.index] > delta) violations++;
    }
  }
  assert.ok(chosenSomething > trials / 2, `LTT should certify something most of the time, got ${chosenSomething}`);
  // binomial noise on 400 trials: allow ε + 3 sd
  assert.ok(violations / trials <= eps + 3 * Math.sqrt((eps * (1 - eps)) / trials), `violations ${violations}/${trials}`);
});

/**
 * FLASH-Quad and FLASH (lib/nn/gau.ts, lib/nn/mixed-chunk-attention.ts), causal, against
 * their PyTorch twin (gau_twin.py): the two attentions alone (output and vector-Jacobian
 * product on random inputs), then both language models (logits, loss, every gradient,
 * one tf.train.adam step).
 *
 * At the paper's initialisation (gamma ~ N(0, 0.02), beta = 0) Q and K are ~1e-2, the
 * relu^2 kernel ~1e-8, and the attention term vanishes next to the residual stream: a
 * wrong kernel would hide in the logits. The LMs are therefore compared at a generic point
 * (gamma ~ N(0, 1), beta ~ N(0, 0.5), seeded), where attention moves the logits.
 *
 * Tolerance 1e-5 relative (as in transformer.test.ts): a few dozen float32 terms per
 * output; the mixed chunk kernel sums C = 4 terms locally and 2 chunk summaries globally.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/core/backend';
import { RunRng } from '../../lib/core/rng';
import { GauLM, type GauAttention } from '../../lib/nn/gau';
import { gauQuadraticAttention, mixedChunkAttention } from '../../lib/nn/mixed-chunk-attention';
import { Agreement, checkGradientsAndAdamStep, encode, once, oursAdamStep, runTwin, seededNormal, seededTokens, twinTest, type Encoded, type OursStep } from './harness';

const LR = 0.05;
const TOL = 1e-5;
const T = 12;
const CHUNK = 4; // three chunks: the causal linear term sees zero, one and two earlier chunks
const ATTENTIONS: GauAttention[] = ['quadratic', 'mixed-chunk'];

interface LmResult {
  logits: Encoded;
  loss: Encoded;
  grads: Record<string, Encoded>;
  after: Record<string, Encoded>;
}
interface AttentionResult {
  out: Encoded;
  vjp: Record<string, Encoded>;
}

function lmCase(attention: GauAttention): { logits: tf.Tensor; step: OursStep; twinCase: unknown } {
  const config = { vocab: 11, width: 8, depth: 2, expansion: 10, qkDim: 6, attention, chunkSize: CHUNK };
  const lm = new GauLM(config, new RunRng(5), 'gau-lm');
  lm.layers.forEach((layer, l) => {
    layer.gamma.assign(seededNormal(5, `twin/gamma${l}`, layer.gamma.shape, 1));
    layer.beta.assign(seededNormal(5, `twin/beta${l}`, layer.beta.shape, 0.5));
  });
  const tokens = seededTokens(5, 'twin/tokens', 2, T + 1, config.vocab);
  const inputs = tf.tensor2d(tokens.map((r) => r.slice(0, -1)), undefined, 'int32');
  const targets = tf.tensor2d(tokens.map((r) => r.slice(1)), undefined, 'int32');
  const logits = lm.forward(inputs);
  const step = oursAdamStep(lm.store.variables, () => lm.loss(inputs, targets), LR);
  return { logits, step, twinCase: { kind: 'lm', config, params: step.before, inputs: encode(inputs), targets: encode(targets), lr: LR } };
}

function attentionCase(attention: GauAttention): { out: tf.Tensor; vjp: Record<string, tf.Tensor>; twinCase: unknown } {
  const s = 6;
  const e = 5;
  const names = ['quadQ', 'quadK', 'linQ', 'linK', 'v'] as const;
  const x = Object.fromEntries(names.map((n) => [n, seededNormal(9, `twin/${n}`, [2, T, n === 'v' ? e : s])])) as Record<(typeof names)[number], tf.Tensor>;
  const cotangent = seededNormal(9, 'twin/cotangent', [2, T, e]);
  const used = names.filter((n) => attention === 'mixed-chunk' || !n.startsWith('lin'));
  const f = (...args: tf.Tensor[]) => {
    const a = Object.fromEntries(used.map((n, i) => [n, args[i]]));
    return attention === 'quadratic'
      ? gauQuadraticAttention(a.quadQ, a.quadK, a.v, { causal: true })
      : mixedChunkAttention({ quadQ: a.quadQ, quadK: a.quadK, linQ: a.linQ, linK: a.linK, v: a.v }, { chunkSize: CHUNK, causal: true });
  };
  const inputs = used.map((n) => x[n]);
  const out = f(...inputs);
  const grads = tf.grads((...args: tf.Tensor[]) => f(...args).mul(cotangent).sum())(inputs);
  const vjp = Object.fromEntries(used.map((n, i) => [n, grads[i]]));
  const twinInputs = Object.fromEntries(used.map((n) => [n, encode(x[n])]));
  return { out, vjp, twinCase: { kind: 'attention', attention, chunkSize: CHUNK, inputs: twinInputs, cotangent: encode(cotangent) } };
}

const setup = once(async () => {
  await selectBackend('cpu');
  const attn = ATTENTIONS.map(attentionCase);
  const lms = ATTENTIONS.map(lmCase);
  const twin = runTwin<AttentionResult | LmResult>('gau_twin', [...attn.map((c) => c.twinCase), ...lms.map((c) => c.twinCase)]);
  return {
    attn: attn.map((c, i) => ({ ours: c, twin: twin.results[i] as AttentionResult })),
    lms: lms.map((c, i) => ({ ours: c, twin: twin.results[attn.length + i] as LmResult })),
  };
});

ATTENTIONS.forEach((attention, i) => {
  twinTest(`GAU ${attention} attention (causal): output and vector-Jacobian product agree with the PyTorch twin`, async (t) => {
    const { ours, twin } = (await setup()).attn[i];
    const a = new Agreement(`gau ${attention} attention`);
    a.check('output', ours.out, twin.out, TOL);
    for (const [name, g] of Object.entries(ours.vjp)) a.check(`grad input ${name}`, g, twin.vjp[name], TOL);
    a.report(t);
  });

  twinTest(`${attention === 'quadratic' ? 'FLASH-Quad' : 'FLASH'} LM: logits, loss, every gradient and one Adam step agree with the PyTorch twin`, async (t) => {
    const { ours, twin } = (await setup()).lms[i];
    const a = new Agreement(`${attention === 'quadratic' ? 'FLASH-Quad' : 'FLASH'} LM`);
    a.check('logits', ours.logits, twin.logits, TOL);
    a.check('loss', ours.step.loss, twin.loss, TOL);
    checkGradientsAndAdamStep(a, ours.step, twin, LR, TOL);
    a.report(t);
  });
});

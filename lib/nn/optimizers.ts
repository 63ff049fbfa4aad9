/**
 * Optimisers with the TensorFlow-1 semantics the LocoProp reference notebook relies on,
 * applied to gradients we compute ourselves (LocoProp's local gradients are not the
 * gradients of any tfjs loss). The learning rate is an argument of every step, so
 * warm-up/decay schedules and LocoProp's inner decay need no optimiser rebuild.
 *
 * - RMSprop (tf.compat.v1.train.RMSPropOptimizer): ms starts at ONE (tfjs starts at 0),
 *   ms <- rho ms + (1-rho) g^2; mom <- mu mom + lr g / sqrt(ms + eps); w <- w - mom.
 * - Adam (tf.compat.v1.train.AdamOptimizer): lr_t = lr sqrt(1-b2^t)/(1-b1^t);
 *   m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2; w <- w - lr_t m / (sqrt(v) + eps).
 * - SGD: w <- w - lr g (for the reduction-to-BackProp test).
 */
import * as tf from '@tensorflow/tfjs';

export interface TensorOptimizer {
  readonly name: string;
  /** One update of every variable with its gradient; `lr` is this step's learning rate. */
  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
  /** Floats of optimiser state currently held (slots created so far). */
  stateFloats(): number;
  dispose(): void;
}

/** Per-variable slots, created on first use and keyed by the variable's unique name. */
class Slots {
  private readonly map = new Map<string, tf.Variable[]>();

  get(v: tf.Variable, count: number, init: (i: number) => number): tf.Variable[] {
    let s = this.map.get(v.name);
    if (!s) {
      s = Array.from({ length: count }, (_, i) => tf.variable(tf.fill(v.shape, init(i)), false));
      this.map.set(v.name, s);
    }
    return s;
  }

  floats(): number {
    let n = 0;
    for (const s of this.map.values()) for (const t of s) n += t.size;
    return n;
  }

  dispose(): void {
    for (const s of this.map.values()) for (const t of s) t.dispose();
    this.map.clear();
  }
}

export interface RmsPropOptions {
  /** rho: decay of the mean square (reference: 1 - one_minus_beta2 = 0.9). */
  decay: number;
  /** mu (reference: 1 - one_minus_beta1 = 0.999). */
  momentum: number;
  epsilon: number;
  /** TF1 starts the mean square at 1. */
  initialMeanSquare?: number;
}

export class RmsProp implements TensorOptimizer {
  readonly name = 'rmsprop';
  private readonly slots = new Slots();

  constructor(readonly opts: RmsPropOptions) {}

  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    const init = this.opts.initialMeanSquare ?? 1;
    vars.forEach((v, i) => {
      const [ms, mom] = this.slots.get(v, 2, (k) => (k === 0 ? init : 0));
      tf.tidy(() => {
        const g = grads[i];
        const ms2 = ms.mul(this.opts.decay).add(g.square().mul(1 - this.opts.decay));
        const mom2 = mom.mul(this.opts.momentum).add(g.mul(lr).div(ms2.add(this.opts.epsilon).sqrt()));
        ms.assign(ms2);
        mom.assign(mom2);
        v.assign(v.sub(mom2));
      });
    });
  }

  /** The RMSprop direction g / sqrt(ms + eps) after updating ms, without touching momentum or w (Shampoo grafting). */
  normalised(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    const [ms] = this.slots.get(v, 2, (k) => (k === 0 ? this.opts.initialMeanSquare ?? 1 : 0));
    return tf.tidy(() => {
      const ms2 = ms.mul(this.opts.decay).add(g.square().mul(1 - this.opts.decay));
      ms.assign(ms2);
      return g.div(ms2.add(this.opts.epsilon).sqrt());
    });
  }

  /** mom <- mu mom + lr u; w <- w - mom, for an update direction u computed elsewhere (Shampoo). */
  applyDirection(v: tf.Variable, u: tf.Tensor, lr: number): void {
    const [, mom] = this.slots.get(v, 2, (k) => (k === 0 ? this.opts.initialMeanSquare ?? 1 : 0));
    tf.tidy(() => {
      const mom2 = mom.mul(this.opts.momentum).add(u.mul(lr));
      mom.assign(mom2);
      v.assign(v.sub(mom2));
    });
  }

  stateFloats(): number {
    return this.slots.floats();
  }

  dispose(): void {
    this.slots.dispose();
  }
}

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class Adam implements TensorOptimizer {
  readonly name = 'adam';
  private readonly slots = new Slots();
  private t = 0;

  constructor(readonly opts: AdamOptions) {}

  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    this.t++;
    const { beta1, beta2, epsilon } = this.opts;
    const lrT = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    vars.forEach((v, i) => {
      const [m, s] = this.slots.get(v, 2, () => 0);
      tf.tidy(() => {
        const g = grads[i];
        const m2 = m.mul(beta1).add(g.mul(1 - beta1));
        const s2 = s.mul(beta2).add(g.square().mul(1 - beta2));
        m.assign(m2);
        s.assign(s2);
        v.assign(v.sub(m2.mul(lrT).div(s2.sqrt().add(epsilon))));
      });
    });
  }

  stateFloats(): number {
    return this.slots.floats();
  }

  dispose(): void {
    this.slots.dispose();
  }
}

export class Sgd implements TensorOptimizer {
  readonly name = 'sgd';

  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    vars.forEach((v, i) => tf.tidy(() => v.assign(v.sub(grads[i].mul(lr)))));
  }

  stateFloats(): number {
    return 0;
  }

  dispose(): void {}
}

/**
 * Linear warm-up over `warmupSteps` (from 1/warmupSteps to 1), then linear decay that
 * reaches 1/(total - warmup) at the last step — the reference's per-epoch schedule
 * (5 of 100 epochs warm-up, then linear decay) applied per step, without its first
 * epoch at learning rate 0.
 */
export function warmupLinearDecay(step: number, totalSteps: number, warmupSteps: number): number {
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  return (totalSteps - step) / Math.max(1, totalSteps - warmupSteps);
}

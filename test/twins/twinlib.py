"""What every twin shares: reading the tensors a tfjs test wrote, writing results back,
and the optimisers whose semantics the papers' code fixes.

Optimisers (each written from its own documentation, not from our tfjs):
- tfjs_adam_step: tf.train.adam as our LMs use it. Its update, lr * m_hat / (sqrt(v_hat) + eps)
  with bias-corrected moments and eps = 1e-7 (the float32 backend epsilon tfjs fills in), is
  exactly torch.optim.Adam's (Kingma & Ba 2015, Algorithm 1 with eps outside the root),
  so the twin uses torch.optim.Adam itself.
- TF1RmsProp: tf.compat.v1.train.RMSPropOptimizer (the LocoProp notebook's optimiser). Its
  docs: ms <- decay ms + (1 - decay) g^2; mom <- momentum mom + lr g / sqrt(ms + eps);
  w <- w - mom, with the mean square slot created as ONES. torch.optim.RMSprop differs on both
  counts (ms starts at 0, eps outside the root), so it is written out here.
- TF1Adam: tf.compat.v1.train.AdamOptimizer's docs: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);
  m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; w <- w - lr_t m / (sqrt(v) + eps)
  ("epsilon hat": eps is NOT bias-corrected, unlike torch.optim.Adam).
"""
import torch


def tensor(enc, requires_grad=False):
    """{"shape", "data"} -> float64 tensor (float32 values are exact in float64)."""
    x = torch.tensor(enc['data'], dtype=torch.float64).reshape(enc['shape'])
    return x.requires_grad_(requires_grad)


def ints(enc):
    return torch.tensor(enc['data'], dtype=torch.int64).reshape(enc['shape'])


def leaves(named):
    """{"name": enc} -> {"name": float64 leaf tensor requiring grad}, in the given order."""
    return {k: tensor(v, requires_grad=True) for k, v in named.items()}


def encode(obj):
    """Tensors -> {"shape", "data"}; dicts, lists and numbers pass through."""
    if isinstance(obj, torch.Tensor):
        x = obj.detach().to(torch.float64)
        return {'shape': list(x.shape), 'data': x.reshape(-1).tolist()}
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    return obj


def grads(loss, params):
    """d loss / d p for every named parameter; a parameter the loss does not use gets zeros."""
    names = list(params)
    gs = torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)
    return {n: (torch.zeros_like(params[n]) if g is None else g) for n, g in zip(names, gs)}


def tfjs_adam_step(params, gradients, lr):
    """One tf.train.adam(lr) step (beta1 0.9, beta2 0.999, eps 1e-7) -> the updated parameters."""
    ps = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
    opt = torch.optim.Adam(list(ps.values()), lr=lr, betas=(0.9, 0.999), eps=1e-7)
    for n, p in ps.items():
        p.grad = gradients[n].detach().clone()
    opt.step()
    return {n: p.detach() for n, p in ps.items()}


class TF1RmsProp:
    """tf.compat.v1.train.RMSPropOptimizer on plain tensors; one instance per variable set."""

    def __init__(self, decay, momentum, epsilon):
        self.decay, self.momentum, self.epsilon = decay, momentum, epsilon
        self.ms, self.mom = {}, {}

    def apply(self, params, gradients, lr):
        out = {}
        for n, w in params.items():
            g = gradients[n]
            ms = self.ms.get(n, torch.ones_like(w))
            mom = self.mom.get(n, torch.zeros_like(w))
            ms = self.decay * ms + (1 - self.decay) * g * g
            mom = self.momentum * mom + lr * g / torch.sqrt(ms + self.epsilon)
            self.ms[n], self.mom[n] = ms, mom
            out[n] = w - mom
        return out


class TF1Adam:
    """tf.compat.v1.train.AdamOptimizer on plain tensors; t counts this instance's steps."""

    def __init__(self, beta1, beta2, epsilon):
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.m, self.v, self.t = {}, {}, 0

    def apply(self, params, gradients, lr):
        self.t += 1
        lr_t = lr * (1 - self.beta2 ** self.t) ** 0.5 / (1 - self.beta1 ** self.t)
        out = {}
        for n, w in params.items():
            g = gradients[n]
            m = self.beta1 * self.m.get(n, torch.zeros_like(w)) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(n, torch.zeros_like(w)) + (1 - self.beta2) * g * g
            self.m[n], self.v[n] = m, v
            out[n] = w - lr_t * m / (torch.sqrt(v) + self.epsilon)
        return out

"""PyTorch twin of LocoProp's local targets and local updates (lib/nn/locoprop.ts) and of
back-propagation with the TF1 optimisers (lib/nn/autoencoder.ts, lib/nn/optimizers.ts).

Written from the paper and its reference notebook, not from our tfjs:
- Amid, Anil, Warmuth, "LocoProp: Enhancing BackProp via Local Loss Optimization",
  arXiv:2106.06199, Sec. 3, and google-research locoprop/locoprop_training.ipynb:
  * loss: sigmoid cross-entropy of the reconstruction logits, summed over pixels and
    averaged over the batch (the notebook's compute_cross_entropy_loss);
  * targets from ONE forward and backward pass: LocoProp-S  a_hat = a - gamma dL/da
    (pre-activation), LocoProp-M  y_hat = f(a) - gamma dL/da (post-activation); here dL/da
    comes from torch autograd (our tfjs writes the backward pass by hand);
  * each layer then minimises its own local objective from the inputs of that same forward
    pass: S: 1/2 ||x W + b - a_hat||^2; M: the matching loss of the transfer f, the
    Bregman divergence whose gradient in a is f(a) - y_hat, written here as the convex
    integral F(a) - y_hat a (tanh: log cosh a; relu: relu(a)^2 / 2; sigmoid: softplus a;
    linear: a^2 / 2; the notebook's tanh_loss), both plus (lambda/2) ||(W, b) - (W_t, b_t)||^2
    (the paper's proximity term; the notebook sets it to 0); the local gradient comes from
    torch autograd on that objective (the notebook writes x^T delta out by hand, as we do);
  * K local iterations, each an RMSprop step at the decayed rate lr max(1 - k/K, 0.25),
    k = 0..K-1, one optimiser per layer (the notebook's _learning_fn and optimizer_mp).
- Optimisers: twinlib.TF1RmsProp / TF1Adam (tf.compat.v1 semantics, the notebook's).
"""
import torch
import torch.nn.functional as F

import twinlib

TRANSFER = {'tanh': torch.tanh, 'relu': torch.relu, 'sigmoid': torch.sigmoid, 'linear': lambda a: a}
# F with F' = f: the convex integral that makes F(a) - y a the matching loss of f.
INTEGRAL = {
    'tanh': lambda a: torch.log(torch.cosh(a)),
    'relu': lambda a: 0.5 * torch.relu(a) ** 2,
    'sigmoid': F.softplus,
    'linear': lambda a: 0.5 * a * a,
}


def layer_params(case):
    return [(case['params'][f'autoencoder/layer{l}/w'], case['params'][f'autoencoder/layer{l}/b']) for l in range(len(case['transfers']))]


def forward(x, weights, transfers):
    inputs, pre, post = [], [], []
    h = x
    for (w, b), t in zip(weights, transfers):
        a = h @ w + b
        inputs.append(h)
        pre.append(a)
        h = TRANSFER[t](a)
        post.append(h)
    return inputs, pre, post


def reconstruction_loss(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / x.shape[0]


def locoprop(case):
    transfers, variant = case['transfers'], case['variant']
    gamma, K, floor, lam, lr = case['activationStep'], case['localIterations'], case['innerDecayFloor'], case['proximity'], case['lr']
    x = twinlib.tensor(case['x'])
    weights = [(twinlib.tensor(w, requires_grad=True), twinlib.tensor(b, requires_grad=True)) for w, b in layer_params(case)]
    inputs, pre, post = forward(x, weights, transfers)
    loss = reconstruction_loss(pre[-1], x)
    g_pre = torch.autograd.grad(loss, pre)
    targets = [((a if variant == 'S' else y) - gamma * g).detach() for a, y, g in zip(pre, post, g_pre)]
    after = {}
    for l, ((w0, b0), t, target) in enumerate(zip(weights, transfers, targets)):
        xin = inputs[l].detach()
        w0, b0 = w0.detach(), b0.detach()
        params = {'w': w0.clone(), 'b': b0.clone()}
        opt = twinlib.TF1RmsProp(**case['rmsprop'])
        for k in range(K):
            w = params['w'].clone().requires_grad_(True)
            b = params['b'].clone().requires_grad_(True)
            a = xin @ w + b
            if variant == 'S':
                local = 0.5 * ((a - target) ** 2).sum()
            else:
                local = (INTEGRAL[t](a) - target * a).sum()
            local = local + 0.5 * lam * (((w - w0) ** 2).sum() + ((b - b0) ** 2).sum())
            gw, gb = torch.autograd.grad(local, [w, b])
            params = opt.apply({'w': w.detach(), 'b': b.detach()}, {'w': gw, 'b': gb}, lr * max(1 - k / K, floor))
        after[f'autoencoder/layer{l}/w'], after[f'autoencoder/layer{l}/b'] = params['w'], params['b']
    return {'loss': loss, 'preGrads': list(g_pre), 'targets': targets, 'after': after}


def backprop(case):
    """`steps` back-propagation steps on the same batch with a TF1 optimiser."""
    transfers, lr = case['transfers'], case['lr']
    x = twinlib.tensor(case['x'])
    params = {}
    for l, (w, b) in enumerate(layer_params(case)):
        params[f'autoencoder/layer{l}/w'], params[f'autoencoder/layer{l}/b'] = twinlib.tensor(w), twinlib.tensor(b)
    opt = twinlib.TF1RmsProp(**case['rmsprop']) if case['optimizer'] == 'rmsprop' else twinlib.TF1Adam(**case['adam'])
    losses, first_grads = [], None
    for _ in range(case['steps']):
        leaf = {n: p.clone().requires_grad_(True) for n, p in params.items()}
        weights = [(leaf[f'autoencoder/layer{l}/w'], leaf[f'autoencoder/layer{l}/b']) for l in range(len(transfers))]
        _, pre, _ = forward(x, weights, transfers)
        loss = reconstruction_loss(pre[-1], x)
        g = twinlib.grads(loss, leaf)
        first_grads = first_grads or g
        losses.append(loss)
        params = opt.apply({n: p.detach() for n, p in leaf.items()}, g, lr)
    return {'losses': torch.stack(losses), 'grads': first_grads, 'after': params}


def run(case):
    return locoprop(case) if case['kind'] == 'locoprop' else backprop(case)

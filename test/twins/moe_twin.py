"""PyTorch twin of the mixture-of-experts feed-forward (lib/nn/moe.ts): expert choice, and
token choice top-1 / top-2 with capacity and drops.

Written from the papers and the routers of the official code, not from our tfjs:
- Router probabilities S = softmax(X W_g), per group of tokens (Zhou et al., "Mixture-of-
  Experts with Expert Choice Routing", arXiv:2202.09368, Eq. 1; groups as flaxformer's
  num_groups). No router bias, jitter or z-loss (our model has none).
- Expert choice: Zhou et al. Eq. 1-2: G, I = TopK(S^T, k) per expert, P = Onehot(I),
  k = capacity; output = sum over the expert's slots of G * expert(x). Auxiliary loss 0.
  (google/flaxformer routing.py, ExpertsChooseMaskedRouter, does the same.)
- Token choice (Switch Transformer, Fedus et al., arXiv:2101.03961, Sec. 2.1-2.2; top-2 as
  GShard, Lepikhin et al., arXiv:2006.16668, without GShard's random second expert, i.e.
  flaxformer's TokensChooseMaskedRouter without batch-prioritised routing): every token
  takes its top-k experts; an expert fills its `capacity` slots first with first choices
  (in token order), then with second choices; an assignment arriving at a full expert is
  dropped. Written here as the plain loop that sentence describes (our tfjs uses a
  cumulative-sum priority instead). The output weight of an assignment is its router
  probability, not renormalised (flaxformer's combine_array = router_probs * dispatch).
  Auxiliary loss: Switch Eq. 4-6, E * sum_e f_e P_e per group, mean over groups, where f_e is
  the fraction of the group's tokens with e among their choices (flaxformer
  _load_balancing_loss: a max over the k one-hots) and P_e the mean router probability.
- Capacity C = ceil(c n / E) slots per expert and group (our documented formula; every
  config we run has c n / E an integer, where it is the papers' c n / E).
- Each expert is a GEGLU feed-forward (our documented choice; the expert-choice paper's
  Eq. 2 writes a plain GELU MLP), weights gate/up [E, D, H] and down [E, H, D].
"""
import math

import torch
import torch.nn.functional as F

import twinlib


def capacity(group, experts, factor):
    return max(1, min(group, math.ceil(factor * group / experts - 1e-9)))


def route_expert_choice(probs, cap):
    """probs [G, n, E] -> dispatch 0/1 [G, n, E, cap], combine [G, n, E, cap]."""
    n = probs.shape[1]
    gate, index = torch.topk(probs.transpose(1, 2), cap, dim=-1)  # [G, E, cap]
    dispatch = F.one_hot(index, n).permute(0, 3, 1, 2).to(probs.dtype)  # [G, n, E, cap]
    return dispatch, dispatch * gate[:, None, :, :], torch.zeros(())


def route_tokens_choose(probs, k, cap):
    groups, n, e = probs.shape
    choice = torch.topk(probs, k, dim=-1).indices  # [G, n, k], best first
    dispatch = torch.zeros(groups, n, e, cap, dtype=probs.dtype)
    for g in range(groups):
        filled = [0] * e
        for j in range(k):  # all first choices before any second choice
            for t in range(n):
                expert = int(choice[g, t, j])
                if filled[expert] < cap:
                    dispatch[g, t, expert, filled[expert]] = 1.0
                    filled[expert] += 1
    chosen = F.one_hot(choice, e).amax(dim=2).to(probs.dtype)  # [G, n, E]
    f = chosen.mean(dim=1)
    p_mean = probs.mean(dim=1)
    aux = e * (f * p_mean).sum(-1).mean()
    return dispatch, dispatch * probs[..., None], aux, chosen


def experts(xin, p):
    """xin [E, m, D] -> GEGLU of each expert."""
    return (F.gelu(xin @ p['gate'], approximate='tanh') * (xin @ p['up'])) @ p['down']


def moe(x, p, cfg):
    d, e, group = cfg['width'], cfg['experts'], cfg['groupSize']
    tokens = x.reshape(-1, d)
    groups = tokens.shape[0] // group
    xg = tokens.reshape(groups, group, d)
    probs = torch.softmax(xg @ p['router'], dim=-1)
    cap = capacity(group, e, cfg['capacityFactor'])
    if cfg['router'] == 'expert-choice':
        dispatch, combine, aux = route_expert_choice(probs, cap)
        demand = torch.full((e,), float(groups * cap))
    else:
        dispatch, combine, aux, chosen = route_tokens_choose(probs, 2 if cfg['router'] == 'top2' else 1, cap)
        demand = chosen.sum(dim=(0, 1))
    xin = torch.einsum('gtec,gtd->egcd', dispatch, xg).reshape(e, groups * cap, d)
    out = experts(xin, p).reshape(e, groups, cap, d)
    y = torch.einsum('gtec,egcd->gtd', combine, out).reshape(x.shape)
    per_token = dispatch.sum(dim=(2, 3)).reshape(-1).long()
    stats = {
        'processed': dispatch.sum(dim=(0, 1, 3)),
        'demand': demand,
        'expertsPerToken': torch.bincount(per_token, minlength=e + 1).double(),
    }
    return y, aux, stats, probs


def run(case):
    cfg = case['config']
    named = twinlib.leaves(case['params'])
    prefix = case['prefix']
    p = {'router': named[f'{prefix}/router'], 'gate': named[f'{prefix}/experts/gate'], 'up': named[f'{prefix}/experts/up'], 'down': named[f'{prefix}/experts/down']}
    x = twinlib.tensor(case['x'], requires_grad=True)
    target = twinlib.tensor(case['target'])
    y, aux, stats, probs = moe(x, p, cfg)
    loss = ((y - target) ** 2).mean() + case['auxWeight'] * aux
    g = twinlib.grads(loss, {**named, 'input x': x})
    gx = g.pop('input x')
    return {'y': y, 'aux': aux, 'loss': loss, 'grads': g, 'gradX': gx, 'stats': stats,
            'after': twinlib.tfjs_adam_step(named, g, case['lr']), 'probs': probs}

"""PyTorch twin of the Matryoshka heads and loss (lib/nn/mrl.ts).

Written from the paper and its official code, not from our tfjs: Kusupati et al.,
"Matryoshka Representation Learning", arXiv:2205.13147, Sec. 3 (the loss
sum_m c_m CE(W^(m) z[:m], y) over nested sizes m), and RAIVNLab/MRL MRL.py:
- MRL_Linear_Layer, efficient=False (MRL): one nn.Linear(m, C) per nesting size m applied
  to x[:, :m]; efficient=True (MRL-E): ONE nn.Linear(D, C) whose weight[:, :m] serves size
  m, with the one shared bias added at every size.
- Matryoshka_CE_Loss: nn.CrossEntropyLoss (mean over the batch) per size, times the
  relative importance c_m, summed.
The twin uses torch.nn.Linear, whose weight is [C, in]: our [in, C] weight is transposed on
the way in, and the twin's gradient and updated weight transposed back on the way out.
"""
import torch
import torch.nn as nn

import twinlib


def build(case):
    """The head as MRL.py lays it out: one nn.Linear per size (MRL) or one shared (MRL-E)."""
    sizes, classes = case['sizes'], case['classes']
    names = case['names']  # our parameter names: [w, b] per classifier
    linears = []
    for w_name, b_name in names:
        w = twinlib.tensor(case['params'][w_name])
        lin = nn.Linear(w.shape[0], classes, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(w.t())
            lin.bias.copy_(twinlib.tensor(case['params'][b_name]))
        linears.append(lin)
    assert len(linears) == (1 if case['kind'] == 'mrl-e' else len(sizes))
    return linears


def logits_per_size(z, linears, case):
    out = []
    for i, m in enumerate(case['sizes']):
        if case['kind'] == 'mrl-e':
            lin = linears[0]
            out.append(z[:, :m] @ lin.weight[:, :m].t() + lin.bias)
        else:
            out.append(linears[i](z[:, :m]))
    return out


def run(case):
    linears = build(case)
    z = twinlib.tensor(case['z'], requires_grad=True)
    labels = twinlib.ints(case['labels'])
    logits = logits_per_size(z, linears, case)
    criterion = nn.CrossEntropyLoss()
    losses = torch.stack([criterion(l, labels) for l in logits])
    loss = (losses * torch.tensor(case['weights'], dtype=torch.float64)).sum()
    named = {}
    for (w_name, b_name), lin in zip(case['names'], linears):
        named[w_name], named[b_name] = lin.weight, lin.bias
    g = twinlib.grads(loss, {**named, 'input z': z})
    gz = g.pop('input z')
    # Back to our layout ([in, C] weights) before the optimiser step, so that it runs on the
    # same tensors ours does (Adam is element-wise: the layout does not change the step).
    ours_layout = {n: (t.t() if n.endswith('/w') else t) for n, t in named.items()}
    grads_ours = {n: (t.t() if n.endswith('/w') else t) for n, t in g.items()}
    return {'logits': torch.stack(logits, dim=1), 'loss': loss, 'sizeLosses': losses, 'gradZ': gz,
            'grads': grads_ours, 'after': twinlib.tfjs_adam_step(ours_layout, grads_ours, case['lr'])}

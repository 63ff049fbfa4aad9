"""PyTorch twin of the SGD-RER update (lib/nn/replay.ts + lib/nn/linear-system.ts) and of the
forward-SGD baselines it is compared with, on one given trajectory of x_{t+1} = A* x_t + eta_t.

Written from the paper, not from our tfjs: Jain, Kowshik, Nagaraj, Netrapalli, "Streaming
Linear System Identification with Reverse Experience Replay", arXiv:2103.05896 (SGD-RER,
its Algorithm 1 as we read it): the stream is cut into blocks of S = B + u consecutive
samples (sample j = the pair (x_j, x_{j+1})); in each block SGD runs BACKWARDS over the
first B samples (j = B-1, ..., 0 of the block) and the last u are dropped (the gap that
makes consecutive buffers nearly independent); the iterate starts at 0; the estimate is
the average of the iterates at the ends of the buffers after a tail start a. The stored
copy of the paper we could read stops after its abstract, so where the gap sits in a
block (after the buffer) is the reading our model documents, not a quotation.
Each SGD step is torch.optim.SGD on 1/2 ||A x_j - x_{j+1}||^2 with autograd's gradient
(A x - y) x^T; the paper writes the same update as 2 gamma on ||.||^2.
Forward SGD: the same step on every sample in stream order.
"""
import torch

import twinlib


def sgd_step(a, x, y, lr):
    a = a.clone().requires_grad_(True)
    opt = torch.optim.SGD([a], lr=lr)
    loss = 0.5 * ((a @ x - y) ** 2).sum()
    loss.backward()
    opt.step()
    return a.detach()


def sgd_rer(traj, buffer, gap, lr):
    """Iterates at the end of every block."""
    d = traj.shape[1]
    block = buffer + gap
    a, ends = torch.zeros(d, d), []
    for start in range(0, traj.shape[0] - 1, block):
        for j in reversed(range(start, min(start + buffer, traj.shape[0] - 1))):
            a = sgd_step(a, traj[j], traj[j + 1], lr)
        ends.append(a)
    return ends


def forward_sgd(traj, block, lr):
    """Iterates at the same block ends, every sample used in order."""
    d = traj.shape[1]
    a, ends = torch.zeros(d, d), []
    for j in range(traj.shape[0] - 1):
        a = sgd_step(a, traj[j], traj[j + 1], lr)
        if (j + 1) % block == 0:
            ends.append(a)
    return ends


def run(case):
    traj = twinlib.tensor(case['trajectory'])
    buffer, gap, tail_start = case['buffer'], case['gap'], case['tailStart']
    out = {}
    for lane in case['lanes']:
        if lane['kind'] == 'rer':
            ends = sgd_rer(traj, buffer, gap, lane['step'])
        else:
            ends = forward_sgd(traj, buffer + gap, lane['step'])
        out[lane['name']] = {'ends': torch.stack(ends), 'tailAverage': torch.stack(ends[tail_start:]).mean(dim=0)}
    return out

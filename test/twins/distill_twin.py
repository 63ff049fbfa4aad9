"""PyTorch twin of the distillation losses (lib/nn/distill-losses.ts), each put behind a
linear student (scores = x W) so that a gradient and an optimiser step exist.

Written from the papers with torch's own loss functions, not from our tfjs:
- Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531,
  Sec. 2: soft targets softmax(t / T), and the soft loss multiplied by T^2 "since the
  magnitudes of the gradients produced by the soft targets scale as 1/T^2". Here
  F.kl_div(log_softmax(s / T), softmax(t / T), reduction='batchmean') * T^2, the usual torch
  form; score distillation for rankers applies it over a query's candidates (Menon et al.,
  "In Defense of Dual-Encoders for Neural Ranking", ICML 2022, softmax distillation).
- Soft-label cross-entropy: F.cross_entropy with class-probability targets.
- Margin-MSE: Hofstaetter et al., "Improving Efficient Neural Ranking Models with
  Cross-Architecture Knowledge Distillation", arXiv:2010.02666, Eq. 1: MSE between the
  student's and the teacher's margins s(q, p+) - s(q, p-), candidate 0 the positive,
  averaged over queries and negatives (nn.MSELoss).
- Embedding matching (Kim et al., "EmbedDistill", arXiv:2301.12005, Sec. 4): squared
  distance between student and teacher embeddings of the same input, mean over rows;
  `relative` divides by the teacher's mean squared norm (our documented normalisation).
"""
import torch
import torch.nn.functional as F

import twinlib


def loss_of(case, student):
    kind = case['loss']
    teacher = twinlib.tensor(case['teacher'])
    if kind == 'kl':
        t = case['temperature']
        return F.kl_div(F.log_softmax(student / t, dim=-1), F.softmax(teacher / t, dim=-1), reduction='batchmean') * t * t
    if kind == 'soft-ce':
        return F.cross_entropy(student, F.softmax(teacher / case['temperature'], dim=-1))
    if kind == 'margin-mse':
        margins = lambda s: s[:, :1] - s[:, 1:]  # noqa: E731
        return torch.nn.MSELoss()(margins(student), margins(teacher))
    if kind in ('embed', 'embed-relative'):
        sq = F.mse_loss(student, teacher, reduction='sum') / student.shape[0]
        return sq / ((teacher ** 2).sum() / teacher.shape[0]) if kind == 'embed-relative' else sq
    raise ValueError(kind)


def run(case):
    x = twinlib.tensor(case['x'])
    p = twinlib.leaves(case['params'])
    (w,) = p.values()  # the student's one weight matrix
    student = x @ w
    loss = loss_of(case, student)
    g = twinlib.grads(loss, p)
    return {'student': student, 'loss': loss, 'grads': g, 'after': twinlib.tfjs_adam_step(p, g, case['lr'])}

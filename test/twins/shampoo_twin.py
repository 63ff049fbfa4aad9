"""PyTorch twin of Shampoo's inverse p-th roots (lib/nn/shampoo.ts, matrixInversePthRoot).

Written from the official implementation's algorithm, not from our tfjs:
google-research scalable_shampoo/pytorch/matrix_functions.py, ComputePower: the coupled
Newton iteration of Guo & Higham (SIAM J. Matrix Anal. Appl. 28(3), 2006, Eq. 3.2):
  z = (1 + p) / (2 ||G||_F);  M_0 = z G;  X_0 = z^(1/p) I;
  T_k = (1 - alpha) I + alpha M_k  (alpha = -1/p);  X_{k+1} = X_k T_k;  M_{k+1} = T_k^p M_k;
stopping when max |M - I| <= tolerance or after the iteration cap, and keeping the last
iterate whenever the error grows by more than 1.2x.
One documented difference, followed here: the official ridge is epsilon * (largest
eigenvalue, by power iteration); ours scales G to unit Frobenius norm and adds
epsilon * I, i.e. a ridge of epsilon * ||G||_F (lib/nn/shampoo.ts).
The twin runs that iteration in float64 (tolerance 1e-12), and also returns the exact root
(G + ridge)^(-1/p) from torch.linalg.eigh, the definition the iteration approximates.
"""
import torch

import twinlib


def ridged(g, ridge):
    """G / ||G||_F + ridge I, and ||G||_F."""
    norm = torch.linalg.matrix_norm(g)
    return g / norm + ridge * torch.eye(g.shape[-1]), norm


def coupled_newton(g, p, iters=100, tolerance=1e-12):
    eye = torch.eye(g.shape[-1])
    alpha = -1.0 / p
    z = (1 + p) / (2 * torch.linalg.matrix_norm(g))
    root = eye * z ** (1.0 / p)
    m = g * z
    error = torch.max(torch.abs(m - eye))
    count = 0
    while error > tolerance and count < iters:
        t = (1 - alpha) * eye + alpha * m
        new_root = root @ t
        m = torch.linalg.matrix_power(t, p) @ m
        new_error = torch.max(torch.abs(m - eye))
        if new_error > error * 1.2:
            break
        root, error = new_root, new_error
        count += 1
    return root, count


def exact(g, p):
    values, vectors = torch.linalg.eigh(g)
    return vectors @ torch.diag(values ** (-1.0 / p)) @ vectors.t()


def run(case):
    a, p, ridge = twinlib.tensor(case['a']), case['p'], case['ridge']
    newton, exact_roots, iterations = [], [], []
    for g in a:
        scaled, norm = ridged(g, ridge)
        root, count = coupled_newton(scaled, p)
        newton.append(root * norm ** (-1.0 / p))
        exact_roots.append(exact(scaled, p) * norm ** (-1.0 / p))
        iterations.append(count)
    return {'newton': torch.stack(newton), 'exact': torch.stack(exact_roots), 'iterations': iterations}

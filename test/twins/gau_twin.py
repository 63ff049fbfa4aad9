"""PyTorch twin of the GAU language models FLASH-Quad and FLASH (lib/nn/gau.ts,
lib/nn/mixed-chunk-attention.ts), causal.

Written from the paper and its reference port, not from our tfjs:
- GAU: Hua et al., "Transformer Quality in Linear Time", arXiv:2202.10447, Sec. 2 and its
  GAU pseudo-code: one dense layer with SiLU gives U, V [T, e] and Z [T, s]; Q and K
  are per-dimension scale and offset of Z (gamma, beta), RoPE on both; the kernel is
  relu(Q K^T / n)^2 (n = sequence length), O = (U * (A V)) W_o, pre-norm and residual.
  Norm: RMSNorm (our documented choice, the paper allows any), the same as transformer_twin.
- Mixed chunk attention: Sec. 3.2: chunks of C tokens; inside a chunk the
  quadratic relu^2 kernel, causal by masking; across chunks linear attention with a
  prefix sum over the previous chunks only (causal). The 1/C scales of both terms follow the
  paper's reference port lucidrains/FLASH-pytorch (flash_pytorch.py, FLASH.forward: the
  quadratic similarity and the causal linear K^T V are both divided by the group size).
  Here the chunks are a reshape [B, G, C, .], the kernels einsums and the exclusive prefix
  sum torch.cumsum minus the chunk itself (our tfjs uses a triangular matMul instead).
- Four views of Z: (quad Q, quad K, lin Q, lin K) = rows 0..3 of gamma/beta, named as
  in our model; FLASH-Quad uses rows 0..1.
"""
import torch
import torch.nn.functional as F

import twinlib
from transformer_twin import rms_norm, rope


def quadratic(q, k, v):
    """FLASH-Quad attention, causal: relu(q k^T / T)^2 on and below the diagonal."""
    t = q.shape[1]
    kernel = torch.relu(torch.einsum('bis,bjs->bij', q, k) / t) ** 2
    kernel = kernel.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), 0.0)
    return torch.einsum('bij,bje->bie', kernel, v)


def mixed_chunk(qq, kq, ql, kl, v, chunk):
    """Mixed chunk attention, causal. All inputs [B, T, .]; T a multiple of the chunk."""
    b, t, _ = qq.shape
    c = min(chunk, t)
    g = t // c

    def grouped(x):
        return x.reshape(b, g, c, x.shape[-1])

    qq, kq, ql, kl, v = map(grouped, (qq, kq, ql, kl, v))
    kernel = torch.relu(torch.einsum('bgis,bgjs->bgij', qq, kq) / c) ** 2
    kernel = kernel.masked_fill(torch.ones(c, c, dtype=torch.bool).triu(1), 0.0)
    local = torch.einsum('bgij,bgje->bgie', kernel, v)
    kv = torch.einsum('bgcs,bgce->bgse', kl, v) / c
    before = torch.cumsum(kv, dim=1) - kv  # sum over the chunks strictly before g
    glob = torch.einsum('bgcs,bgse->bgce', ql, before)
    return (local + glob).reshape(b, t, -1)


def gau(x, p, prefix, cfg):
    e, s = cfg['expansion'], cfg['qkDim']
    h = F.silu(rms_norm(x, p[f'{prefix}/norm']) @ p[f'{prefix}/uvz/w'] + p[f'{prefix}/uvz/b'])
    u, v, z = h[..., :e], h[..., e:2 * e], h[..., 2 * e:]
    gamma, beta = p[f'{prefix}/gamma'], p[f'{prefix}/beta']
    views = [rope(z * gamma[i] + beta[i]) for i in range(gamma.shape[0])]
    if cfg['attention'] == 'quadratic':
        att = quadratic(views[0], views[1], v)
    else:
        att = mixed_chunk(views[0], views[1], views[2], views[3], v, cfg['chunkSize'])
    return x + (u * att) @ p[f'{prefix}/out/w']


def lm(case):
    cfg = case['config']
    p = twinlib.leaves(case['params'])
    inputs, targets = twinlib.ints(case['inputs']), twinlib.ints(case['targets'])
    x = p['gau-lm/embedding'][inputs]
    for layer in range(cfg['depth']):
        x = gau(x, p, f'gau-lm/gau{layer}', cfg)
    logits = rms_norm(x, p['gau-lm/final-norm']) @ p['gau-lm/head/w']
    loss = F.cross_entropy(logits.reshape(-1, cfg['vocab']), targets.reshape(-1))
    g = twinlib.grads(loss, p)
    return {'logits': logits, 'loss': loss, 'grads': g, 'after': twinlib.tfjs_adam_step(p, g, case['lr'])}


def attention_only(case):
    """The attention on given inputs, and its vector-Jacobian product with a given cotangent."""
    x = twinlib.leaves(case['inputs'])
    if case['attention'] == 'quadratic':
        out = quadratic(x['quadQ'], x['quadK'], x['v'])
    else:
        out = mixed_chunk(x['quadQ'], x['quadK'], x['linQ'], x['linK'], x['v'], case['chunkSize'])
    vjp = twinlib.grads((out * twinlib.tensor(case['cotangent'])).sum(), x)
    return {'out': out, 'vjp': vjp}


def run(case):
    return lm(case) if case['kind'] == 'lm' else attention_only(case)

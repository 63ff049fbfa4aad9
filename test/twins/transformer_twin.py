"""PyTorch twin of the Transformer++ decoder LM (lib/nn/transformer.ts).

Written from the papers, not from our tfjs:
- Transformer++ is the baseline of Hua et al., "Transformer Quality in Linear Time",
  arXiv:2202.10447, Sec. 4.1: a Transformer with RoPE and a GLU feed-forward. Pre-norm with
  RMSNorm (our documented choice): Zhang & Sennrich, "Root Mean Square Layer
  Normalization", 2019, Eq. 4, learned gain, eps inside the root.
- RoPE: Su et al., "RoFormer", arXiv:2104.09864, Eq. 12 and 15, in its complex form:
  a pair of coordinates is one complex number multiplied by exp(i m theta_j),
  theta_j = 10000^(-2j/d). The pairing is the documented choice of our model
  (rotate-half: coordinate j pairs with j + d/2, as GPT-NeoX does), not RoFormer's
  adjacent pairs; the two are the same map up to a fixed permutation of q and k's coordinates.
- GLU feed-forward: Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, Eq. 6
  (GEGLU: (GELU(x W) * x V) W2). GELU is the tanh approximation (Hendrycks & Gimpel,
  arXiv:1606.08415, Sec. 2), our documented choice, here torch's approximate='tanh'.
- Attention: Vaswani et al. 2017, Eq. 1, causal by masking future keys with -inf.
Dense weights are [in, out] (x @ W, no biases), the names our ParamStore gives them.
"""
import math

import torch
import torch.nn.functional as F

import twinlib


def rms_norm(x, gain, eps=1e-6):
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * gain


def rope(x, offset=0):
    """x [..., T, d]: coordinates (j, j + d/2) form the complex number rotated by (t + offset) theta_j."""
    t, d = x.shape[-2], x.shape[-1]
    half = d // 2
    theta = 10000.0 ** (-2.0 * torch.arange(half, dtype=torch.float64) / d)
    angle = torch.arange(offset, offset + t, dtype=torch.float64)[:, None] * theta[None, :]
    z = torch.complex(x[..., :half], x[..., half:]) * torch.polar(torch.ones_like(angle), angle)
    return torch.cat([z.real, z.imag], dim=-1)


def attention(x, p, prefix, heads, causal=True):
    b, t, d = x.shape
    dh = d // heads

    def split(y):
        return y.reshape(b, t, heads, dh).transpose(1, 2)  # [B, H, T, dh]

    q = rope(split(x @ p[f'{prefix}/q/w']))
    k = rope(split(x @ p[f'{prefix}/k/w']))
    v = split(x @ p[f'{prefix}/v/w'])
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
    if causal:
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float('-inf'))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(1, 2).reshape(b, t, d) @ p[f'{prefix}/o/w']


def geglu(x, p, prefix):
    gate = F.gelu(x @ p[f'{prefix}/gate/w'], approximate='tanh')
    return (gate * (x @ p[f'{prefix}/up/w'])) @ p[f'{prefix}/down/w']


def block(x, p, prefix, heads, ffn=None):
    """Pre-norm residual block; `ffn` replaces the GEGLU (e.g. a mixture of experts)."""
    h = x + attention(rms_norm(x, p[f'{prefix}/norm1']), p, f'{prefix}/attn', heads)
    normed = rms_norm(h, p[f'{prefix}/norm2'])
    return h + (ffn(normed) if ffn else geglu(normed, p, f'{prefix}/ffn'))


def hidden_states(tokens, p, cfg, name='lm'):
    """The output of every block, [B, T, D] each."""
    x = p[f'{name}/embedding'][tokens]
    out = []
    for layer in range(cfg['depth']):
        x = block(x, p, f'{name}/block{layer}', cfg['heads'])
        out.append(x)
    return out


def head(h, p, name='lm'):
    return rms_norm(h, p[f'{name}/final-norm']) @ p[f'{name}/head/w']


def run(case):
    cfg = case['config']
    p = twinlib.leaves(case['params'])
    inputs, targets = twinlib.ints(case['inputs']), twinlib.ints(case['targets'])
    logits = head(hidden_states(inputs, p, cfg)[-1], p)
    loss = F.cross_entropy(logits.reshape(-1, cfg['vocab']), targets.reshape(-1))
    g = twinlib.grads(loss, p)
    return {'logits': logits, 'loss': loss, 'grads': g, 'after': twinlib.tfjs_adam_step(p, g, case['lr'])}

"""PyTorch twin of CALM's early-exit decoder (lib/nn/early-exit.ts): the shared head, the
per-layer training loss, and greedy decoding with early exit and its key/value fill-in.

Written from the paper and the official code, not from our tfjs:
- Schuster et al., "Confident Adaptive Language Modeling", arXiv:2207.07061, and the
  official google-research/t5x t5x/contrib/calm/models.py:
  * one output head shared by every layer; training loss = average of the per-layer
    cross-entropies with weights 1, 2, ..., L (`loss_fn`, aggregation_weights = 1);
  * confidence (`get_pred_confidence`): softmax response = top-1 minus top-2 probability
    ('softmax_diff'); state saturation = cosine between a layer's input and output
    hidden state, 0 at the first layer ('state': "always skip the first exit"); the
    early-exit classifier here is one sigmoid unit on the final-normed state (our
    parametrisation of the official two-way softmax 'meta' classifier);
  * the early-exit classifier's loss (`loss_fn_meta_cls`): label 1 where a layer's argmax
    equals the last layer's; per layer, cross-entropy weighted so that the two labels count
    equally (positive weight 1 - pos/n, negative weight 1 - neg/n), SUMMED over tokens and
    divided by one normaliser common to all layers (t5x's loss_normalizing_factor, here the
    token count n: the official loss up to that configured constant), averaged over layers
    1..L-1; a two-way softmax on logits (0, z) is our single sigmoid unit z;
  * exit at the first layer whose confidence reaches the threshold (the official loop
    runs while conf < threshold); the decayed threshold 0.9 l + 0.1 l exp(-4 t / N)
    (`position_adjusted_threshold`, position_temp 4);
  * state propagation: the skipped layers get key/value entries computed from the hidden
    state of the layer the token exited at, so that later tokens that go deeper can attend
    back (the paper's hidden-state propagation; the official code's comment: "the
    hidden-state is passed to the higher layers and let each layer compute its own
    key-value projections"). The twin follows that description: the state of the layer
    the token exited at. (In the stored official file the propagation call is handed the
    variable holding the FIRST exit segment's output, not the while-loop's last state; for
    a token exiting after the first layer the two coincide. We follow the paper.)
- The blocks are transformer_twin's Transformer++. Unlike our tfjs (a K/V cache that
  grows by concatenation, a batched causal prefill), this twin keeps, per layer and
  position, the hidden state that layer received, and recomputes every key and value from
  those states at each step; the prompt is fed one token at a time.
"""
import math

import torch
import torch.nn.functional as F

import twinlib
from transformer_twin import geglu, hidden_states, rms_norm, rope

NAME = 'calm'


def head(h, p):
    return rms_norm(h, p[f'{NAME}/final-norm']) @ p[f'{NAME}/head/w']


def training(case, p):
    cfg = case['config']
    inputs, targets = twinlib.ints(case['inputs']), twinlib.ints(case['targets'])
    hs = hidden_states(inputs, p, cfg, NAME)
    per_layer = torch.stack([F.cross_entropy(head(h, p).reshape(-1, cfg['vocab']), targets.reshape(-1)) for h in hs])
    weights = torch.arange(1, len(hs) + 1, dtype=torch.float64)
    loss = (per_layer * weights).sum() / weights.sum()
    g = twinlib.grads(loss, p)
    return {'loss': loss, 'layerLosses': per_layer, 'grads': g, 'after': twinlib.tfjs_adam_step(p, g, case['lr'])}


def classifier(case, p):
    cfg = case['config']
    inputs = twinlib.ints(case['inputs'])
    with torch.no_grad():  # the LM is frozen while the classifier trains
        hs = hidden_states(inputs, p, cfg, NAME)
        top = head(hs[-1], p).argmax(-1)
    w_name, b_name = f'{NAME}-exit-classifier/exit/w', f'{NAME}-exit-classifier/exit/b'
    params = {w_name: p[w_name], b_name: p[b_name]}
    losses, positives = [], []
    for h in hs[:-1]:
        with torch.no_grad():
            labels = (head(h, p).argmax(-1) == top).long().reshape(-1)
        n = labels.numel()
        pos = labels.sum().item()
        neg = n - pos
        weights = torch.where(labels == 1, torch.tensor(1 - pos / n), torch.tensor(1 - neg / n))
        z = (rms_norm(h, p[f'{NAME}/final-norm']) @ params[w_name] + params[b_name]).reshape(-1)
        two_way = torch.stack([torch.zeros_like(z), z], dim=-1)
        ce = F.cross_entropy(two_way, labels, reduction='none')
        losses.append((weights * ce).sum() / n)
        positives.append(pos)
    loss = torch.stack(losses).mean()
    g = twinlib.grads(loss, params)
    return {'loss': loss, 'layerLosses': torch.stack(losses), 'positives': positives, 'grads': g,
            'after': twinlib.tfjs_adam_step(params, g, case['lr'])}


class Decoder:
    """Per layer, the hidden states that layer received at positions 0, 1, ..."""

    def __init__(self, p, cfg):
        self.p, self.cfg = p, cfg
        self.received = [[] for _ in range(cfg['depth'])]

    def layer(self, l, x):
        """Feeds x [D] to layer l at the next position; returns the layer's output [D]."""
        p, prefix, heads = self.p, f'{NAME}/block{l}', self.cfg['heads']
        self.received[l].append(x)
        states = torch.stack(self.received[l])  # [pos + 1, D]
        pos, d = states.shape[0] - 1, states.shape[1]
        dh = d // heads
        h = rms_norm(states, p[f'{prefix}/norm1'])

        def heads_of(w):
            return (h @ p[f'{prefix}/attn/{w}/w']).reshape(pos + 1, heads, dh).transpose(0, 1)  # [H, pos+1, dh]

        q, k, v = rope(heads_of('q')), rope(heads_of('k')), heads_of('v')
        q = q[:, -1:, :]  # the new position attends to every position so far
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1) @ v  # [H, 1, dh]
        h2 = x + att.transpose(0, 1).reshape(d) @ p[f'{prefix}/attn/o/w']
        return h2 + geglu(rms_norm(h2, p[f'{prefix}/norm2']), p, f'{prefix}/ffn')

    def full(self, x):
        for l in range(self.cfg['depth']):
            x = self.layer(l, x)
        return x


def confidence(measure, p, layer, x_in, out):
    if measure == 'softmax':
        top2 = torch.topk(torch.softmax(head(out, p), dim=-1), 2).values
        return top2[0] - top2[1]
    if measure == 'state':
        return torch.zeros(()) if layer == 0 else torch.dot(x_in, out) / (x_in.norm() * out.norm())
    logit = rms_norm(out, p[f'{NAME}/final-norm']) @ p[f'{NAME}-exit-classifier/exit/w'] + p[f'{NAME}-exit-classifier/exit/b']
    return torch.sigmoid(logit[0])


def decode(case, p):
    cfg, depth = case['config'], case['config']['depth']
    measure, lam, n, decay = case['measure'], case['threshold'], case['maxNewTokens'], case['decay']
    dec = Decoder(p, cfg)
    emb = p[f'{NAME}/embedding']
    prompt = case['prompt']
    for token in prompt[:-1]:
        dec.full(emb[token])
    current, tokens, exits, conf_margins, argmax_margins = prompt[-1], [], [], [], []
    with torch.no_grad():
        for t in range(n):
            threshold = 0.9 * lam + 0.1 * lam * math.exp(-4 * t / n) if decay else lam
            x = emb[current]
            exit_layer = depth
            for l in range(depth):
                out = dec.layer(l, x)
                if l < depth - 1:
                    conf = float(confidence(measure, p, l, x, out))
                    conf_margins.append(abs(conf - threshold))
                    if conf >= threshold:
                        exit_layer, x = l + 1, out
                        break
                x = out
            for l in range(exit_layer, depth):  # state propagation: K/V of skipped layers from the exit state
                dec.received[l].append(x)
            logits = head(x, p)
            top2 = torch.topk(logits, 2).values
            argmax_margins.append(float(top2[0] - top2[1]))
            current = int(torch.argmax(logits))
            tokens.append(current)
            exits.append(exit_layer)
    # How far each decision was from flipping: |confidence - threshold| and the logit gap of the argmax.
    return {'tokens': tokens, 'exitLayers': exits, 'confidenceMargin': min(conf_margins) if conf_margins else None, 'argmaxMargin': min(argmax_margins)}


def run(case):
    p = twinlib.leaves(case['params'])
    return {'training': training, 'classifier': classifier, 'decode': decode}[case['kind']](case, p)

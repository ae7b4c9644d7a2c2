"""``tinylm``: a byte-level, decoder-only, pre-LayerNorm transformer language model.

Tokens are bytes (vocabulary 256).  ``x -> tok_emb(x) + pos_emb`` then ``n_layer`` blocks
``h = h + Attn(LN(h))``, ``h = h + MLP(LN(h))`` with causal multi-head attention and
a GELU MLP of width ``4 d``, then a final LayerNorm and an untied ``head`` Linear
to 256 logits.  Every matrix product with a weight is an ``nn.Linear`` (``qkv``,
``proj``, ``fc1``, ``fc2`` in each block, and ``head``), so
:func:`sim.qat.quant.quantize_model` quantizes all of them; the embeddings, the
LayerNorms, the softmax of attention (inside ``scaled_dot_product_attention``) and
the residual stream stay FP32 unless a workload option says otherwise (see
:mod:`sim.qat.workloads`).

>>> from sim.qat.tinylm import TinyLM
>>> net = TinyLM(d=160, n_layer=3, n_head=5, ctx=128)     # the pytext workload's size
>>> sum(p.numel() for p in net.parameters())
1030816
"""
from __future__ import annotations

import math

from torch import nn
from torch.nn import functional as F

__all__ = ["TinyLM", "Block"]


class Block(nn.Module):
    """One pre-LN transformer block: causal self-attention and a GELU MLP, both residual."""

    def __init__(self, d: int, n_head: int):
        super().__init__()
        if d % n_head:
            raise ValueError(f"model width d={d} must be a multiple of n_head={n_head}")
        self.n_head = n_head
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, h):
        b, t, d = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(d, dim=2)
        shape = (b, t, self.n_head, d // self.n_head)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


class TinyLM(nn.Module):
    """Byte-level decoder-only transformer; ``forward(tokens (B, T) int64) -> logits (B, T, 256)``."""

    def __init__(self, d: int = 128, n_layer: int = 2, n_head: int = 4, ctx: int = 128, vocab: int = 256):
        super().__init__()
        self.ctx = ctx
        self.tok_emb = nn.Embedding(vocab, d)
        self.pos_emb = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)
        self.apply(self._init)
        for b in self.blocks:  # GPT-2's scaled init of the residual projections
            for lin in (b.proj, b.fc2):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def embed(self, tokens):
        t = tokens.shape[1]
        if t > self.ctx:
            raise ValueError(f"sequence of {t} tokens is longer than the context of {self.ctx}")
        return self.tok_emb(tokens) + self.pos_emb.weight[:t]

    def forward(self, tokens):
        h = self.embed(tokens)
        for b in self.blocks:
            h = b(h)
        return self.head(self.ln_f(h))

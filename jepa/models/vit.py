"""Tubelet ViT encoder and JEPA predictor built from timm transformer blocks.

Tokens are flattened in (t, h, w) order over the grid (frames/tubelet,
size/patch, size/patch). Masked inputs are handled by *gathering* the kept
token indices before the blocks run, so the context encoder only pays for
what it sees (as in V-JEPA).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from timm.models.eva import EvaBlock
from timm.models.vision_transformer import Block
from torch import nn
from torch.utils.checkpoint import checkpoint

from jepa.config import ModelCfg, hierarchy_levels
from jepa.models.pos import grid_coords, rope_3d, sincos_3d


def gather_tokens(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x (B, N, D), idx (B, M) -> (B, M, D)."""
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


__all__ = ["Predictor", "VideoViT", "build_models", "gather_tokens", "hierarchy_levels"]


class TubeletEmbed(nn.Module):
    def __init__(self, cfg: ModelCfg, in_chans: int = 3):
        super().__init__()
        k = (cfg.tubelet, cfg.patch, cfg.patch)
        self.proj = nn.Conv3d(in_chans, cfg.embed_dim, kernel_size=k, stride=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, N, D)
        return self.proj(x).flatten(2).transpose(1, 2)


class _Tower(nn.Module):
    """A stack of timm blocks with one of three position schemes; shared by encoder and predictor."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float, grid: tuple[int, int, int],
                 pos_embed: str, grad_checkpointing: bool):
        super().__init__()
        self.pos_embed_kind = pos_embed
        self.head_dim = dim // heads
        self.grad_checkpointing = grad_checkpointing
        n = grid[0] * grid[1] * grid[2]
        self.register_buffer("coords", grid_coords(grid), persistent=False)
        if pos_embed == "rope":
            self.blocks = nn.ModuleList(EvaBlock(dim, heads, mlp_ratio=mlp_ratio, qkv_bias=True,
                                                 num_prefix_tokens=0, norm_layer=nn.LayerNorm)
                                        for _ in range(depth))
        else:
            self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio=mlp_ratio, qkv_bias=True) for _ in range(depth))
        if pos_embed == "sincos":
            self.register_buffer("pos", sincos_3d(grid, dim)[None], persistent=False)
        elif pos_embed == "learned":
            self.pos = nn.Parameter(torch.zeros(1, n, dim))
            nn.init.trunc_normal_(self.pos, std=0.02)
        self.norm = nn.LayerNorm(dim)

    def add_pos(self, x: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
        if self.pos_embed_kind == "rope":
            return x
        pos = self.pos.expand(x.shape[0], -1, -1)
        return x + (pos if idx is None else gather_tokens(pos, idx))

    def run(self, x: torch.Tensor, idx: torch.Tensor | None, levels: Sequence[int] = ()) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """-> (final-norm output, raw outputs of the blocks listed in `levels`)."""
        rope = None
        if self.pos_embed_kind == "rope":
            coords = self.coords[None] if idx is None else self.coords[idx]
            rope = rope_3d(coords, self.head_dim).unsqueeze(1)  # broadcast over heads
        collected = []
        for i, blk in enumerate(self.blocks):
            args = (x,) if rope is None else (x, rope)
            if self.grad_checkpointing and self.training:
                x = checkpoint(blk, *args, use_reentrant=False)
            else:
                x = blk(*args)
            if i in levels:
                collected.append(x)
        return self.norm(x), collected


class VideoViT(nn.Module):
    """Context / target encoder: tubelet embedding + transformer over (optionally) kept tokens.

    Each hierarchical level has its own learnable LayerNorm, as the released V-JEPA 2.1 encoder
    (`norms_block`); the final level's norm is the output norm, so `forward` without levels returns
    what evaluation reads.
    """

    def __init__(self, cfg: ModelCfg):
        super().__init__()
        self.cfg = cfg
        self.grid = cfg.grid
        self.embed_dim = cfg.embed_dim
        self.patch_embed = TubeletEmbed(cfg)
        self.tower = _Tower(cfg.embed_dim, cfg.depth, cfg.heads, cfg.mlp_ratio, cfg.grid, cfg.pos_embed,
                            cfg.grad_checkpointing)
        self.levels = cfg.hierarchy
        self.level_norms = nn.ModuleList(nn.LayerNorm(cfg.embed_dim) for _ in self.levels[:-1])
        _initialise(self, self.tower, cfg.init)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None,
                return_levels: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x (B, C, T, H, W); keep (B, M) token indices or None -> tokens (B, M|N, D), level list.

        The levels are the per-level norm outputs (learnable affine), shallow to deep; the last is `tokens`.
        """
        tokens = self.tower.add_pos(self.patch_embed(x), None)
        if keep is not None:
            tokens = gather_tokens(tokens, keep)
        out, raw = self.tower.run(tokens, keep, self.levels[:-1] if return_levels else ())
        if not return_levels:
            return out, []
        return out, [norm(r) for norm, r in zip(self.level_norms, raw)] + [out]


class Predictor(nn.Module):
    """Narrow transformer that fills mask tokens at target positions from the context tokens.

    As the released V-JEPA 2.1 predictor: it reads (and predicts) the concatenated hierarchical
    levels, L x D wide, through an input MLP (L*D -> D -> pred_dim, GELU) and an output projection
    pred_dim -> L*D; with one level (`predict_levels: final`) both are single linear maps. The mask
    token starts at zero. With `context=True` a second projection also maps the context tokens to
    the target width (the context loss).
    """

    def __init__(self, cfg: ModelCfg, context: bool = False):
        super().__init__()
        n_levels = len(cfg.hierarchy) if cfg.predict_levels == "all" else 1
        d = cfg.embed_dim
        self.embed = nn.Linear(d, cfg.pred_dim) if n_levels == 1 else nn.Sequential(
            nn.Linear(n_levels * d, d), nn.GELU(), nn.Linear(d, cfg.pred_dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.pred_dim))
        self.tower = _Tower(cfg.pred_dim, cfg.pred_depth, cfg.pred_heads, cfg.mlp_ratio, cfg.grid, cfg.pos_embed,
                            cfg.grad_checkpointing)
        self.proj = nn.Linear(cfg.pred_dim, cfg.target_dim)
        self.proj_context = nn.Linear(cfg.pred_dim, cfg.target_dim) if context else None
        _initialise(self, self.tower, cfg.init)

    def forward(self, z_ctx: torch.Tensor, ctx: torch.Tensor, tgt: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z_ctx (B, Nc, L*D) at indices ctx (B, Nc) -> predictions at tgt (B, Nt, L*D), and at ctx (or None)."""
        b, m = tgt.shape
        x_ctx = self.tower.add_pos(self.embed(z_ctx), ctx)
        x_tgt = self.tower.add_pos(self.mask_token.expand(b, m, -1), tgt)
        x, _ = self.tower.run(torch.cat([x_ctx, x_tgt], dim=1), torch.cat([ctx, tgt], dim=1))
        on_ctx = self.proj_context(x[:, :-m]) if self.proj_context is not None else None
        return self.proj(x[:, -m:]), on_ctx


def _init_weights(m: nn.Module, conv: bool = False) -> None:
    if isinstance(m, nn.Linear) or (conv and isinstance(m, nn.Conv3d)):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def _initialise(module: nn.Module, tower: _Tower, kind: str) -> None:
    """The released V-JEPA init (`_init_weights` + `_rescale_blocks`), or the former plain one."""
    released = kind == "released"
    module.apply(lambda m: _init_weights(m, conv=released))
    if released:
        with torch.no_grad():
            for layer, blk in enumerate(tower.blocks, start=1):
                blk.attn.proj.weight.div_(math.sqrt(2.0 * layer))
                blk.mlp.fc2.weight.div_(math.sqrt(2.0 * layer))


def build_models(cfg: ModelCfg, context: bool = False) -> tuple[VideoViT, Predictor]:
    return VideoViT(cfg), Predictor(cfg, context)

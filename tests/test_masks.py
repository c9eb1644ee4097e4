"""Masks: random, multiblock, future; motion guidance lands targets on moving content."""

from __future__ import annotations

import math

import pytest
import torch

from jepa.config import BlockSpec, GuidanceCfg, MaskCfg, ModelCfg
from jepa.masks import MaskGenerator, future, motion_map, multiblock, random_tokens

torch.set_num_threads(1)


def _components(mask: torch.Tensor) -> int:
    """Number of 6-connected components of a (T, H, W) boolean volume."""
    seen = torch.zeros_like(mask)
    n = 0
    dims = mask.shape
    for start in mask.nonzero().tolist():
        if seen[tuple(start)]:
            continue
        n += 1
        stack = [tuple(start)]
        seen[tuple(start)] = True
        while stack:
            p = stack.pop()
            for ax in range(3):
                for s in (-1, 1):
                    q = list(p)
                    q[ax] += s
                    if 0 <= q[ax] < dims[ax] and mask[tuple(q)] and not seen[tuple(q)]:
                        seen[tuple(q)] = True
                        stack.append(tuple(q))
    return n


def test_random_tokens_ratio_and_disjoint():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        pair = random_tokens(4, 64, (0.75, 0.9), g)
        n_tgt = pair.tgt.shape[1]
        assert 0.75 * 64 - 1 <= n_tgt <= 0.9 * 64 + 1
        assert pair.ctx.shape[1] + n_tgt == 64
        for c, t in zip(pair.ctx, pair.tgt):
            assert not set(c.tolist()) & set(t.tolist())


def test_single_block_is_one_box_within_the_configured_scales():
    grid = (4, 16, 16)
    spec = BlockSpec(num_blocks=1, spatial_scale=(0.1, 0.3), temporal_scale=(0.5, 1.0), aspect_ratio=(0.75, 1.5))
    g = torch.Generator().manual_seed(1)
    for _ in range(30):
        pair = multiblock(1, grid, spec, g)
        vol = torch.zeros(grid[0] * grid[1] * grid[2], dtype=torch.bool)
        vol[pair.tgt[0]] = True
        vol = vol.view(grid)
        idx = vol.nonzero()
        extent = (idx.max(0).values - idx.min(0).values + 1).tolist()
        assert math.prod(extent) == int(vol.sum())                    # a full box
        assert _components(vol) == 1
        bt, bh, bw = extent
        area = bh * bw / (grid[1] * grid[2])
        # rounding of each side to whole tokens moves the area by at most one row and one column
        slack = (bh + bw + 1) / (grid[1] * grid[2])
        assert 0.1 - slack <= area <= 0.3 + slack
        assert 0.5 * grid[0] - 0.5 <= bt <= grid[0]
        assert set(pair.ctx[0].tolist()) == set(range(vol.numel())) - set(pair.tgt[0].tolist())


@pytest.mark.parametrize("k", [1, 3, 6])
def test_block_count_and_coverage(k):
    """k small blocks: at most k boxes; coverage between one box and k boxes."""
    grid = (1, 32, 32)
    spec = BlockSpec(num_blocks=k, spatial_scale=(0.01, 0.01), aspect_ratio=(1.0, 1.0))
    g = torch.Generator().manual_seed(2)
    comps, covs = [], []
    for _ in range(20):
        pair = multiblock(1, grid, spec, g)
        vol = torch.zeros(1024, dtype=torch.bool)
        vol[pair.tgt[0]] = True
        comps.append(_components(vol.view(grid)))
        covs.append(pair.tgt.shape[1])
    box = 3 * 3                                                        # sqrt(0.01 * 1024) = 3.2 -> 3 x 3
    assert max(comps) <= k and max(covs) <= k * box and min(covs) >= box
    assert sum(c == k for c in comps) >= 10                            # usually disjoint on this grid


def test_two_generators_give_two_pairs_and_equal_counts_across_the_batch():
    model = ModelCfg(img_size=64, frames=8, patch=8, tubelet=2, embed_dim=24, depth=1, heads=2, pred_dim=24,
                     pred_depth=1, pred_heads=2)
    mask = MaskCfg(kind="multiblock", blocks=[BlockSpec(num_blocks=8, spatial_scale=(0.15, 0.15)),
                                              BlockSpec(num_blocks=2, spatial_scale=(0.7, 0.7))])
    pairs = MaskGenerator(mask, model)(torch.randn(3, 3, 8, 64, 64), torch.Generator().manual_seed(0))
    assert len(pairs) == 2
    n = model.num_tokens
    for p in pairs:
        assert p.ctx.shape[0] == p.tgt.shape[0] == 3
        assert p.tgt.shape[1] >= round(0.15 * 64) and p.ctx.shape[1] + p.tgt.shape[1] <= n
    assert pairs[1].tgt.shape[1] > pairs[0].tgt.shape[1] * 0.8        # the 0.7-scale generator covers more


def test_future_mask_context_is_the_first_half_of_time():
    grid = (4, 2, 2)
    pair = future(2, grid, torch.Generator().manual_seed(0))
    assert pair.ctx.tolist() == [list(range(8))] * 2
    assert pair.tgt.tolist() == [list(range(8, 16))] * 2
    with pytest.raises(ValueError, match="at least 2 time tokens"):
        future(1, (1, 2, 2), torch.Generator())


def moving_square_clip(batch=4, frames=8, size=32, side=8, seed=0):
    """Static textured background; one bright square moving 2 px per frame."""
    g = torch.Generator().manual_seed(seed)
    bg = 0.2 * torch.rand(batch, 3, 1, size, size, generator=g)
    x = bg.expand(batch, 3, frames, size, size).clone()
    for b in range(batch):
        oy, ox = [int(v) for v in torch.randint(0, size - side - 2 * frames, (2,), generator=g)]
        for t in range(frames):
            x[b, :, t, oy:oy + side, ox + 2 * t:ox + 2 * t + side] = 1.0
    return x


def _on_object_rate(x, model, mask, guidance, future_mode=False, draws=40):
    gen = MaskGenerator(mask, model, guidance, future_mode)
    moving = motion_map(x, model.tubelet, model.patch).flatten(1) > 0.05   # (B, N) tokens on the moving square
    g = torch.Generator().manual_seed(3)
    hits = total = 0
    for _ in range(draws):
        for pair in gen(x, g):
            hits += int(torch.gather(moving, 1, pair.tgt).sum())
            total += pair.tgt.numel()
    return hits / total


def test_motion_guided_masks_land_on_the_moving_object():
    model = ModelCfg(img_size=32, frames=8, patch=4, tubelet=2, embed_dim=24, depth=1, heads=2, pred_dim=24,
                     pred_depth=1, pred_heads=2)
    x = moving_square_clip()
    rnd = MaskCfg(kind="random", ratio=(0.2, 0.25))
    uniform = _on_object_rate(x, model, rnd, None)
    guided = _on_object_rate(x, model, rnd, GuidanceCfg(strength=2.0, random_frac=0.1))
    aggressive = _on_object_rate(x, model, rnd, GuidanceCfg(strength=5.0, random_frac=0.0))
    assert guided > uniform + 0.3 and aggressive >= guided - 0.02
    blocks = MaskCfg(kind="multiblock", blocks=[BlockSpec(num_blocks=2, spatial_scale=(0.05, 0.05),
                                                          temporal_scale=(0.5, 0.5))])
    assert _on_object_rate(x, model, blocks, GuidanceCfg(strength=2.0)) > _on_object_rate(x, model, blocks, None) + 0.2
    fut_u = _on_object_rate(x, model, rnd, None, future_mode=True)
    fut_g = _on_object_rate(x, model, rnd, GuidanceCfg(strength=2.0), future_mode=True)
    assert fut_g > fut_u + 0.3


def test_motion_map_is_zero_for_images_and_positive_on_motion():
    model_t, patch = 2, 4
    img = torch.rand(1, 3, 1, 16, 16).expand(1, 3, 8, 16, 16)
    assert motion_map(img, model_t, patch).abs().max() == 0
    x = moving_square_clip(batch=1)
    assert motion_map(x, model_t, patch).max() > 0.1

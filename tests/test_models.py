import math

import pytest
import torch

from jepa.config import ModelCfg
from jepa.models.pos import grid_coords, rope_3d, sincos_3d
from jepa.models.vit import Predictor, VideoViT, hierarchy_levels


def _cfg(pos="sincos", **kw):
    base = dict(img_size=16, frames=4, patch=8, tubelet=2, embed_dim=24, depth=4, heads=2, pred_dim=24,
                pred_depth=1, pred_heads=2, pos_embed=pos)
    return ModelCfg(**(base | kw))


def test_hierarchy_levels_match_released_code():
    assert hierarchy_levels(12) == [2, 5, 8, 11]
    assert hierarchy_levels(4) == [0, 1, 2, 3]


@pytest.mark.parametrize("pos", ["sincos", "learned", "rope"])
def test_gathering_all_tokens_equals_full_forward(pos):
    torch.manual_seed(0)
    enc = VideoViT(_cfg(pos)).eval()
    x = torch.randn(2, 3, 4, 16, 16)
    full, levels = enc(x, return_levels=True)
    n = full.shape[1]
    assert full.shape == (2, 8, 24) and len(levels) == 4
    perm = torch.stack([torch.randperm(n), torch.randperm(n)])
    part, _ = enc(x, keep=perm)
    # attention is permutation-equivariant once positions travel with their tokens
    assert torch.allclose(part, torch.gather(full, 1, perm[..., None].expand(-1, -1, 24)), atol=1e-5)


def test_positions_matter():
    """Swapping two frames changes the tokens: the encoder is not a bag of patches."""
    torch.manual_seed(0)
    for pos in ("sincos", "rope"):
        enc = VideoViT(_cfg(pos)).eval()
        x = torch.randn(1, 3, 4, 16, 16)
        a, _ = enc(x)
        b, _ = enc(x.flip(2))
        assert not torch.allclose(a.mean(1), b.mean(1), atol=1e-4), pos


def test_rope_table_shape_and_identity_at_origin():
    coords = grid_coords((2, 2, 2))
    table = rope_3d(coords, head_dim=64)
    assert table.shape == (8, 128)
    sin, cos = table.chunk(2, -1)
    assert torch.all(sin[0] == 0) and torch.all(cos[0] == 1)  # position (0,0,0) is not rotated
    assert torch.all(sin[:, 60:] == 0)  # 64 = 3 x 20 rotated + 4 untouched channels


def test_sincos_is_unique_per_position():
    table = sincos_3d((4, 3, 3), 48)
    assert table.shape == (36, 48)
    assert torch.cdist(table, table).fill_diagonal_(1).min() > 1e-3


def test_predictor_outputs_targets_only():
    cfg = _cfg(predict_levels="final")
    pred = Predictor(cfg)
    z = torch.randn(2, 3, 24)
    out, on_ctx = pred(z, torch.tensor([[0, 1, 2], [3, 4, 5]]), torch.tensor([[5, 6], [0, 7]]))
    assert out.shape == (2, 2, 24) and on_ctx is None


def test_predictor_reads_and_predicts_all_levels_as_released():
    """Released V-JEPA 2.1: input MLP L*D -> D -> pred_dim (GELU), output pred_dim -> L*D, zero mask token."""
    cfg = _cfg(pred_dim=12, pred_heads=2)
    pred = Predictor(cfg, context=True)
    assert [type(m) for m in pred.embed] == [torch.nn.Linear, torch.nn.GELU, torch.nn.Linear]
    assert (pred.embed[0].in_features, pred.embed[0].out_features, pred.embed[2].out_features) == (4 * 24, 24, 12)
    assert pred.proj.out_features == pred.proj_context.out_features == 4 * 24 == cfg.target_dim
    assert torch.count_nonzero(pred.mask_token) == 0
    out, on_ctx = pred(torch.randn(2, 3, 96), torch.tensor([[0, 1, 2], [3, 4, 5]]), torch.tensor([[5, 6], [0, 7]]))
    assert out.shape == (2, 2, 96) and on_ctx.shape == (2, 3, 96)


def test_levels_are_per_level_affine_norms_and_the_last_is_the_output():
    torch.manual_seed(0)
    enc = VideoViT(_cfg())
    assert enc.levels == [0, 1, 2, 3] and len(enc.level_norms) == 3
    with torch.no_grad():
        enc.level_norms[1].weight.fill_(2.0)
        enc.level_norms[1].bias.fill_(0.5)
    out, levels = enc(torch.randn(2, 3, 4, 16, 16), return_levels=True)
    assert torch.equal(levels[-1], out)
    # level 1 = 2 * LN(block 1 output) + 0.5: mean 0.5 and std 2 over channels
    assert torch.allclose(levels[1].mean(-1), torch.full((), 0.5), atol=1e-5)
    assert torch.allclose(levels[1].var(-1, unbiased=False), torch.full((), 4.0), atol=1e-2)


def test_levels_config():
    assert _cfg(depth=12).hierarchy == [2, 5, 8, 11] and _cfg(depth=12).target_dim == 4 * 24
    assert _cfg(depth=12, levels=[5, 11]).target_dim == 2 * 24
    assert _cfg(predict_levels="final").target_dim == 24
    for bad in ([0, 1], [3, 1, 3], []):
        with pytest.raises(ValueError, match="levels must be increasing"):
            _cfg(levels=bad)


@pytest.mark.parametrize("pos", ["sincos", "rope"])
def test_released_init_rescales_block_outputs_by_depth(pos):
    """V-JEPA's init: truncated normal 0.02 (conv included), block k's output weights / sqrt(2 k)."""
    torch.manual_seed(0)
    cfg = _cfg(pos, embed_dim=48, heads=4, pred_dim=48, pred_heads=4, depth=4, pred_depth=2)
    for module in (VideoViT(cfg), Predictor(cfg)):
        for k, blk in enumerate(module.tower.blocks, start=1):
            for w in (blk.attn.proj.weight, blk.mlp.fc2.weight):
                assert w.std().item() == pytest.approx(0.02 / math.sqrt(2 * k), rel=0.15)
    enc = VideoViT(cfg)
    assert enc.patch_embed.proj.weight.std().item() == pytest.approx(0.02, rel=0.1)
    plain = VideoViT(_cfg(pos, embed_dim=48, heads=4, pred_dim=48, pred_heads=4, init="plain"))
    stds = [blk.attn.proj.weight.std().item() for blk in plain.tower.blocks]
    assert max(stds) / min(stds) < 1.2 and plain.patch_embed.proj.weight.std().item() == pytest.approx(1 / math.sqrt(3 * 384), rel=0.1)  # torch conv default, fan-in 384

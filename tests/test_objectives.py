"""Auxiliary objectives (docs/method.md, "Variants"): hand-computed values, gradient routing, skips, heads in checkpoints."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from jepa.config import ConfigError, ModelCfg, RunConfig, VariantCfg, load_params
from jepa.masks import MaskGenerator
from jepa.objectives import OBJECTIVES, AuxContext, build_objectives
from jepa.objectives.common import hard_weights, split_channels
from jepa.objectives.heads import tubelet_pixels
from jepa.train import JEPA, _param_groups, pretrain

torch.set_num_threads(1)

CANONICAL_KEYS = {
    "mixed": "baseline mgm amg hw delta combo fwm ld fwm_ld hw_ld fwm_hw_ld spectral ltc ac ac_hw fac".split(),
    "single": ("baseline kinematic kinematic_0_1 kinematic_huber kinematic_accel kinematic_split kinematic_anneal "
               "sigreg sigreg_no_ema hamiltonian velgate mgm future_predictive motion_future").split(),
    "extra": "hw_ld_as_released fwm_hw_ld_as_released infonce pixel_recon".split(),
}
TEMPORAL = ["delta", "fwm", "ld", "spectral", "ltc", "ac", "kinematic", "velgate", "hamiltonian", "infonce"]


def make_ctx(z, h=None, valid=None, is_image=None, pred=None, target=None, tgt_idx=None, clip=None,
             progress=0.0, tubelet=2, patch=1) -> AuxContext:
    z = torch.as_tensor(z, dtype=torch.float32)
    b, t, s, _ = z.shape
    h = torch.zeros_like(z) if h is None else torch.as_tensor(h, dtype=torch.float32)
    valid = torch.ones(b, t, s, dtype=torch.bool) if valid is None else torch.as_tensor(valid, dtype=torch.bool)
    pred = torch.zeros(b, 2, 3) if pred is None else torch.as_tensor(pred, dtype=torch.float32)
    target = torch.zeros_like(pred) if target is None else torch.as_tensor(target, dtype=torch.float32)
    tgt_idx = torch.zeros(b, pred.shape[1], dtype=torch.long) if tgt_idx is None else tgt_idx
    clip = torch.zeros(b, 3, t * tubelet, 1, s) if clip is None else clip
    is_image = torch.zeros(b, dtype=torch.bool) if is_image is None else torch.as_tensor(is_image)
    return AuxContext(z=z, z_valid=valid, h=h, pred=pred, target=target, tgt_idx=tgt_idx, clip=clip,
                      is_image=is_image, progress=progress, tubelet=tubelet, patch=patch)


def run(key, ctx, dim=None, model=None, **kw):
    obj = build_objectives({key: kw}, dim or ctx.z.shape[-1], model=model)[key]
    return obj, obj(ctx)


def constant_head(head: nn.Sequential, value) -> None:
    """Make an MLP output a constant: zero last weight, bias = value."""
    with torch.no_grad():
        head[-1].weight.zero_()
        head[-1].bias.copy_(torch.as_tensor(value, dtype=torch.float32))


# ---------------------------------------------------------------- registry and params rows

def test_every_canonical_key_is_a_variant_row_and_builds():
    params = load_params()
    for regime in ("mixed", "single"):
        for key in CANONICAL_KEYS[regime]:
            assert regime in params.variants[key].regimes, (key, regime)
    for key in CANONICAL_KEYS["extra"]:
        assert key in params.variants
    assert {"delta", "hw", "fwm", "ld", "spectral", "ltc", "ac", "kinematic", "sigreg", "hamiltonian", "velgate",
            "infonce", "pixel_recon"} <= set(OBJECTIVES)
    model = params.profiles["tiny"].model
    for name, v in params.variants.items():
        build_objectives(v.terms, model.embed_dim * 4, where=f"variants.{name}.terms", model=model)


def test_unknown_argument_fails_with_path():
    with pytest.raises(ConfigError, match=r"variants.x.terms.ld: unknown argument"):
        build_objectives({"ld": {"wieght": 1.0}}, 8, where="variants.x.terms")
    for key, kw, msg in (("ld", {"positions": "both"}, "positions must be 'pairs' or 'start'"),
                         ("ld", {"hard_scope": "clip"}, "hard_scope must be 'batch' or 'sample'"),
                         ("hamiltonian", {"update_first": "h"}, "update_first must be 'q' or 'p'"),
                         ("hamiltonian", {"reduction": "sum"}, "reduction must be 'halves' or 'joint'")):
        with pytest.raises(ConfigError, match=rf"variants.x.terms.{key}: {msg}"):
            build_objectives({key: kw}, 8, where="variants.x.terms")


# ---------------------------------------------------------------- values by hand

def test_delta_by_hand():
    z = [[[[1.0], [2.0]], [[3.0], [2.0]]]]          # (B=1, T=2, S=2, D=1)
    h = [[[[0.0], [0.0]], [[1.0], [5.0]]]]
    _, out = run("delta", make_ctx(z, h), weight=0.5)
    assert out["delta"].item() == pytest.approx(0.5 * (1 + 5) / 2)   # |2-1|, |0-5|
    valid = [[[True, True], [True, False]]]                           # position 1 not seen at t+1
    _, out = run("delta", make_ctx(z, h, valid), weight=0.5)
    assert out["delta"].item() == pytest.approx(0.5 * 1)


def test_hw_by_hand():
    ctx = make_ctx(torch.zeros(1, 2, 1, 1), pred=[[[0.0], [0.0]]], target=[[[1.0], [3.0]]])
    _, out = run("hw", ctx, weight=0.3, temperature=1.0)
    w1, w2 = 2 * math.e / (math.e + math.e ** 3), 2 * math.e ** 3 / (math.e + math.e ** 3)
    assert out["hw"].item() == pytest.approx(0.3 * (w1 * 1 + w2 * 3) / 2, rel=1e-6)
    w = hard_weights(torch.tensor([[1.0, 3.0, 9.0]]), torch.tensor([[True, True, False]]))
    assert w[0, 2] == 0 and w[0, :2].sum().item() == pytest.approx(2.0)


def test_fwm_split_and_cross_covariance_by_hand():
    app = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    dyn = torch.tensor([[1.0, 1.0], [2.0, -1.0], [3.0, 0.0]])
    z = torch.cat([app, dyn], -1).view(1, 3, 1, 4)                   # T=3 tokens at one position
    a, d = split_channels(z)
    assert a.shape[-1] == d.shape[-1] == 2 and torch.equal(a.view(3, 2), app)
    _, out = run("fwm", make_ctx(z), slow_weight=0.05, xcov_weight=0.01)
    # C = [[1, -0.5], [0, 0]] -> mean(C^2) = 1.25 / 4; slowness: |app diff| = 0.5 at both pairs
    assert out["fwm_xcov"].item() == pytest.approx(0.01 * 1.25 / 4)
    assert out["fwm_slow"].item() == pytest.approx(0.05 * 0.5)
    assert split_channels(torch.zeros(6))[0].shape[-1] == 3
    assert split_channels(torch.zeros(7))[0].shape[-1] == 3             # floor(7 * 0.5), as released
    assert split_channels(torch.zeros(10), 0.33)[0].shape[-1] == 3      # floor(3.3)


def test_spectral_by_hand_and_refuses_short_clips():
    z = torch.tensor([1.0, 0.0, 0.0, 0.0]).view(1, 4, 1, 1)
    # unnormalised rFFT of [1,0,0,0] = [1, 1, 1] (released); orthonormal: [1/2, 1/2, 1/2]; w_f = [0.1, 0.55, 1.0]
    _, out = run("spectral", make_ctx(z), weight=1.0)
    assert out["spectral"].item() == pytest.approx((0.1 + 0.55 + 1.0) / 3)
    _, out = run("spectral", make_ctx(z), weight=1.0, norm="ortho")
    assert out["spectral"].item() == pytest.approx((0.1 + 0.55 + 1.0) * 0.5 / 3)
    with pytest.raises(ValueError, match="at least 4 time tokens"):
        run("spectral", make_ctx(torch.zeros(1, 3, 1, 1)))
    with pytest.raises(ValueError, match="norm must be"):
        run("spectral", make_ctx(z), norm="forward")


def test_spectral_reads_positions_seen_at_every_time_step():
    # position 0 seen at all 4 times (z = [1,0,0,0] -> error 1.65/3); position 1 seen once only (z = 2 at t=0)
    z = torch.tensor([[1.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]).view(1, 4, 2, 1)
    valid = torch.tensor([[True, True], [True, False], [True, False], [True, False]]).view(1, 4, 2)
    _, out = run("spectral", make_ctx(z, valid=valid))
    assert out["spectral"].item() == pytest.approx(1.65 / 3)                 # position 1 left out (released)
    _, out = run("spectral", make_ctx(z, valid=valid), positions="any")
    assert out["spectral"].item() == pytest.approx((1.65 / 3 + 2 * 1.65 / 3) / 2)   # zero-filled: [2,0,0,0]


def test_ltc_by_hand():
    z = torch.tensor([[1.0, 0.0], [9.0, 9.0]]).view(1, 2, 1, 2).repeat(2, 1, 1, 1)
    h = torch.stack([torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[0.0, 1.0], [1.0, 0.0]])]).view(2, 2, 1, 2)
    _, out = run("ltc", make_ctx(z, h), weight=0.5, margin=0.5)
    # sample 0: max(0, 0.5 - 1 + 0) = 0; sample 1: 0.5 - 0 + 1 = 1.5
    assert out["ltc"].item() == pytest.approx(0.5 * 1.5 / 2)


def test_infonce_by_hand():
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0]]).view(1, 2, 1, 2)
    h = torch.tensor([[3.0, 0.0], [1.0, 1.0]]).view(1, 2, 1, 2)
    _, out = run("infonce", make_ctx(z, h), temperature=0.1)
    c = 1 / math.sqrt(2)
    expected = (math.log(1 + math.exp(10 * c - 10)) + math.log(1 + math.exp(0 - 10 * c))) / 2
    assert out["infonce"].item() == pytest.approx(expected, rel=1e-5)


def test_ld_plain_and_hard_weighted_by_hand():
    z = torch.zeros(1, 2, 2, 2)
    h = torch.tensor([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [3.0, 3.0]]]).view(1, 2, 2, 2)
    obj, _ = run("ld", make_ctx(z, h))
    constant_head(obj.head, [1.0, 1.0])                               # dyn(z) = 1 -> errors 0 and 2
    assert obj(make_ctx(z, h))["ld"].item() == pytest.approx(1.0)
    obj, _ = run("ld", make_ctx(z, h), hard_weighted=True, temperature=1.0)
    constant_head(obj.head, [1.0, 1.0])
    w2 = 2 * math.e ** 2 / (1 + math.e ** 2)
    assert obj(make_ctx(z, h))["ld"].item() == pytest.approx(w2 * 2 / 2, rel=1e-6)
    dyn, _ = run("ld", make_ctx(torch.zeros(1, 2, 1, 6)), input="dyn")
    assert dyn.head[0].in_features == 3 and dyn.head[-1].out_features == 6


def test_ld_hard_weights_pool_over_the_batch():
    # two samples, one position each; dyn(z) = 0 -> errors 1 (sample 0) and 3 (sample 1)
    z = torch.zeros(2, 2, 1, 1)
    h = torch.tensor([[0.0, 1.0], [0.0, 3.0]]).view(2, 2, 1, 1)
    for scope, expected in (("batch", (2 * math.e * 1 + 2 * math.e ** 3 * 3) / (math.e + math.e ** 3) / 2),
                            ("sample", (1 + 3) / 2)):                 # one position per sample: weight 1 each
        obj, _ = run("ld", make_ctx(z, h), hard_weighted=True, temperature=1.0, hard_scope=scope)
        constant_head(obj.head, [0.0])
        assert obj(make_ctx(z, h))["ld"].item() == pytest.approx(expected, rel=1e-6), scope
    w = hard_weights(torch.tensor([[1.0], [3.0]]), torch.ones(2, 1, dtype=torch.bool), scope="batch")
    assert w.flatten().tolist() == pytest.approx([2 * math.e / (math.e + math.e ** 3), 2 * math.e ** 3 / (math.e + math.e ** 3)])


def test_ac_by_hand():
    clip = torch.zeros(1, 3, 4, 2, 2)
    clip[:, :, 2:] = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1, 1)   # tubelet 1 -> 2: RGB change (1, 2, 3)
    ctx = make_ctx(torch.zeros(1, 2, 1, 4), clip=clip, tubelet=2, patch=2)
    obj, _ = run("ac", ctx)
    constant_head(obj.head, [0.0, 0.0, 0.0])
    assert obj(ctx)["ac"].item() == pytest.approx(2.0)
    obj, _ = run("ac", ctx, input="dyn")
    assert obj.head[0].in_features == 2


class _Oscillator(nn.Module):
    def forward(self, x):
        return 0.5 * x.pow(2).sum(-1, keepdim=True)


def test_hamiltonian_symplectic_step_by_hand():
    z = torch.tensor([[1.0, 2.0], [0.0, 0.0]]).view(1, 2, 1, 2)        # q=1, p=2 at t
    h = torch.tensor([[0.0, 0.0], [1.0, 2.0]]).view(1, 2, 1, 2)        # q*=1, p*=2 at t+1
    obj, _ = run("hamiltonian", make_ctx(z, h), dt=0.1)
    obj.energy = _Oscillator()                                          # H = (q^2 + p^2) / 2
    # released, q first: q' = 1 + 0.1 * 2 = 1.2; p' = 2 - 0.1 * 1.2 = 1.88 -> |0.2| + |0.12|
    assert obj(make_ctx(z, h))["hamiltonian"].item() == pytest.approx(0.2 + 0.12, rel=1e-5)
    obj, _ = run("hamiltonian", make_ctx(z, h), dt=0.1, update_first="p", reduction="joint")
    obj.energy = _Oscillator()
    # p first: p' = 2 - 0.1 * 1 = 1.9; q' = 1 + 0.1 * 1.9 = 1.19 -> one mean over (|0.19|, |0.1|)
    assert obj(make_ctx(z, h))["hamiltonian"].item() == pytest.approx((0.19 + 0.1) / 2, rel=1e-5)
    obj, _ = run("hamiltonian", make_ctx(z, h), dt=0.1, reduction="joint")
    obj.energy = _Oscillator()
    assert obj(make_ctx(z, h))["hamiltonian"].item() == pytest.approx((0.2 + 0.12) / 2, rel=1e-5)


@pytest.mark.parametrize("key", ["ld", "ltc", "ac", "hamiltonian"])
def test_one_step_terms_need_t_and_t_plus_1_seen(key):
    ctx, z = _rich_ctx([False, False])
    # position 0 seen at every t; position 1 seen at t only (never at t+1: every other step); 2 never
    valid = torch.zeros(2, 4, 3, dtype=torch.bool)
    valid[:, :, 0] = True
    valid[:, 0::2, 1] = True
    ctx = make_ctx(ctx.z, ctx.h, valid, clip=ctx.clip, tubelet=2, patch=1)
    only_pairs = valid.clone()
    only_pairs[:, :, 1] = False
    pairs_ctx = make_ctx(ctx.z, ctx.h, only_pairs, clip=ctx.clip, tubelet=2, patch=1)
    obj, out = run(key, ctx)
    assert out[key].item() == pytest.approx(obj(pairs_ctx)[key].item(), rel=1e-5)   # position 1 ignored
    obj_start, out_start = run(key, ctx, positions="start")
    obj_start.load_state_dict(obj.state_dict())
    assert obj_start(ctx)[key].item() != pytest.approx(obj(pairs_ctx)[key].item(), rel=1e-3)


def test_kinematic_family_by_hand():
    h = torch.tensor([[0.0, 0.0], [1.0, -2.0], [1.0, 0.0]]).view(1, 3, 1, 2)
    ctx = make_ctx(torch.zeros_like(h), h)
    assert run("kinematic", ctx, weight=1.0)[1]["kinematic"].item() == pytest.approx((1.5 + 1.0) / 2)
    huber = run("kinematic", ctx, weight=0.1, loss="huber", huber_delta=0.1)[1]["kinematic"].item()
    assert huber == pytest.approx(0.1 * (0.1 * 0.95 + 0.1 * 1.95 + 0 + 0.1 * 1.95) / 4)
    assert run("kinematic", ctx, weight=0.1, order=2)[1]["kinematic"].item() == pytest.approx(0.1 * 2.5)
    assert run("kinematic", ctx, weight=0.1, order=2, channels=0.5)[1]["kinematic"].item() == pytest.approx(0.1)
    for progress, factor in ((0.0, 1.0), (0.5, 0.5), (1.0, 0.0)):
        c = make_ctx(torch.zeros_like(h), h, progress=progress)
        got = run("kinematic", c, weight=0.1, order=2, anneal=True)[1]["kinematic"].item()
        assert got == pytest.approx(0.1 * 2.5 * factor, abs=1e-7)
    # stepped per epoch (1/100 of the run): progress 0.559 is still epoch 55; epochs 0 anneals every step
    c = make_ctx(torch.zeros_like(h), h, progress=0.559)
    got = run("kinematic", c, weight=0.1, order=2, anneal=True)[1]["kinematic"].item()
    assert got == pytest.approx(0.1 * 2.5 * 0.5 * (1 + math.cos(math.pi * 0.55)), rel=1e-6)
    got = run("kinematic", c, weight=0.1, order=2, anneal=True, epochs=0)[1]["kinematic"].item()
    assert got == pytest.approx(0.1 * 2.5 * 0.5 * (1 + math.cos(math.pi * 0.559)), rel=1e-6)


def test_velgate_by_hand():
    h = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]).view(1, 2, 3, 1)   # speeds 1, 2, 3 -> median 2
    z = torch.tensor([[0.0, 0.0, 0.0], [4.0, 5.0, 6.0]]).view(1, 2, 3, 1)
    assert run("velgate", make_ctx(z, h))[1]["velgate"].item() == pytest.approx((4 + 5 + 0) / 3)


def test_sigreg_matches_numerical_epps_pulley():
    x = torch.tensor([-1.5, -0.2, 0.1, 0.4, 2.0])
    ctx = make_ctx(x.view(1, 5, 1, 1))                                 # D=1: every slice is +-x
    got = run("sigreg", ctx, slices=8)[1]["sigreg"].item()
    t = np.linspace(-3, 3, 33)                                          # same spacing as 17 points on [0, 3]
    ecf = np.exp(1j * np.outer(t, x.numpy())).mean(1)
    integrand = np.abs(ecf - np.exp(-t ** 2 / 2)) ** 2 * np.exp(-t ** 2 / 2)
    expected = 5 * np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(t))
    assert got == pytest.approx(expected, rel=1e-4)
    gauss = make_ctx(torch.randn(1, 64, 8, 16, generator=torch.Generator().manual_seed(0)))
    collapsed = make_ctx(torch.ones(1, 64, 8, 16))
    assert run("sigreg", gauss)[1]["sigreg"] < 0.1 * run("sigreg", collapsed)[1]["sigreg"]


def test_sigreg_pools_the_context_tokens_of_every_mask_pair():
    x = torch.tensor([-1.5, -0.2, 0.1, 0.4, 2.0, 0.7])
    both = make_ctx(x.view(1, 6, 1, 1))
    first, second = make_ctx(x[:3].view(1, 3, 1, 1)), make_ctx(x[3:].view(1, 3, 1, 1))
    obj, whole = run("sigreg", both, slices=8)
    assert obj.joint_pairs
    joint = obj([first, second])["sigreg"].item()
    assert joint == pytest.approx(whole["sigreg"].item(), rel=1e-5)    # one statistic over all 6 tokens
    per_pair = (obj(first)["sigreg"].item() + obj(second)["sigreg"].item()) / 2
    assert joint != pytest.approx(per_pair, rel=1e-2)                   # not the mean of two statistics
    z = torch.randn(1, 3, 1, 1, requires_grad=True)
    out = obj([make_ctx(z), make_ctx(torch.zeros(1, 2, 1, 1), valid=torch.zeros(1, 2, 1, dtype=torch.bool))])
    out["sigreg"].backward()
    assert z.grad.abs().sum() > 0


def _sigreg_rank(rank: int, world: int, init: str, x: torch.Tensor, out: str) -> None:
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        half = x.shape[0] // world
        obj = build_objectives({"sigreg": {"slices": 4}}, 1)["sigreg"]
        z = x[rank * half:(rank + 1) * half].clone().view(1, half, 1, 1).requires_grad_()
        loss = obj(make_ctx(z))["sigreg"]
        loss.backward()
        torch.save({"loss": loss.detach(), "grad": z.grad}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_sigreg_all_reduces_the_characteristic_function_under_ddp(tmp_path):
    import torch.multiprocessing as mp
    x = torch.tensor([-1.5, -0.2, 0.1, 0.4, 2.0, 0.7])
    out = str(tmp_path / "r")
    mp.spawn(_sigreg_rank, args=(2, f"file://{tmp_path / 'store'}", x, out), nprocs=2, join=True)
    single = run("sigreg", make_ctx(x.view(1, 6, 1, 1)), slices=4)[1]["sigreg"].item()
    for rank in (0, 1):
        got = torch.load(f"{out}.{rank}", weights_only=True)
        assert got["loss"].item() == pytest.approx(single, rel=1e-5)    # both ranks: the statistic of all 6


def test_pixel_recon_by_hand():
    clip = torch.tensor([1.0, 3.0]).view(1, 1, 2, 1, 1).expand(1, 3, 2, 1, 1).contiguous()
    pix = tubelet_pixels(clip, tubelet=2, patch=1)
    # two pixels per channel, unbiased std sqrt(2): (-1, 1) / sqrt(2)
    assert torch.allclose(pix, torch.tensor([-1, -1, -1, 1, 1, 1.0]).view(1, 1, 6) / math.sqrt(2), atol=1e-5)
    model = ModelCfg(img_size=2, frames=4, patch=1, tubelet=2, embed_dim=8, depth=1, heads=1, pred_dim=8,
                     pred_depth=1, pred_heads=1)
    clip = torch.randn(2, 3, 4, 2, 2)
    ctx = make_ctx(torch.zeros(2, 2, 4, 4), pred=torch.randn(2, 3, 8), tgt_idx=torch.tensor([[0, 3, 5]] * 2),
                   clip=clip, tubelet=2, patch=1)
    obj, _ = run("pixel_recon", ctx, model=model)
    constant_head(obj.decoder, torch.zeros(6))
    assert obj(ctx)["pixel_recon"].item() == pytest.approx(0.5, rel=1e-4)   # (n-1)/n with n = 2 pixels


# ---------------------------------------------------------------- skips and empty batches

def _rich_ctx(is_image, valid=None):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, 4, 3, 8, generator=g, requires_grad=True)
    h = torch.randn(2, 4, 3, 8, generator=g)
    clip = torch.randn(2, 3, 8, 1, 3, generator=g)
    return make_ctx(z, h, valid, is_image=torch.tensor(is_image), clip=clip, tubelet=2, patch=1), z


@pytest.mark.parametrize("key", TEMPORAL)
def test_temporal_terms_skip_image_clips_under_the_switch(key):
    ctx, z = _rich_ctx([True, True])
    _, out = run(key, ctx, skip_images=True)
    loss = sum(out.values())
    assert torch.isfinite(loss) and loss.item() == 0.0
    # images do not change a mixed batch's value either
    mixed, _ = _rich_ctx([False, True])
    video_only = make_ctx(mixed.z[:1], mixed.h[:1], clip=mixed.clip[:1], tubelet=2, patch=1)
    obj, out_mixed = run(key, mixed, skip_images=True)
    if key not in ("fwm", "infonce"):  # these pool over the batch; checked separately above
        out_video = obj(video_only)
        for name in out_mixed:
            assert out_mixed[name].item() == pytest.approx(out_video[name].item(), rel=1e-5), name


@pytest.mark.parametrize("key", TEMPORAL + ["sigreg"])
def test_image_clips_enter_every_term_by_default(key):
    """As released: an image clip is its frame repeated, and every auxiliary term reads it."""
    images, _ = _rich_ctx([True, True])
    as_videos, _ = _rich_ctx([False, False])
    obj, out = run(key, images)
    assert sum(out.values()).item() > 0
    for name, value in obj(as_videos).items():
        assert out[name].item() == pytest.approx(value.item(), rel=1e-6), name


def test_skip_images_must_be_a_boolean():
    with pytest.raises(ConfigError, match=r"variants.x.terms.delta.skip_images: expected true or false"):
        build_objectives({"delta": {"skip_images": "yes"}}, 8, where="variants.x.terms")


@pytest.mark.parametrize("key", TEMPORAL + ["sigreg"])
def test_no_valid_positions_gives_zero_with_grad_path(key):
    ctx, z = _rich_ctx([False, False], valid=torch.zeros(2, 4, 3, dtype=torch.bool))
    if key == "kinematic":  # reads the target on the full grid; no visibility needed
        return
    _, out = run(key, ctx)
    loss = sum(out.values())
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.isfinite(z.grad).all()


# ---------------------------------------------------------------- inside the model: gradients, features, heads

def tiny_run(name: str, variant: VariantCfg) -> RunConfig:
    params = load_params()
    prof = params.profiles["smoke"]
    model = ModelCfg(img_size=16, frames=8, patch=8, tubelet=2, embed_dim=16, depth=4, heads=2, pred_dim=16,
                     pred_depth=1, pred_heads=2)
    mask = prof.mask.model_copy(update={"ratio": (0.3, 0.4)})
    prof = prof.model_copy(update={"model": model, "mask": mask})
    return RunConfig(profile_name="test", regime=variant.regimes[0], variant_name=name, seed=0, profile=prof,
                     variant=variant)


def step(cfg: RunConfig, batch: int = 4, seed: int = 0):
    torch.manual_seed(seed)
    model = JEPA(cfg)
    target = copy.deepcopy(model.encoder).requires_grad_(False) if cfg.variant.ema else None
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, 8, 16, 16, generator=g)
    is_image = torch.zeros(batch, dtype=torch.bool)
    pairs = MaskGenerator(cfg.profile.mask, cfg.profile.model, cfg.variant.guidance, cfg.variant.future)(x, g)
    return model, target, (x, is_image, pairs)


class _Capture(nn.Module):
    def forward(self, ctx):
        self.ctx = ctx
        return {}


def test_all_variant_rows_train_and_nothing_flows_into_the_ema_target():
    for name, variant in load_params().variants.items():
        cfg = tiny_run(name, variant)
        model, target, batch = step(cfg)
        model.aux["capture"] = _Capture()
        loss, terms = model(*batch, target, 0.5)
        assert all(torch.isfinite(v) for v in terms.values()), name
        loss.backward()
        if target is not None:
            assert all(p.grad is None for p in target.parameters()), name
            assert not model.aux["capture"].ctx.h.requires_grad, name
        else:
            assert model.aux["capture"].ctx.h.requires_grad, name


def _train_heads(name: str, steps: int = 3):
    cfg = tiny_run(name, load_params().variants[name])
    model, target, batch = step(cfg)
    init = copy.deepcopy(model.aux["ld"].state_dict())
    opt = torch.optim.AdamW(_param_groups(model, 0.05), lr=1e-2)
    for _ in range(steps):
        loss, terms = model(*batch, target, 0.5)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in model.aux["ld"].parameters()]
        opt.step()
    changed = any(not torch.equal(init[k], v) for k, v in model.aux["ld"].state_dict().items())
    return terms, grads, changed


@pytest.mark.parametrize("name", ["hw_ld_as_released", "fwm_hw_ld_as_released"])
def test_as_released_ld_has_no_gradient_and_dyn_head_stays_at_init(name):
    terms, grads, changed = _train_heads(name)
    assert terms["ld"].item() > 0 and not terms["ld"].requires_grad
    assert all(g is None for g in grads) and not changed


@pytest.mark.parametrize("name", ["ld", "hw_ld", "fwm_hw_ld"])
def test_ld_trains_the_dyn_head(name):
    terms, grads, changed = _train_heads(name)
    assert terms["ld"].requires_grad
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0 and changed


def test_kinematic_with_ema_off_backpropagates_through_the_target():
    variant = load_params().variants["kinematic"]
    assert variant.ema is False
    model, target, batch = step(tiny_run("kinematic", variant))
    assert target is None
    _, terms = model(*batch, target, 0.5)
    grads = torch.autograd.grad(terms["kinematic"], list(model.encoder.parameters()), allow_unused=True)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0
    # the same term on an EMA target is a constant
    model, target, batch = step(tiny_run("kinematic", variant.model_copy(update={"ema": True})))
    assert not model(*batch, target, 0.5)[1]["kinematic"].requires_grad


def test_aux_features_switch_sets_the_feature_width():
    for feats, width in (("hierarchical", 4 * 16), ("final", 16)):
        variant = VariantCfg(regimes=["mixed"], terms={"fwm": {}}, aux_features=feats)
        model, target, batch = step(tiny_run("fwm", variant))
        assert len(model.encoder.levels) == 4
        model.aux["capture"] = _Capture()
        model(*batch, target, 0.5)
        ctx = model.aux["capture"].ctx
        assert ctx.z.shape[-1] == ctx.h.shape[-1] == width
        # unseen tokens are zero in z; seen ones are not
        assert (ctx.z[~ctx.z_valid] == 0).all() and (ctx.z[ctx.z_valid].abs().sum(-1) > 0).all()
        # each level is layer-normed on its own: every 16-channel chunk of a seen token has mean 0, var 1
        chunks = ctx.z[ctx.z_valid].view(-1, width // 16, 16)
        assert torch.allclose(chunks.mean(-1), torch.zeros(()), atol=1e-5)
        assert torch.allclose(chunks.var(-1, unbiased=False), torch.ones(()), atol=1e-3)


def test_heads_are_optimised_and_checkpointed(tmp_path):
    variant = VariantCfg(regimes=["mixed"], terms={"ld": {}, "ac": {}, "hamiltonian": {}, "pixel_recon": {}})
    cfg = tiny_run("heads", variant)
    cfg = cfg.model_copy(update={"profile": cfg.profile.model_copy(update={
        "train": cfg.profile.train.model_copy(update={"steps": 3, "checkpoint_every": 3, "warmup_steps": 0})})})
    torch.manual_seed(cfg.seed)
    init = JEPA(cfg).aux.state_dict()

    def stream():
        g = torch.Generator().manual_seed(1)
        while True:
            yield torch.randn(4, 3, 8, 16, 16, generator=g), torch.zeros(4, dtype=torch.bool)

    pretrain(cfg, tmp_path, stream_fn=lambda start, rank, world: stream(), progress=False)
    saved = torch.load(tmp_path / "last.pt", weights_only=True)["model"]
    for head in ("ld", "ac", "hamiltonian", "pixel_recon"):
        keys = [k for k in saved if k.startswith(f"aux.{head}.")]
        assert keys, head
        assert any(not torch.equal(saved[k], init[k[len("aux."):]]) for k in keys), f"{head} did not train"


def test_heads_are_in_the_optimizer_param_groups():
    variant = VariantCfg(regimes=["mixed"], terms={"ld": {}, "ac": {}, "hamiltonian": {}, "pixel_recon": {}})
    model = JEPA(tiny_run("heads", variant))
    grouped = {id(p) for g in _param_groups(model, 0.05) for p in g["params"]}
    aux = list(model.aux.parameters())
    assert aux and all(id(p) in grouped for p in aux)
    assert all(any(k.startswith(f"aux.{h}.") for k in model.state_dict()) for h in ("ld", "ac", "hamiltonian",
                                                                                    "pixel_recon"))


def test_variance_covariance_by_hand():
    from jepa.objectives.common import variance_covariance

    collapsed = torch.ones(50, 4, requires_grad=True)
    out = variance_covariance(collapsed, std_weight=2.0, cov_weight=1.0)
    assert out["vc_std"].item() == pytest.approx(2.0 * (1 - 1e-2), abs=1e-6)   # std = sqrt(0 + 1e-4)
    assert out["vc_cov"].item() == pytest.approx(0.0)
    # two perfectly correlated channels of std 3 and two constant ones
    t = torch.linspace(-1, 1, 101)
    x = torch.stack([t, t, torch.zeros_like(t), torch.zeros_like(t)], 1)
    var = t.var().item()
    x = x / var ** 0.5 * 3
    out = variance_covariance(x, std_weight=1.0, cov_weight=1.0)
    assert out["vc_std"].item() == pytest.approx(2 * (1 - 1e-2) / 4, abs=1e-5)  # only the constant pair is below 1
    assert out["vc_cov"].item() == pytest.approx(2 * 9.0 ** 2 / 4, rel=1e-5)    # C_01 = C_10 = 9
    x.requires_grad_(True)
    sum(variance_covariance(x, 1.0, 1.0).values()).backward()
    assert x.grad.abs().sum() > 0


def test_recipe_vc_terms_join_every_variant_only_when_enabled():
    for name in ("baseline", "fwm_hw_ld"):
        cfg = tiny_run(name, load_params().variants[name])
        model, target, batch = step(cfg)
        assert not {"vc_std", "vc_cov"} & set(model(*batch, target, 0.5)[1])
        train = cfg.profile.train.model_copy(update={"vc_std": 1.0, "vc_cov": 0.04})
        cfg = cfg.model_copy(update={"profile": cfg.profile.model_copy(update={"train": train})})
        model, target, batch = step(cfg)
        loss, terms = model(*batch, target, 0.5)
        assert terms["vc_std"].item() >= 0 and terms["vc_cov"].item() > 0
        assert loss.item() == pytest.approx(sum(v.item() for v in terms.values()), rel=1e-6)


def test_fwm_cross_covariance_is_fp32_under_autocast():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, 4, 8, 16, generator=g).to(torch.bfloat16)
    a, d = z.flatten(0, 2).split(8, dim=-1)
    a, d = (a - a.mean(0)).double(), (d - d.mean(0)).double()          # centred in the input dtype, as released
    expected = 0.01 * (a.T @ d / (a.shape[0] - 1)).pow(2).mean().item()
    ctx = make_ctx(torch.zeros(2, 4, 8, 16))
    ctx.z = z
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = run("fwm", ctx)[1]["fwm_xcov"]
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(expected, rel=1e-4)              # a bf16 matmul is off by ~1e-3


def _four_step_kinematic(export):
    variant = load_params().variants["kinematic"].model_copy(update={"export": export})
    cfg = tiny_run("kinematic", variant)
    return cfg.model_copy(update={"profile": cfg.profile.model_copy(update={
        "train": cfg.profile.train.model_copy(update={"steps": 4, "checkpoint_every": 2, "warmup_steps": 0})})})


def _random_stream(start):
    g = torch.Generator().manual_seed(1 + start)
    while True:
        yield torch.randn(4, 3, 8, 16, 16, generator=g), torch.zeros(4, dtype=torch.bool)


def test_ema_off_export_trained_saves_the_online_encoder(tmp_path):
    cfg = _four_step_kinematic("trained")
    torch.manual_seed(cfg.seed)
    init = copy.deepcopy(JEPA(cfg).encoder.state_dict())
    pretrain(cfg, tmp_path, stream_fn=lambda start, rank, world: _random_stream(start), progress=False, stop_after=2)
    pretrain(cfg, tmp_path, stream_fn=lambda start, rank, world: _random_stream(start), progress=False)   # resumed
    exported = torch.load(tmp_path / "encoder.pt", weights_only=True)["encoder"]
    online = {k[len("encoder."):]: v for k, v in torch.load(tmp_path / "last.pt", weights_only=True)["model"].items()
              if k.startswith("encoder.")}
    assert any(not torch.equal(online[k], init[k]) for k in init)          # the online encoder trained
    assert all(torch.equal(exported[k], online[k]) for k in init)


def test_ema_off_export_init_exports_the_init_copy_without_training(tmp_path):
    """The released EMA-off flaw: its target encoder is copied at init and never updated, and that is
    what its eval scripts load. No training step changes that copy, so export: init skips the steps and
    exports it: bit-identical to this seed's random-init floor, with one logged row at step 0."""
    from jepa.evaluate import random_encoder

    cfg = _four_step_kinematic("init")
    summary = pretrain(cfg, tmp_path, tmp_path / "live",
                       stream_fn=lambda start, rank, world: _random_stream(start), progress=False)
    exported = torch.load(tmp_path / "encoder.pt", weights_only=True)["encoder"]
    floor = random_encoder(cfg.profile.model, cfg.seed).state_dict()
    assert all(torch.equal(exported[k], floor[k]) for k in floor)
    assert not (tmp_path / "last.pt").exists()                              # no step ran, nothing to resume
    assert summary["steps"] == 0 and summary["ms_per_step"] is None
    assert summary["final_loss"] > 0 and summary["final_target_std"] > 0 and summary["collapsed"] is False
    loss_tsv = (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").read_text().splitlines()
    assert len(loss_tsv) == 2 and loss_tsv[1].split("\t")[0] == "0"       # header + the step-0 row


def test_export_init_needs_ema_off():
    with pytest.raises(ValueError, match="export: init .* only applies with ema: false"):
        VariantCfg(ema=True, export="init")


def test_as_released_ema_off_rows_train_like_their_plain_rows():
    variants = load_params().variants
    rows = [n for n, v in variants.items() if v.export == "init"]
    assert sorted(rows) == sorted(f"{n}_as_released" for n in
                                  [n for n, v in variants.items() if not v.ema and v.export == "trained"])
    for name in rows:
        plain = variants[name[:-len("_as_released")]]
        assert variants[name].terms == plain.terms and variants[name].regimes == plain.regimes, name
        assert variants[name].ema is False

"""The V-JEPA 2.1 baseline as released: hierarchical targets, the context loss, per-pair auxiliary terms."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from jepa.config import BlockSpec, MaskCfg, ModelCfg, RunConfig, VariantCfg, load_params
from jepa.context_loss import context_loss, distance_weights, nearest_target_distance, ramp_weight
from jepa.masks import MaskGenerator
from jepa.models.vit import gather_tokens
from jepa.objectives import OBJECTIVES, apply_objectives
from jepa.train import JEPA

torch.set_num_threads(1)


def _run(variant: VariantCfg | None = None, two_pairs: bool = False, **model_kw) -> RunConfig:
    prof = load_params().profiles["smoke"]
    model = ModelCfg(**(dict(img_size=16, frames=8, patch=8, tubelet=2, embed_dim=16, depth=4, heads=2, pred_dim=16,
                             pred_depth=1, pred_heads=2) | model_kw))
    mask = MaskCfg(kind="multiblock", blocks=[BlockSpec(num_blocks=1, spatial_scale=(0.25, 0.25)),
                                              BlockSpec(num_blocks=1, spatial_scale=(0.5, 0.5))]) \
        if two_pairs else prof.mask.model_copy(update={"ratio": (0.3, 0.4)})
    prof = prof.model_copy(update={"model": model, "mask": mask})
    variant = variant or VariantCfg()
    return RunConfig(profile_name="test", regime="mixed", variant_name="v", seed=0, profile=prof, variant=variant)


def _batch(cfg: RunConfig, seed: int = 0):
    torch.manual_seed(seed)
    model = JEPA(cfg)
    target = copy.deepcopy(model.encoder).requires_grad_(False) if cfg.variant.ema else None
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 8, 16, 16, generator=g)
    pairs = MaskGenerator(cfg.profile.mask, cfg.profile.model)(x, g)
    return model, target, (x, torch.zeros(4, dtype=torch.bool), pairs)


def _zero_predictor(model: JEPA) -> None:
    """Predictor outputs exactly 0 everywhere, so the L1 losses are means of |target|."""
    with torch.no_grad():
        for proj in (model.predictor.proj, model.predictor.proj_context):
            if proj is not None:
                proj.weight.zero_()
                proj.bias.zero_()


# ---------------------------------------------------------------- hierarchical target

def test_target_is_every_level_layer_normed_on_its_own():
    cfg = _run()
    model, target, (x, img, pairs) = _batch(cfg)
    with torch.no_grad():  # make the levels' affine norms differ, so a joint re-normalisation would show
        for k, norm in enumerate(target.level_norms):
            norm.weight.fill_(k + 2.0)
            norm.bias.fill_(-1.0)
    _zero_predictor(model)
    loss, terms = model(x, img, pairs, target, 0.0)
    _, levels = target(x, return_levels=True)
    assert len(levels) == 4
    h = torch.cat([F.layer_norm(v, (16,)) for v in levels], -1)  # (B, N, 64)
    expected = gather_tokens(h, pairs[0].tgt).abs().mean()
    assert terms["jepa"].item() == pytest.approx(expected.item(), rel=1e-5)
    # the released target, not one layer norm over the concatenation
    joint = F.layer_norm(torch.cat(levels, -1), (64,))
    assert not math.isclose(terms["jepa"].item(), gather_tokens(joint, pairs[0].tgt).abs().mean().item(), rel_tol=1e-3)


def test_final_level_switch_predicts_the_last_level_only():
    cfg = _run(predict_levels="final")
    model, target, (x, img, pairs) = _batch(cfg)
    assert isinstance(model.predictor.embed, nn.Linear) and model.predictor.proj.out_features == 16
    _zero_predictor(model)
    _, terms = model(x, img, pairs, target, 0.0)
    out, _ = target(x)
    expected = gather_tokens(F.layer_norm(out, (16,)), pairs[0].tgt).abs().mean()
    assert terms["jepa"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_tiny_and_paper_profiles_use_the_released_target():
    profiles = load_params().profiles
    assert profiles["paper"].model.hierarchy == [2, 5, 8, 11] and profiles["paper"].model.target_dim == 3072
    assert profiles["tiny"].model.hierarchy == [0, 1, 2, 3] and profiles["tiny"].model.predict_levels == "all"


# ---------------------------------------------------------------- context loss

def test_distance_weights_by_hand():
    grid = (2, 2, 3)  # index = 6 t + 3 h + w
    ctx = torch.tensor([[0, 2, 11], [5, 6, 7]])
    tgt = torch.tensor([[1, 9], [0, 0]])  # (0,0,1), (1,1,0); second sample: (0,0,0) only
    d = nearest_target_distance(ctx, tgt, grid)
    # (0,0,0): 1 to (0,0,1) | (0,0,2): 1 | (1,1,2): 2 to (1,1,0), sqrt(3) to (0,0,1) -> sqrt(3)
    # (0,1,2): sqrt(5) | (1,0,0): 1 | (1,0,1): sqrt(2)
    want = torch.tensor([[1.0, 1.0, 3 ** 0.5], [5 ** 0.5, 1.0, 2 ** 0.5]])
    assert torch.allclose(d, want)
    assert torch.allclose(distance_weights(ctx, tgt, grid), want.rsqrt())


def test_context_loss_by_hand():
    pred = torch.tensor([[[1.0, 3.0], [0.0, 0.0]]])
    target = torch.tensor([[[0.0, 1.0], [2.0, -2.0]]])
    w = torch.tensor([[0.5, 0.25]])
    # |err| = [[1, 2], [2, 2]] -> weighted [[0.5, 1], [0.5, 0.5]] -> mean 0.625
    assert context_loss(pred, target, w).item() == pytest.approx(0.625)
    assert context_loss(pred, target, None).item() == pytest.approx(7 / 4)


def test_ramp_matches_the_released_schedule_and_scales_with_length():
    def released(it, lam=0.5, start=15_000, end=30_000):  # Lambda_LinearWarmupHold.value
        return 0.0 if it < start else lam if it >= end else lam * (it - start) / (end - start)

    for it in (0, 14_999, 15_000, 15_001, 22_500, 29_999, 30_000):
        assert ramp_weight(it / 30_000, 0.5, (0.5, 1.0)) == pytest.approx(released(it), abs=1e-12)
    # a 1000-step profile: the same fractions of training
    assert [ramp_weight(s / 1000, 0.5, (0.5, 1.0)) for s in (499, 500, 750, 1000)] == [0.0, 0.0, 0.25, 0.5]
    train = load_params().profiles["paper"].train
    assert (train.context_weight, train.context_ramp, train.steps) == (0.5, (0.5, 1.0), 30_000)


def test_context_term_in_the_loss_by_hand():
    cfg = _run()
    model, target, (x, img, pairs) = _batch(cfg)
    _zero_predictor(model)
    pair = pairs[0]
    _, levels = target(x, return_levels=True)
    h = torch.cat([F.layer_norm(v, (16,)) for v in levels], -1)
    w = distance_weights(pair.ctx, pair.tgt, cfg.profile.model.grid)
    full = (gather_tokens(h, pair.ctx).abs() * w[..., None]).mean().item()
    for progress, lam in ((0.25, 0.0), (0.75, 0.25), (1.0, 0.5)):
        loss, terms = model(x, img, pairs, target, progress)
        assert terms["context"].item() == pytest.approx(lam * full, rel=1e-5, abs=1e-8)
        assert loss.item() == pytest.approx(sum(v.item() for v in terms.values()), rel=1e-6)
    # the context projection learns once the ramp is on
    model.zero_grad()
    model(x, img, pairs, target, 0.75)[1]["context"].backward()
    assert model.predictor.proj_context.weight.grad.abs().sum() > 0
    off = _run()
    off = off.model_copy(update={"profile": off.profile.model_copy(update={
        "train": off.profile.train.model_copy(update={"context_weight": 0.0})})})
    model, target, batch = _batch(off)
    assert model.predictor.proj_context is None and "context" not in model(*batch, target, 1.0)[1]


# ---------------------------------------------------------------- auxiliary terms over mask pairs

class _CountVisible(nn.Module):
    """A term equal to the number of visible tokens of the pair."""

    def forward(self, ctx):
        return {"n_visible": ctx.z_valid.sum().float()}


class _Joint(nn.Module):
    joint_pairs = True

    def forward(self, ctxs):
        self.seen = len(ctxs)
        return {"n_total": sum(c.z_valid.sum().float() for c in ctxs)}


def test_aux_terms_are_averaged_over_mask_pairs_and_joint_objectives_get_all_pairs():
    cfg = _run(VariantCfg(terms={"delta": {}}), two_pairs=True)
    model, target, (x, img, pairs) = _batch(cfg)
    counts = [p.ctx.numel() for p in pairs]
    assert len(pairs) == 2 and counts[0] != counts[1]
    model.aux["count"] = _CountVisible()
    model.aux["joint"] = _Joint()
    _, terms = model(x, img, pairs, target, 0.0)
    assert terms["n_visible"].item() == pytest.approx(sum(counts) / 2)
    assert model.aux["joint"].seen == 2 and terms["n_total"].item() == sum(counts)
    # the same through the dispatch alone; a term only some pairs return is averaged over those
    class Some(nn.Module):
        def forward(self, ctx):
            return {"only_big": ctx.z_valid.sum().float()} if ctx.z_valid.sum() > min(counts) else {}

    ctxs = [model._aux_context(x, img, p, (torch.zeros(4, p.ctx.shape[1], 16), [], None), torch.zeros(4, 16, 64),
                               torch.zeros(4, 16, 16), 0.0) for p in pairs]
    out = apply_objectives(nn.ModuleDict({"c": _CountVisible(), "s": Some(), "j": _Joint()}), ctxs)
    assert out["n_visible"].item() == sum(counts) / 2 and out["only_big"].item() == max(counts)
    assert out["n_total"].item() == sum(counts)


def test_function_objectives_can_declare_joint_pairs():
    from jepa.objectives.registry import _FunctionObjective

    def pooled(ctxs):
        return {"k": torch.tensor(float(len(ctxs)))}

    pooled.joint_pairs = True
    out = apply_objectives(nn.ModuleDict({"p": _FunctionObjective(pooled, 4)}), [None, None, None])
    assert out["k"].item() == 3.0


# ---------------------------------------------------------------- student features: affine norms

@pytest.mark.parametrize("aux_norm", ["affine", "plain"])
def test_aux_terms_reach_the_level_norm_gains_only_through_their_scale_when_affine(aux_norm):
    """Affine (released): a penalty can shrink the norms' gains. Plain: the features are scale-free in
    (gain, bias), so the gradient along the gains' own direction is zero."""
    cfg = _run(VariantCfg(terms={"delta": {"weight": 1.0}}, aux_norm=aux_norm))
    model, target, batch = _batch(cfg)
    terms = model(*batch, target, 0.0)[1]
    norms = list(model.encoder.level_norms) + [model.encoder.tower.norm]
    grads = torch.autograd.grad(terms["delta"], [n.weight for n in norms])
    assert all(g.abs().sum() > 0 for g in grads)
    radial = sum(float((g * n.weight.detach()).sum()) for g, n in zip(grads, norms))  # biases are 0 at init
    size = sum(float(g.norm() * n.weight.detach().norm()) for g, n in zip(grads, norms))
    if aux_norm == "affine":
        assert radial > 1e-3 * size  # shrinking every gain lowers |z[t+1] - z[t]|
    else:
        assert abs(radial) < 1e-3 * size


def test_aux_features_are_the_affine_norm_outputs():
    cfg = _run(VariantCfg(terms={"delta": {}}))
    model, target, (x, img, pairs) = _batch(cfg)
    with torch.no_grad():
        model.encoder.level_norms[0].weight.fill_(3.0)
    captured = {}

    class Capture(nn.Module):
        def forward(self, ctx):
            captured["ctx"] = ctx
            return {}

    model.aux["capture"] = Capture()
    model(x, img, pairs, target, 0.0)
    ctx = captured["ctx"]
    seen = ctx.z[ctx.z_valid].view(-1, 4, 16)
    assert torch.allclose(seen[:, 0].var(-1, unbiased=False), torch.full((), 9.0), rtol=1e-2)  # gain 3 kept
    assert torch.allclose(seen[:, 1].var(-1, unbiased=False), torch.ones(()), rtol=1e-2)


# ---------------------------------------------------------------- the vc regulariser and the ema flag

def test_vc_is_a_registered_regulariser_added_by_the_profile():
    assert "vc" in OBJECTIVES
    tiny = load_params().profiles["tiny"].train
    cfg = _run(VariantCfg(terms={"delta": {}}))
    cfg = cfg.model_copy(update={"profile": cfg.profile.model_copy(update={"train": cfg.profile.train.model_copy(
        update={"vc_std": tiny.vc_std, "vc_cov": tiny.vc_cov})})})
    model, target, (x, img, pairs) = _batch(cfg)
    assert set(model.regularisers) == {"vc"} and "vc" not in model.aux
    from jepa.objectives.common import variance_covariance

    _, terms = model(x, img, pairs, target, 0.0)
    z, _ = model.encoder(x, keep=pairs[0].ctx)
    want = variance_covariance(F.layer_norm(z, (16,)).flatten(0, 1), 1.0, 1.0)
    for k in ("vc_std", "vc_cov"):
        assert terms[k].item() == pytest.approx(want[k].item(), rel=1e-5)


def test_ema_flag_requires_the_target_encoder():
    model, target, batch = _batch(_run())
    assert model.ema
    with pytest.raises(ValueError, match="EMA is on"):
        model(*batch, None, 0.0)

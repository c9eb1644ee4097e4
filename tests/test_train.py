import pytest
import torch

from jepa.config import load_run
from jepa.train import JEPA, NonFiniteLossError, ema_at, lr_at, pretrain
from tests.helpers import random_stream


def _cfg(variant="baseline", regime="single", seed=0):
    return load_run(regime, variant, seed, profile="smoke")


def test_schedule_warmup_then_cosine():
    cfg = load_run("single", "baseline", 0, profile="tiny")
    t = cfg.profile.train
    assert lr_at(0, cfg) == pytest.approx(t.start_lr)
    assert lr_at(t.warmup_steps, cfg) == pytest.approx(t.lr)
    assert lr_at(t.steps, cfg) == pytest.approx(t.final_lr)
    assert ema_at(0, cfg) == pytest.approx(t.ema[0]) and ema_at(t.steps, cfg) == pytest.approx(t.ema[1])


def test_resume_after_crash_equals_uninterrupted_run(tmp_path):
    cfg = _cfg()
    full = pretrain(cfg, tmp_path / "full", stream_fn=random_stream(cfg), progress=False)
    # "crash" after 3 steps (a checkpoint is written every 3), then start again in the same folder
    pretrain(cfg, tmp_path / "resumed", stream_fn=random_stream(cfg), progress=False, stop_after=3)
    assert not (tmp_path / "resumed" / "encoder.pt").exists()
    resumed = pretrain(cfg, tmp_path / "resumed", stream_fn=random_stream(cfg), progress=False)
    a = torch.load(tmp_path / "full" / "encoder.pt", weights_only=True)["encoder"]
    b = torch.load(tmp_path / "resumed" / "encoder.pt", weights_only=True)["encoder"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert full["final_loss"] == resumed["final_loss"]


def test_same_seed_same_metrics_different_seed_differs(tmp_path):
    runs = [pretrain(_cfg(seed=s), tmp_path / f"r{i}", stream_fn=random_stream(_cfg(seed=s)), progress=False)
            for i, s in enumerate((0, 0, 1))]
    assert runs[0]["final_loss"] == runs[1]["final_loss"]
    assert runs[0]["final_loss"] != runs[2]["final_loss"]


def test_non_finite_loss_stops_with_variant_step_and_term(tmp_path):
    cfg = _cfg()

    def poisoned(start, rank, world):
        for i, batch in enumerate(random_stream(cfg)(start, rank, world)):
            x, img = batch
            if start + i == 4:
                x = x.clone()
                x[0, 0, 0, 0, 0] = float("nan")
            yield x, img

    with pytest.raises(NonFiniteLossError, match=r"variant 'baseline'.*step 4: loss term 'jepa'") as err:
        pretrain(cfg, tmp_path / "run", stream_fn=poisoned, progress=False)
    assert "last.pt" in str(err.value)
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert state["step"] == 3  # the last good checkpoint survives


def test_gradients_reach_encoder_and_predictor_not_ema_target():
    cfg = _cfg()
    model = JEPA(cfg)
    target = __import__("copy").deepcopy(model.encoder).requires_grad_(False)
    x, img = next(random_stream(cfg)(0, 0, 1))
    from jepa.masks import MaskGenerator

    pairs = MaskGenerator(cfg.profile.mask, cfg.profile.model)(x, torch.Generator().manual_seed(0))
    loss, terms = model(x, img, pairs, target, 0.0)
    loss.backward()
    assert set(terms) == {"jepa", "context"}
    assert terms["context"].item() == 0.0  # the context loss's ramp starts half-way through training
    assert all(p.grad is not None for p in model.predictor.parameters())
    assert model.encoder.patch_embed.proj.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in target.parameters())

"""Supervised ceilings: the usability rule and that end-to-end training learns an easy task (smoke model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa import ceiling
from jepa.config import profile_cfg


def test_usable_rule_uses_the_higher_floor_and_the_right_margin():
    assert ceiling.usable(75.0, [50.0, 55.0])            # 20 pp over the higher floor
    assert not ceiling.usable(74.9, [50.0, 55.0])
    assert not ceiling.usable(40.0, [20.0, 26.0], fewshot=True)  # few-shot margin 15 pp: 14 pp short
    assert ceiling.usable(41.0, [20.0, 26.0], fewshot=True)
    assert ceiling.usable(75.0, [55.0, float("nan")])    # a floor that was not measured is ignored
    assert not ceiling.usable(99.0, [float("nan")])      # no floor at all: not shown usable


def test_lr_warms_up_then_decays_to_zero():
    cfg = ceiling.CeilingCfg(steps=10, warmup_steps=2)
    factors = [ceiling._lr_factor(s, cfg) for s in range(10)]
    assert factors[:2] == [0.5, 1.0] and factors[2] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[2:], factors[3:])) and ceiling._lr_factor(10, cfg) == pytest.approx(0.0)


def _brightness_classes(n: int):
    """(smoke model config, n uint8 clips, labels): two classes that differ in overall brightness."""
    torch.set_num_threads(1)
    m = profile_cfg("smoke")[1].model
    labels = np.arange(n) % 2
    noise = np.random.default_rng(0).integers(0, 60, (n, m.frames, m.img_size, m.img_size, 3))
    return m, (noise + 150 * labels[:, None, None, None, None]).astype(np.uint8), labels


def test_supervised_training_learns_brightness_classes():
    """Two classes that differ in overall brightness: a few dozen steps fit them and the val clips follow."""
    m, videos, labels = _brightness_classes(48)
    cfg = ceiling.CeilingCfg(steps=40, batch_size=16, warmup_steps=4, heads=2)
    model, losses = ceiling.train_supervised(videos[:32], labels[:32], 2, m, "linear", cfg, seed=0)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert ceiling.accuracy(model, videos[32:], labels[32:]) == 1.0
    assert ceiling.frozen_tokens(model, videos[:3]).shape == (3, m.num_tokens, m.embed_dim)


def test_head_only_steps_leave_the_encoder_at_its_init_then_fine_tuning_moves_it():
    """LP-FT: during head_only_steps only the head learns (the encoder stays bit-equal to its init), after them
    the whole model trains; encoder_lr_scale 0 keeps the encoder frozen throughout."""
    m, videos, labels = _brightness_classes(32)
    torch.manual_seed(0)
    init = {k: v.clone() for k, v in ceiling.Supervised(m, "linear", 2, 2).encoder.state_dict().items()}

    def encoder_moved(**kw):
        cfg = ceiling.CeilingCfg(batch_size=16, warmup_steps=2, heads=2, **kw)
        model, losses = ceiling.train_supervised(videos, labels, 2, m, "linear", cfg, seed=0)
        state = model.encoder.state_dict()
        return any(not torch.equal(state[k], init[k]) for k in init), losses

    moved, losses = encoder_moved(steps=8, head_only_steps=8)
    assert not moved and losses[-1] < losses[0]          # the head alone learned
    assert not encoder_moved(steps=8, encoder_lr_scale=0.0)[0]
    assert encoder_moved(steps=8, head_only_steps=4)[0]  # fine-tuning after the head-only steps


def test_standardized_head_reads_channels_z_scored_like_the_frozen_probes():
    """standardize: the head sees every token channel at zero mean and unit variance over the batch's tokens
    (what evaluate._standardize does with the probe's training set); off, the layer-normed tokens as they are."""
    _, smoke = profile_cfg("smoke")
    m = smoke.model
    torch.manual_seed(0)
    model = ceiling.Supervised(m, "attentive", 2, 2, standardize=True).train()
    x = torch.randn(8, 3, m.frames, m.img_size, m.img_size)
    tokens = model.tokens(x).reshape(-1, m.embed_dim)
    assert torch.allclose(tokens.mean(0), torch.zeros(m.embed_dim), atol=1e-5)
    assert torch.allclose(tokens.var(0, unbiased=False), torch.ones(m.embed_dim), atol=1e-3)
    plain = ceiling.Supervised(m, "attentive", 2, 2).train().tokens(x).reshape(-1, m.embed_dim)
    assert not torch.allclose(plain.var(0, unbiased=False), torch.ones(m.embed_dim), atol=1e-2)


def test_augmentation_moves_every_frame_of_a_clip_alike_and_keeps_the_arrow_of_time():
    """`roll` shifts each clip's frames by one shared offset on the wrapped canvas; `isometry` also rotates and flips
    them alike; neither reorders frames, so a clip and its reversal stay reversals of each other."""
    from jepa.ceiling import augment_clips

    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, size=(6, 4, 8, 8, 3), dtype=np.uint8)
    assert augment_clips(clips, "none", rng) is clips
    for kind in ("roll", "isometry"):
        out = augment_clips(clips, kind, np.random.default_rng(1))
        assert out.shape == clips.shape and not np.array_equal(out, clips)
        again = augment_clips(clips, kind, np.random.default_rng(1))
        np.testing.assert_array_equal(out, again)                          # the draw decides, nothing else
        reversed_out = augment_clips(clips[:, ::-1], kind, np.random.default_rng(1))
        np.testing.assert_array_equal(reversed_out, out[:, ::-1])          # frame order untouched
        for clip, moved in zip(clips, out):                                 # one spatial map for all frames
            maps = [(c, k) for c in (clip, clip[:, :, ::-1]) for k in range(4)] if kind == "isometry" else [(clip, 0)]
            assert any(np.array_equal(moved, np.roll(np.rot90(c, k, axes=(1, 2)), (dy, dx), axis=(1, 2)))
                       for c, k in maps for dy in range(8) for dx in range(8))

"""Tests of the procedural synthetic video (jepa.data.synthetic): API, the paper's synthetic
motion spec, and the validity of every evaluation analogue (docs/method.md, "Synthetic analogues").

Near-chance tolerance: accuracies are measured on n_test held-out clips; a probe with no
information has accuracy ~ Binomial(n_test, 1/K) / n_test, whose standard deviation is at
most 0.5 / sqrt(n_test) = 0.04 at n_test = 160. The bound chance + 0.15 is > 3.7 standard
deviations, so a blind probe fails it with probability < 1e-4, while a leak of the size seen
before (pixel-linear 0.91-0.98 on binary tasks) fails it by far.
"""

from __future__ import annotations


import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from jepa.data import synthetic as S
from jepa.data.synthetic.evalsets import NATIVE_SIZE, SYNTHETIC_MOTION_DIRECTIONS

N_TRAIN, N_TEST = 240, 160
NEAR_CHANCE = 0.15


def linear_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                 c: float = 0.1) -> float:
    """L2 logistic regression on standardised features; test accuracy.

    With more features than clips (raw pixels) it is fitted in the span of the training
    clips: the L2 solution lies in that span (representer theorem), so this is the same
    probe as on all pixels, only fast."""
    with threadpool_limits(1):  # the machine is shared: one BLAS thread avoids oversubscription stalls
        return _linear_probe(x_train, y_train, x_test, y_test, c)


def _linear_probe(x_train, y_train, x_test, y_test, c):
    scaler = StandardScaler().fit(x_train)
    a, b = scaler.transform(x_train), scaler.transform(x_test)
    if a.shape[1] > a.shape[0]:
        _, _, vt = np.linalg.svd(a, full_matrices=False)
        a, b = a @ vt.T, b @ vt.T
    model = LogisticRegression(C=c, max_iter=200, tol=1e-3).fit(a, y_train)
    return float(model.score(b, y_test))


def pixels(videos: np.ndarray) -> np.ndarray:
    return videos.reshape(len(videos), -1).astype(np.float32) / 255


def shuffle_frames(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([clip[rng.permutation(len(clip))] for clip in x])


def random_frame(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return x[np.arange(len(x)), rng.integers(0, x.shape[1], len(x))]


@pytest.fixture(scope="module")
def splits():
    """Train / held-out test sets of every analogue (different seeds)."""
    return {task: (S.make_eval_set(task, N_TRAIN, seed=11), S.make_eval_set(task, N_TEST, seed=12))
            for task in S.EVAL_TASKS}


# --------------------------------------------------------------------------- API
@pytest.mark.parametrize("task", S.EVAL_TASKS)
def test_eval_set_shapes_dtypes_balance(task):
    clips = S.make_eval_set(task, 48, seed=0)
    k = len(clips.class_names)
    assert clips.videos.shape == (48, 8, 32, 32, 3) and clips.videos.dtype == np.uint8
    assert clips.labels.dtype == np.int64 and clips.latents.dtype == np.float32
    assert clips.latents.shape[:2] == (48, 8) and clips.task == task
    np.testing.assert_array_equal(clips.labels, np.arange(48) % k)
    counts = np.bincount(clips.labels, minlength=k)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("task", S.EVAL_TASKS)
def test_eval_set_deterministic(task):
    a, b, c = (S.make_eval_set(task, 16, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.videos, b.videos)
    np.testing.assert_array_equal(a.latents, b.latents)
    assert not np.array_equal(a.videos, c.videos)


def test_larger_profile_shapes():
    clips = S.make_eval_set("temporal", 4, seed=0, frames=16, size=64)
    assert clips.videos.shape == (4, 16, 64, 64, 3)
    v, img = S.sample_regime("mixed", 6, np.random.default_rng(0), frames=16, size=64)
    assert v.shape == (6, 16, 64, 64, 3) and img.dtype == bool


def test_clipset_save_load_roundtrip(tmp_path):
    clips = S.make_eval_set("motion", 8, seed=0)
    path = tmp_path / "sub" / "motion.npz"
    clips.save(path)
    back = S.ClipSet.load(path)
    np.testing.assert_array_equal(back.videos, clips.videos)
    np.testing.assert_array_equal(back.labels, clips.labels)
    np.testing.assert_array_equal(back.latents, clips.latents)
    assert back.class_names == clips.class_names and back.task == clips.task
    assert [p.name for p in path.parent.iterdir()] == ["motion.npz"]  # no temporary file left behind


# --------------------------------------------------------------------------- synthetic motion (docs/method.md, "Evaluation protocol")
def test_synthetic_motion_follows_the_paper_spec():
    clips = S.make_eval_set("synthetic_motion", 24, seed=5, size=NATIVE_SIZE)
    assert clips.class_names == ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    np.testing.assert_array_equal(clips.labels, np.arange(24) % 8)
    v = clips.videos.astype(np.int32)
    assert v.shape == (24, 8, NATIVE_SIZE, NATIVE_SIZE, 3)
    on = v.max(axis=-1) >= 120                                     # disc pixels; background + noise <= 110
    radius = clips.latents[:, 0, 2]
    assert radius.min() >= 10 and radius.max() <= NATIVE_SIZE // 4
    area = on.sum(axis=(2, 3)) / np.pi
    np.testing.assert_allclose(np.sqrt(area), np.broadcast_to(radius[:, None], area.shape), atol=0.6)   # measured radius
    assert v[~on].max() <= 80 + 30                                   # dark background + grey noise
    assert v[on].min() >= 120 and v.max() <= 255                     # disc value range
    # centroid displacement (circular mean: the canvas wraps) matches the class velocity
    theta = 2 * np.pi * (np.arange(NATIVE_SIZE) + 0.5) / NATIVE_SIZE
    def centroid(axis_weights):
        s = (axis_weights * np.sin(theta)).sum(-1)
        c = (axis_weights * np.cos(theta)).sum(-1)
        return np.arctan2(s, c) * NATIVE_SIZE / (2 * np.pi)
    cx, cy = centroid(on.sum(axis=2)), centroid(on.sum(axis=3))
    step = lambda p: (np.diff(p, axis=1) + NATIVE_SIZE / 2) % NATIVE_SIZE - NATIVE_SIZE / 2  # noqa: E731
    velocity = np.array(list(SYNTHETIC_MOTION_DIRECTIONS.values()))[clips.labels]
    np.testing.assert_allclose(step(cx), np.broadcast_to(velocity[:, None, 0], (24, 7)), atol=1.0)
    np.testing.assert_allclose(step(cy), np.broadcast_to(velocity[:, None, 1], (24, 7)), atol=1.0)


def test_synthetic_motion_downscale_is_area_average():
    native = S.make_eval_set("synthetic_motion", 4, seed=9, size=NATIVE_SIZE).videos.astype(np.float64)
    small = S.make_eval_set("synthetic_motion", 4, seed=9, size=32).videos.astype(np.float64)
    pooled = native.reshape(4, 8, 32, 5, 32, 5, 3).mean(axis=(3, 5))
    assert np.abs(pooled - small).max() <= 0.5 + 1e-9


# --------------------------------------------------------------------------- validity (docs/method.md, "Synthetic analogues")
@pytest.mark.parametrize("task", S.EVAL_TASKS)
def test_oracle_solves_every_analogue(splits, task):
    train, test = splits[task]
    acc = linear_probe(S.oracle_features(train.latents), train.labels, S.oracle_features(test.latents), test.labels)
    assert acc > 0.9, f"{task}: oracle accuracy {acc:.3f}"


def test_appearance_is_constant_over_frames(splits):
    train, _ = splits["appearance"]
    assert (train.videos == train.videos[:, :1]).all()


def test_temporal_order_blind_models_are_near_chance(splits):
    train, test = splits["temporal"]
    chance = 1 / len(train.class_names)
    floors = {
        "pixel-linear": linear_probe(pixels(train.videos), train.labels, pixels(test.videos), test.labels),
        "pixel-frame-shuffled": linear_probe(pixels(shuffle_frames(train.videos, 0)), train.labels,
                                             pixels(shuffle_frames(test.videos, 1)), test.labels),
        # the strongest blind model: the oracle's own features with the frame order destroyed
        "oracle-frame-shuffled": linear_probe(S.oracle_features(shuffle_frames(train.latents, 2)), train.labels,
                                              S.oracle_features(shuffle_frames(test.latents, 3)), test.labels),
        "oracle-first-frame": linear_probe(train.latents[:, 0], train.labels, test.latents[:, 0], test.labels),
    }
    leaks = {k: round(v, 3) for k, v in floors.items() if v >= chance + NEAR_CHANCE}
    assert not leaks, f"temporal shortcuts: {leaks} (chance {chance})"


def test_temporal_classes_are_exact_time_reversals():
    """Same seed, labels forced: class 1 is class 0 played backwards (bag of frames identical)."""
    from jepa.data.synthetic.evalsets import _temporal
    fwd = _temporal(6, np.random.default_rng(0), 8, 32, labels=np.zeros(6, np.int64))
    bwd = _temporal(6, np.random.default_rng(0), 8, 32, labels=np.ones(6, np.int64))
    # identical up to the per-frame sensor noise, which is drawn independently per frame
    diff = np.abs(fwd.videos[:, ::-1].astype(int) - bwd.videos.astype(int))
    assert np.median(diff) <= 8 and np.mean(diff) < 8


@pytest.mark.parametrize("task", ["motion", "synthetic_motion"])
def test_motion_single_frame_is_near_chance(splits, task):
    train, test = splits[task]
    chance = 1 / len(train.class_names)
    floors = {
        "pixel-random-frame": linear_probe(pixels(random_frame(train.videos, 0)), train.labels,
                                           pixels(random_frame(test.videos, 1)), test.labels),
        "latent-first-frame": linear_probe(np.concatenate([np.cos(2 * np.pi * train.latents[:, 0]),
                                                           np.sin(2 * np.pi * train.latents[:, 0])], 1),
                                           train.labels,
                                           np.concatenate([np.cos(2 * np.pi * test.latents[:, 0]),
                                                           np.sin(2 * np.pi * test.latents[:, 0])], 1),
                                           test.labels),
    }
    leaks = {k: round(v, 3) for k, v in floors.items() if v >= chance + NEAR_CHANCE}
    assert not leaks, f"{task} single-frame shortcuts: {leaks} (chance {chance:.3f})"


def test_probe_can_detect_a_leak():
    """The floor checks can fail: a temporal set whose first frame marks the class is caught."""
    train = S.make_eval_set("temporal", N_TRAIN, seed=11)
    test = S.make_eval_set("temporal", N_TEST, seed=12)
    for clips in (train, test):
        clips.videos[clips.labels == 1, 0, :4, :4] = 255          # a corner mark on class 1 only
    acc = linear_probe(pixels(train.videos[:, 0]), train.labels, pixels(test.videos[:, 0]), test.labels)
    assert acc >= 0.5 + NEAR_CHANCE


# --------------------------------------------------------------------------- sources, regimes, few-shot
@pytest.mark.parametrize("name", ["ucf_like", "ssv2_like", "image_like"])
def test_sources_sample(name):
    src = S.make_source(name)
    videos, ids = src.sample(10, np.random.default_rng(0))
    assert videos.shape == (10, 8, 32, 32, 3) and videos.dtype == np.uint8 and ids.dtype == np.int64
    assert ids.min() >= 0 and ids.max() < len(src.class_names)
    moving = (videos != videos[:, :1]).any(axis=(1, 2, 3, 4))
    assert (not moving.any()) if src.is_image else moving.mean() > 0.5
    again, _ = src.sample(10, np.random.default_rng(0))
    np.testing.assert_array_equal(videos, again)


def test_regime_mixture():
    """Generation speed is measured by benchmarks/synthetic.py, not asserted here (the machine is shared)."""
    rng = np.random.default_rng(0)
    videos, is_image = S.sample_regime("mixed", 2000 // 8, rng)  # 250 clips
    assert videos.shape == (250, 8, 32, 32, 3) and is_image.dtype == bool
    assert 0.1 < is_image.mean() < 0.3                        # image_like weight 0.2
    assert not S.sample_regime("single", 16, rng)[1].any()


def test_regime_weights_override():
    v, img = S.sample_regime("mixed", 20, np.random.default_rng(0), weights={"image_like": 1.0})
    assert img.all() and (v == v[:, :1]).all()


def test_fewshot_splits_sizes():
    k = S.FEWSHOT_SPLITS["kinetics_like"]
    assert [len(k[s]) for s in ("train", "val", "test")] == [64, 12, 24]
    e = S.FEWSHOT_SPLITS["epic_like"]
    assert [len(e[s]) for s in ("train", "test")] == [24, 12]
    for kind in S.FEWSHOT_SPLITS.values():
        names = [c for split in kind.values() for c in split]
        assert len(names) == len(set(names))


@pytest.mark.parametrize("regime", ["single", "mixed"])
def test_fewshot_test_classes_never_pretrained(regime):
    pretrain = S.pretraining_class_names(regime)
    for kind in S.FEWSHOT_SPLITS.values():
        assert not S.find_contamination(pretrain, kind["test"])
    for name in ("ucf_like", "ssv2_like", "image_like"):
        assert not set(S.make_source(name).class_names) & S.HELD_OUT_CLASSES
    S.assert_no_contamination(regime)


def test_contamination_is_detected():
    leaked = S.FEWSHOT_SPLITS["kinetics_like"]["test"][0]
    contaminated = sorted(S.pretraining_class_names("mixed")) + [leaked]
    assert S.find_contamination(contaminated, S.FEWSHOT_SPLITS["kinetics_like"]["test"]) == {leaked}
    with pytest.raises(ValueError):
        S.Source(name="bad", class_names=[leaked], is_image=False)


@pytest.mark.parametrize("kind,split", [("epic_like", "test"), ("kinetics_like", "test"), ("kinetics_like", "val")])
def test_fewshot_sets(kind, split):
    a = S.make_fewshot_set(kind, split, 2, seed=0)
    b = S.make_fewshot_set(kind, split, 2, seed=0)
    k = len(S.FEWSHOT_SPLITS[kind][split])
    assert a.videos.shape == (2 * k, 8, 32, 32, 3) and a.class_names == S.FEWSHOT_SPLITS[kind][split]
    np.testing.assert_array_equal(np.bincount(a.labels), np.full(k, 2))
    np.testing.assert_array_equal(a.videos, b.videos)


def test_fewshot_test_classes_are_distinguishable():
    """Few-shot classes differ in their generative latents (an oracle separates them)."""
    for kind in ("kinetics_like", "epic_like"):
        train = S.make_fewshot_set(kind, "test", 6, seed=1)
        test = S.make_fewshot_set(kind, "test", 3, seed=2)
        feats = lambda c: np.abs(np.diff(c.latents, axis=1)).reshape(len(c.labels), -1)  # noqa: E731
        acc = linear_probe(feats(train), train.labels, feats(test), test.labels)
        assert acc > 3 / len(train.class_names), (kind, acc)


def test_eval_data_splits_synthetic_motion_by_its_training_count(tmp_path):
    """`data.synthetic_motion_train` training clips, the rest validation; both parts class-balanced."""
    from jepa.data import eval_data
    from jepa.config import load_params

    smoke = load_params().profiles["smoke"]
    prof = smoke.model_copy(update={"data": smoke.data.model_copy(update={"synthetic_motion_clips": 24,
                                                                          "synthetic_motion_train": 8})})
    manifest = eval_data.build(prof, tmp_path)
    train, val = eval_data.load(tmp_path, "synthetic_motion")
    assert (len(train), len(val)) == (8, 16) and manifest["synthetic_motion"]["train"] == 8
    classes = len(train.class_names)  # 8 directions: one training clip each, two validation clips each
    assert np.bincount(train.labels, minlength=classes).tolist() == [1] * classes
    assert np.bincount(val.labels, minlength=classes).tolist() == [2] * classes


def test_action_clips_show_bright_actors_on_darker_scenes():
    """Fixed contrast polarity: in every Kinetics-like clip the actor's pixels are brighter than the scene,
    so the direction of a patch's change is the direction of motion (what makes the set learnable)."""
    clips = S.make_fewshot_set("kinetics_like", "train", 1, seed=3)
    grey = clips.videos.astype(float).mean(-1)                          # (N, T, H, W)
    first = grey[:, 0].reshape(len(grey), -1)
    scene = np.median(first, axis=1)
    actor = np.sort(first, axis=1)[:, -20:].mean(1)                      # the brightest 20 pixels: the actor
    assert (actor > scene + 30).mean() > 0.95, np.round(actor - scene)[:10]
    # and motion programmes move: the clip is not static (except still-then-still)
    moving = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2, 3))
    still = [i for i, c in enumerate(clips.class_names) if c == "still-then-still"]
    assert all(moving[i] < np.median(moving) for i in still)


def test_eval_data_gives_each_analogue_its_own_training_budget(tmp_path):
    """`data.eval_train` by analogue: each probe's training split has its own size, and the validation clips are
    the same as with one budget for all."""
    from jepa.config import load_params
    from jepa.data import eval_data

    smoke = load_params().profiles["smoke"]
    by_task = smoke.model_copy(update={"data": smoke.data.model_copy(
        update={"eval_train": {"appearance": 12, "motion": 20, "temporal": 8}})})
    manifest = eval_data.build(by_task, tmp_path / "by_task")
    assert {t: manifest[t]["train"] for t in ("appearance", "motion", "temporal")} == \
        {"appearance": 12, "motion": 20, "temporal": 8}
    eval_data.build(smoke, tmp_path / "one")   # eval_train 24 for every analogue
    for task in ("appearance", "motion", "temporal"):
        _, val = eval_data.load(tmp_path / "by_task", task)
        _, val_one = eval_data.load(tmp_path / "one", task)
        np.testing.assert_array_equal(val.videos, val_one.videos)
        assert len(eval_data.load(tmp_path / "one", task)[0]) == smoke.data.eval_train

"""The real-data path end to end: `dvc repro` with `profile: paper_mini` on the official-format fixture.

Follows docs/real_data.md as a new user would, in a throw-away copy of the repository: write the
fixture datasets, index UCF-101 and build its training frame cache with the CLI, then `dvc repro`
(indexes and frame caches of the evaluation and few-shot sets, both regimes' pretraining, linear
and attentive probes on ImageNet-100 / Diving-48 / SSv2, floors, few-shot on EPIC-100 unseen verbs
and Kinetics-100 test classes, claims and report). The single regime reads its frame cache, the
mixed regime decodes live; every stage's output is checked against what the fixture holds.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import copy_repository, run_shell as _sh
from jepa.data.real.fixtures import build as build_fixture

REPO = Path(__file__).resolve().parents[1]


def _read(path: Path):
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    def paper_mini(params):
        params["profile"] = "paper_mini"
        params["run"] = {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]}

    ws = copy_repository(tmp_path_factory.mktemp("real"), paper_mini)
    # docs/real_data.md, dry run: the fixture (`python -m jepa.data fixture`, here in-process to save an
    # interpreter start), then the single regime's training cache with the CLI, then repro
    build_fixture(ws / "data" / "fixture")
    _sh("python -m jepa.data index --dataset ucf101 --root data/fixture/ucf101"
        " --out data/generated/real_index/ucf101.csv"
        " && python -m jepa.data cache --index data/generated/real_index/ucf101.csv --split train"
        " --out data/generated/frame_cache/ucf101-train-f4-s32-fps16 --frames 4 --size 32 --sampling fps --fps 16",
        ws)
    _sh("dvc repro", ws)
    return ws


@pytest.mark.slow
def test_fixture_holds_every_official_layout(workspace):
    fixture = _read(workspace / "data/fixture/fixture.json")
    assert sorted(fixture) == ["diving48", "epic100", "imagenet100", "kinetics100", "ssv2", "ucf101"]
    assert all(len(info["corrupt"]) == 1 for info in fixture.values())
    assert fixture["kinetics100"]["missing"] and fixture["kinetics100"]["splits"]["test"] == 52
    index = pd.read_csv(workspace / "data/generated/real_index/ucf101.csv")
    assert index["split"].value_counts().to_dict() == fixture["ucf101"]["splits"] == {"train": 7, "test": 3}


@pytest.mark.slow
def test_evaluation_sets_come_from_the_official_splits_minus_bad_files(workspace):
    fixture = _read(workspace / "data/fixture/fixture.json")
    manifest = _read(workspace / "data/generated/eval/manifest.json")
    for task, dataset, train, val in (("appearance", "imagenet100", "train", "val"),
                                      ("motion", "diving48", "train", "test"), ("temporal", "ssv2", "train", "val")):
        info, listed = manifest[task], fixture[dataset]["splits"]
        assert info["dataset"] == dataset and info["classes"] == 3
        assert info["bad_files"] == fixture[dataset]["corrupt"] and info["bad_files_skipped"] == 1
        bad_split = train if dataset != "diving48" else val  # where the fixture put its corrupt file
        assert (info["train"], info["val"]) == (listed[train] - (bad_split == train),
                                                listed[val] - (bad_split == val)), task
    assert (manifest["synthetic_motion"]["train"], manifest["synthetic_motion"]["val"]) == (16, 4)
    cache = _read(workspace / "data/generated/frame_cache/ucf101-train-f4-s32-fps16/manifest.json")
    assert (cache["total"], cache["cached"], cache["bad"]) == (7, 6, 1)


@pytest.mark.slow
def test_both_regimes_pretrain_and_count_bad_files(workspace):
    fixture = _read(workspace / "data/fixture/fixture.json")
    single = _read(workspace / "reports/metrics/pretrain/single-baseline-s0.json")
    mixed = _read(workspace / "reports/metrics/pretrain/mixed-baseline-s0.json")
    for run in (single, mixed):
        assert run["profile"] == "paper_mini" and run["steps"] == 4 and not run["collapsed"]
        assert run["data"]["clips_served"] == 4 * 4  # steps x batch
    assert single["data"]["source"] == "cache"  # the CLI-built cache, with its bad file counted at build time
    assert single["data"]["bad_files"] == fixture["ucf101"]["corrupt"] and single["data"]["bad_files_skipped"] == 1
    assert mixed["data"]["source"] == "decode"  # no cache for the mixed regime: decoded live, bad files replaced
    mixed_bad = set(sum((fixture[d]["corrupt"] for d in ("ucf101", "ssv2", "imagenet100")), []))
    assert set(mixed["data"]["bad_files"]) <= mixed_bad and mixed["data"]["bad_files_skipped"] >= 1
    assert (workspace / "runs/mixed/baseline/s0/encoder.pt").exists()


@pytest.mark.slow
def test_probes_floors_fewshot_and_report(workspace):
    ws = workspace
    manifest = _read(ws / "data/generated/eval/manifest.json")
    for name in ("probe/single-baseline-s0", "probe/mixed-baseline-s0", "floors/random_init-s0", "floors/pixels"):
        metrics = _read(ws / f"reports/metrics/{name}.json")
        assert {task: m["probe"] for task, m in metrics.items()} == {
            "appearance": "linear", "motion": "attentive", "temporal": "attentive", "synthetic_motion": "attentive"}
        for task, m in metrics.items():
            assert (m["n_train"], m["n_val"]) == (manifest[task]["train"], manifest[task]["val"]) and 0 <= m["acc"] <= 1
    # few-shot sets: 5 Kinetics-100 test classes x 10 clips (+1 corrupt; the missing clip is not indexed) and
    # 5 EPIC-100 unseen verbs x 10 segments (+1 in a corrupt video), through their own frame caches
    for key in ("kinetics100_test", "epic100_unseen_verbs"):
        cache = _read(ws / f"data/generated/frame_cache/{key}-f4-s32-uniform-k20-seed0/manifest.json")
        assert (cache["total"], cache["cached"], cache["bad"]) == (51, 50, 1), key
    for rq, regimes in (("rq1", {"mixed", "not pretrained"}), ("rq2", {"single", "mixed", "not pretrained"})):
        runs = pd.read_csv(ws / f"reports/{rq}_runs.csv")
        assert set(runs.regime) == regimes and set(runs.shots) == {1, 5} and (runs.n_episodes == 1000).all()
    rq2 = pd.read_csv(ws / "reports/rq2.csv").set_index(["contrast", "shots"])
    assert rq2.loc[("mixed - single (baseline)", 5), "n_seeds"] == 1
    assert "Kinetics-100" in (ws / "reports/rq2.md").read_text()
    assert "Real data (`epic100_unseen_verbs`)" in (ws / "reports/rq1.md").read_text()
    floors = pd.read_csv(ws / "reports/floors.csv")
    assert sorted(zip(floors.regime, floors.benchmark)) == sorted(
        (r, b) for r in ("mixed", "single") for b in ("diving48", "imagenet100", "ssv2", "synthetic_motion"))
    claims = pd.read_csv(ws / "reports/claims.csv")
    assert len(claims) > 0 and set(claims.profile) == {"paper_mini"}
    report = (ws / "reports/REPORT.md").read_text()
    assert "paper_mini" in report and "rq1.md" in report
    assert _read(ws / "reports/summary.json")["profile"] == "paper_mini"
    assert (ws / "reports/figures/claims.png").exists() and (ws / "reports/figures/rq1.png").exists()

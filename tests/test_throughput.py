"""The clip bank changes where clips are rendered, never what a run sees: bank == generator."""

import json

import pytest
import torch

from jepa import paths
from jepa.config import load_run
from jepa.data.bank import ClipBank, bank_key, banked_stream, main as bank_main, write_bank
from jepa.data.stream import synthetic_stream
from jepa.train import pretrain

W = {"ucf_like": 0.2, "ssv2_like": 0.6, "image_like": 0.2}


@pytest.mark.parametrize("regime", ["single", "mixed"])
def test_banked_stream_equals_generator_for_every_step_rank_and_world(tmp_path, regime):
    bank = write_bank(tmp_path / "bank", regime, 3, steps=4, batch_size=8, frames=4, size=16, weights=W)
    for rank, world, start in [(0, 1, 0), (1, 2, 1), (3, 4, 2), (0, 2, 4)]:  # start 4: past the bank's end
        ours = banked_stream(bank, regime, 3, 8, 4, 16, start, W, rank, world)
        ref = synthetic_stream(regime, 3, 8, 4, 16, start, W, rank, world)
        for _ in range(4):  # crosses from the bank into on-the-fly rendering
            (x, img), (x_ref, img_ref) = next(ours), next(ref)
            assert x.shape == (8 // world, 3, 4, 16, 16)
            assert torch.equal(x, x_ref) and torch.equal(img, img_ref)


def test_bank_for_another_key_is_ignored_not_used(tmp_path):
    bank = write_bank(tmp_path / "bank", "single", 1, steps=2, batch_size=4, frames=4, size=16)
    assert ClipBank.open_matching(bank, bank_key("single", 1, 4, 4, 16, None)) is not None
    assert ClipBank.open_matching(bank, bank_key("single", 0, 4, 4, 16, None)) is None  # other seed
    assert ClipBank.open_matching(bank, bank_key("single", 1, 8, 4, 16, None)) is None  # other batch
    meta = json.loads((bank / "meta.json").read_text())
    (bank / "meta.json").write_text(json.dumps({**meta, "generator": "edited-renderer"}))
    assert ClipBank.open_matching(bank, bank_key("single", 1, 4, 4, 16, None)) is None
    x, _ = next(banked_stream(bank, "single", 0, 4, 4, 16))
    assert torch.equal(x, next(synthetic_stream("single", 0, 4, 4, 16))[0])


def test_bank_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a clip bank"):
        write_bank(tmp_path / "mine", "single", 0, 1, 2, 4, 16)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_bank_cli_writes_the_profile_bank(tmp_path, capsys):
    assert bank_main(["--regime", "single", "--seed", "0", "--profile", "smoke", "--out", str(tmp_path / "b")]) == 0
    bank = ClipBank(tmp_path / "b")
    assert bank.clips.shape == (6, 4, 4, 16, 16, 3) and bank.clips.dtype.name == "uint8"  # smoke: 6 steps x 4 clips


def test_resume_across_bank_end_is_bit_exact_with_rendering_run(tmp_path, monkeypatch):
    cfg = load_run("single", "baseline", 0, profile="smoke")
    p, m = cfg.profile, cfg.profile.model
    monkeypatch.setattr(paths, "clip_bank_dir", lambda regime, seed: tmp_path / "none")
    ref = pretrain(cfg, tmp_path / "ref", progress=False)
    write_bank(tmp_path / "bank", "single", 0, 4, p.train.batch_size, m.frames, m.img_size)  # steps 0-3 of 6
    monkeypatch.setattr(paths, "clip_bank_dir", lambda regime, seed: tmp_path / "bank")
    pretrain(cfg, tmp_path / "run", progress=False, stop_after=3)  # checkpoint at 3, "crash"
    resumed = pretrain(cfg, tmp_path / "run", progress=False)  # bank step 3, then rendered 4-5
    a = torch.load(tmp_path / "ref" / "encoder.pt", weights_only=True)["encoder"]
    b = torch.load(tmp_path / "run" / "encoder.pt", weights_only=True)["encoder"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["final_loss"] == ref["final_loss"]

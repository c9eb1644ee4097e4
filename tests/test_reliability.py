"""Long-run safety through the real entry point: SIGKILL + resume, and DDP under torchrun (gloo, CPU)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _project(tmp_path: Path, name: str, **train) -> Path:
    """A throw-away project root (params.yaml + dvc.yaml marker) with a longer smoke profile."""
    root = tmp_path / name
    root.mkdir()
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["profiles"]["smoke"]["train"].update(train)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "dvc.yaml").write_text("stages: {}\n")
    return root


def _cli(root: Path, *extra: str, launcher=(sys.executable, "-m", "jepa.cli")):
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [*launcher, "pretrain", "--regime", "single", "--variant", "baseline", "--seed", "0",
           "--profile", "smoke", "--out", str(root / "run"), "--live", str(root / "live"), *extra]
    return cmd, env


def _weights(root: Path) -> dict:
    return torch.load(root / "run" / "encoder.pt", weights_only=True)["encoder"]


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    train = dict(steps=60, checkpoint_every=5, threads=1)
    ref = _project(tmp_path, "ref", **train)
    cmd, env = _cli(ref)
    subprocess.run(cmd, cwd=ref, env=env, check=True, capture_output=True)

    crashed = _project(tmp_path, "crashed", **train)
    cmd, env = _cli(crashed)
    proc = subprocess.Popen(cmd, cwd=crashed, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (crashed / "run" / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = torch.load(crashed / "run" / "last.pt", weights_only=True)["step"]
    assert 0 < killed_at < 60 and not (crashed / "run" / "encoder.pt").exists()
    subprocess.run(cmd, cwd=crashed, env=env, check=True, capture_output=True)  # same command resumes
    a, b = _weights(ref), _weights(crashed)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_torchrun_ddp_matches_single_process_loss_curve(tmp_path):
    """2 gloo processes x half batch vs 1 process x full batch: same data, so curves agree.

    Masks are drawn per rank, so the curves are not bit-identical: tolerance 0.03 (loss ~0.8).
    """
    train = dict(steps=12, batch_size=8, log_every=2, threads=1)
    single = _project(tmp_path, "single", **train)
    cmd, env = _cli(single)
    subprocess.run(cmd, cwd=single, env=env, check=True, capture_output=True)
    ddp = _project(tmp_path, "ddp", **train)
    torchrun = (str(BIN / "torchrun"), "--standalone", "--nproc_per_node=2", "-m", "jepa.cli")
    cmd, env = _cli(ddp, launcher=torchrun)
    out = subprocess.run(cmd, cwd=ddp, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    curves = [pd.read_csv(r / "live" / "plots" / "metrics" / "train" / "loss.tsv", sep="\t") for r in (single, ddp)]
    assert list(curves[0].step) == list(curves[1].step) == list(range(2, 13, 2))
    diff = (curves[0].loss - curves[1].loss).abs()
    assert diff.max() < 0.03, diff.tolist()
    assert curves[1].loss.iloc[-1] < curves[1].loss.iloc[0]  # it trains

"""Long-run safety through the real entry point: SIGKILL + resume, and DDP under torchrun (gloo, CPU)."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from helpers import copy_repository

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
    assert 0 < killed_at < 400 and not (crashed / "run" / "encoder.pt").exists()
    subprocess.run(cmd, cwd=crashed, env=env, check=True, capture_output=True)  # same command resumes
    a, b = _weights(ref), _weights(crashed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def _dvc_workspace(tmp_path: Path, run: dict, **train) -> Path:
    """A throw-away git + DVC copy of the repository (reports/ left out) on the smoke profile."""
    def smoke(params):
        params["profile"], params["run"] = "smoke", run
        params["profiles"]["smoke"]["train"].update(train)

    return copy_repository(tmp_path / "ws", smoke)


def _dvc(cmd: str, ws: Path, check: bool = True, popen: bool = False):
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "DVC_NO_ANALYTICS": "1", "HOME": str(ws), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    if popen:  # its own process group, so SIGKILL reaches papermill's kernel too; no shell in between, so
        # wait() reaps dvc itself (an orphaned, unreaped dvc would hold the stage's lock as a zombie)
        return subprocess.Popen(shlex.split(cmd), cwd=ws, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    out = subprocess.run(cmd, cwd=ws, shell=True, capture_output=True, text=True, env=env)
    if check and out.returncode:
        raise AssertionError(f"{cmd} failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return out


def _kill_processes_in(folder: Path) -> None:
    """SIGKILL every process (this test started them) whose working directory is `folder`."""
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc_dir / "cwd")) == folder.resolve():
                os.kill(int(proc_dir.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


@pytest.mark.slow
def test_sigkill_under_dvc_repro_then_dvc_repro_resumes(tmp_path):
    """DVC deletes a stage's outputs before rerunning it; last.pt lives outside them, so the rerun resumes."""
    ws = _dvc_workspace(tmp_path, {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]},
                        steps=400, checkpoint_every=5, threads=1)  # long enough that the kill lands mid-run
    stage = "data/pipelines/pretrain_single/dvc.yaml:pretrain_single@baseline-0"
    proc = _dvc(f"dvc repro {stage}", ws, popen=True)
    deadline = time.time() + 300
    while not list(ws.glob("checkpoints/single-baseline-s0/*/last.pt")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # a few more steps past the first checkpoint
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _kill_processes_in(ws)  # the notebook kernel runs in a session of its own
    (ckpt,) = ws.glob("checkpoints/single-baseline-s0/*/last.pt")
    killed_at = torch.load(ckpt, weights_only=True)["step"]
    assert 0 < killed_at < 400 and not (ws / "runs/single/baseline/s0/encoder.pt").exists()
    out = _dvc(f"dvc repro {stage}", ws)
    resumed = re.search(r"resuming single-baseline-s0 from \S+ at step (\d+)", out.stdout + out.stderr)
    assert resumed and int(resumed[1]) == killed_at
    assert (ws / "runs/single/baseline/s0/encoder.pt").exists()
    curve = pd.read_csv(ws / "reports/live/single-baseline-s0/plots/metrics/train/loss.tsv", sep="\t")
    assert list(curve.step) == list(range(2, 401, 2))  # the whole curve, each step once


@pytest.mark.slow
def test_error_in_a_variant_does_not_make_dvc_repro_data_delete_the_eval_data(tmp_path):
    """DVC removes a stage's outputs before running it: a stage must not fail on keys it does not read."""
    ws = _dvc_workspace(tmp_path, {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]})
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["variants"]["baseline"]["terms"] = {"fwm": {"slow_weight": -0.05}}  # read by the pretrain stages only
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _dvc("dvc repro -f data", ws)  # forced: as when its own inputs changed
    assert list((ws / "data/generated/eval").iterdir()) and (ws / "reports/figures/data_examples.png").exists()
    out = _dvc("dvc repro data/pipelines/pretrain_single/dvc.yaml:pretrain_single@baseline-0", ws, check=False)
    assert out.returncode != 0 and "slow_weight must be a non-negative number" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.slow
def test_torchrun_ddp_matches_single_process_loss_curve(tmp_path):
    """2 gloo processes x half batch vs 1 process x full batch: same data and, drawn for the global
    batch, the same masks, so the curves agree to float round-off (gradient all-reduce order)."""
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
    assert diff.max() < 1e-3, diff.tolist()
    # it trains: the prediction term falls (the total also carries the context loss, ramped in over the second half)
    jepa = pd.read_csv(ddp / "live" / "plots" / "metrics" / "train" / "loss_jepa.tsv", sep="\t")
    assert jepa.loss_jepa.iloc[-1] < jepa.loss_jepa.iloc[0]

"""The GPU check: one line and exit 0 without a GPU; its step timer on the CPU with the smoke profile."""

import importlib.util
import subprocess

import pytest
import torch


def _gpu_step(repo_root):
    spec = importlib.util.spec_from_file_location("gpu_step", repo_root / "benchmarks" / "gpu_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the check would run")
def test_gpu_check_without_a_gpu_prints_one_line_and_writes_nothing(repo_root, tmp_path):
    out = tmp_path / "gpu.csv"
    proc = subprocess.run([str(repo_root / "benchmarks" / "gpu_check.sh"), "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [
        "gpu_check: no CUDA GPU visible to torch; nothing timed (this check runs only on a GPU machine)"]
    assert not out.exists()


def test_step_timer_reports_time_memory_and_model_flops_on_cpu(repo_root):
    row = _gpu_step(repo_root).time_step("smoke", None, torch.device("cpu"), steps=2, warmup=1)
    assert row["profile"] == "smoke" and row["batch"] == 4 and row["dtype"] == "fp32"  # bf16 only on a GPU
    assert row["ms_step"] > 0 and row["steps_timed"] == 2
    assert row["step_tflop"] > 0 and row["achieved_tflops"] > 0
    assert row["tokens"] == 2 * 2 * 2  # smoke: 4 frames / tubelet 2, 16 px / patch 8

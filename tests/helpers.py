"""Shared test utilities: deterministic random-clip streams, a throw-away copy of the repository, shell runs."""

import torch


def random_stream(cfg, image_every: int = 0):
    """stream_fn for `pretrain`: batch at step s is a pure function of s."""
    m, b = cfg.profile.model, cfg.profile.train.batch_size

    def fn(start, rank, world):
        step = start
        while True:
            g = torch.Generator().manual_seed(1000 + step)
            x = torch.randn(b, 3, m.frames, m.img_size, m.img_size, generator=g)
            img = torch.zeros(b, dtype=torch.bool)
            if image_every:
                img[::image_every] = True
                x[img] = x[img][:, :, :1].expand_as(x[img]).clone()
            per = b // world
            yield x[rank * per:(rank + 1) * per], img[rank * per:(rank + 1) * per]
            step += 1

    return fn


PIPELINE_INPUTS_IN_REPORTS = ("reports/analogues.csv",)


def copy_repository(dest, edit_params=None):
    """A throw-away git copy of the repository at `dest` (reports/ left out, so every stage runs cold, but for the
    committed inputs a stage reads there: the analogues table, which benchmarks/analogues.py writes).

    `edit_params(params)` changes the parsed params.yaml in place before the first commit (the random-init
    floors' seeds in dvc.yaml then follow its run.seeds); the copy is what a fresh clone holds, so
    `dvc repro` in it proves the pipeline from a clean state.
    """
    import re
    import shutil
    import subprocess
    from pathlib import Path

    import yaml

    repo, dest = Path(__file__).resolve().parents[1], Path(dest)
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                           capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (repo / f).is_file() and (not f.startswith("reports/") or f in PIPELINE_INPUTS_IN_REPORTS):
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / f, dest / f)
    if edit_params is not None:
        params = yaml.safe_load((dest / "params.yaml").read_text())
        edit_params(params)
        (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        dvc_yaml = (dest / "dvc.yaml").read_text()
        floors = f"  - floor_seeds: {list(params['run']['seeds'])}"
        (dest / "dvc.yaml").write_text(re.sub(r"(?m)^  - floor_seeds: \[.*\]$", floors, dvc_yaml, count=1))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(dest), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run("git init -q && git add -A && git commit -qm init", cwd=dest, shell=True, env=env, check=True,
                   capture_output=True)
    return dest


def shell_env(cwd) -> dict:
    """A clean environment for commands run in a throw-away workspace: this interpreter's bin first on PATH
    (dvc, papermill), a git identity, and the caller's OMP_NUM_THREADS (one per test worker)."""
    import os
    import sys
    from pathlib import Path

    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "DVC_NO_ANALYTICS": "1", "HOME": str(cwd),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PYTHONUNBUFFERED": "1"}
    if "OMP_NUM_THREADS" in os.environ:
        env["OMP_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"]
    return env


def run_shell(cmd, cwd, check: bool = True):
    """Run `cmd` in `cwd` with `shell_env`; a failure raises (unless check is False) with the tail of both streams."""
    import subprocess

    out = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True, env=shell_env(cwd))
    if check and out.returncode:
        raise AssertionError(f"{cmd} failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return out

"""Where a default run's time goes, stage kind by stage kind, before and after the throughput changes.

One run of this script measures, side by side on the same machine (A/B repeats alternate, so load
drift on a shared machine hits both; medians are reported):

- pretrain: ms/step of a short training run (the tiny profile's recipe, stopped after --steps) with
  clips rendered inside the loop (before), read from a clip bank (after) and served from memory
  (the floor: the same step with no data cost), and the step's achieved FLOP/s (FLOPs from torch's
  FlopCounterMode) as a fraction of the fp32 matmul peak measured in the same run;
- clips: the clip-bank stage's cost per step (rendering the regime's batches once, shared by every
  variant of that regime and seed);
- probe: a probe stage's work (a random-init encoder of the profile, every analogue of the data
  stage's eval sets): feature extraction, then the probe seeds one after another (before) against
  the seeds trained together (after), with each path's FLOP/s fraction of the same matmul peak and
  whether every seed's accuracy is equal;
- step: options for the training step itself (AdamW foreach / fused, attention without SDPA,
  torch.compile), each against the step as train.py runs it;
- overhead: one notebook stage's fixed cost, as three processes (before) and one (after), beside the
  package imports in a plain interpreter;
- dvc: DVC's own work after each stage it runs, which grows with the size of the stage's dvc.lock: it
  re-reads the lock and rewrites all of it (`dvc.utils.serialize.modify_yaml`, a round-trip parse and
  dump, after a plain parse when it reloads the stage). Before: every entry of today's locks in one
  file (the study as a single pipeline); after: the lock of the pipeline that holds the stage.

Writes reports/benchmarks/pipeline.csv; --stages times a subset and keeps the other rows.

    python benchmarks/pipeline.py [--stages pretrain,probe,step,overhead,dvc] [--profile tiny] [--steps 60]
        [--repeats 5] [--probe-repeats 5] [--probe-threads 1] [--skip-compile]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from jepa.config import BENCHMARKS, load_run
from jepa.data.bank import banked_stream, write_bank
from jepa.data.stream import synthetic_batch, synthetic_stream
from jepa.masks import MaskGenerator
from jepa.train import JEPA, pretrain, step_flops as train_step_flops

ROOT = Path(__file__).resolve().parents[1]


def matmul_peak(threads: int, n: int = 1024, repeats: int = 10) -> float:
    """Best fp32 FLOP/s of an n x n matmul on this many threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best


def step_flops(cfg) -> float:
    """FLOPs of one JEPA training step's forward + backward on a synthetic batch of the run's regime."""
    m, b = cfg.profile.model, cfg.profile.train.batch_size
    x, is_image = synthetic_batch(cfg.regime, 0, cfg.seed, b, m.frames, m.img_size)
    return train_step_flops(cfg, x, is_image)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def pretrain_ms_per_step(cfg, stream_fn, steps: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        return pretrain(cfg, d, None, stream_fn=stream_fn, progress=False, stop_after=steps)["ms_per_step"]


def bench_pretrain(cfg, steps: int, repeats: int, bank_dir: Path) -> dict:
    p, m = cfg.profile, cfg.profile.model
    args = (cfg.regime, cfg.seed, p.train.batch_size, m.frames, m.img_size)
    w = p.data.mixed_weights
    t_bank = _timed(lambda: write_bank(bank_dir, *args[:2], steps, p.train.batch_size, m.frames, m.img_size, w))
    memory = [synthetic_batch(*args[:1], s, *args[1:], weights=w) for s in range(steps)]
    paths = {
        "render": lambda start, rank, world: synthetic_stream(*args, start, w, rank, world),
        "bank": lambda start, rank, world: banked_stream(bank_dir, *args, start, w, rank, world),
        "memory": lambda start, rank, world: iter(memory[start:]),
    }
    times: dict[str, list[float]] = {k: [] for k in paths}
    pretrain_ms_per_step(cfg, paths["memory"], min(steps, 5))  # warm-up
    for _ in range(repeats):
        for name, fn in paths.items():
            times[name].append(pretrain_ms_per_step(cfg, fn, steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"med": med, "times": times, "bank_ms_per_step": 1000 * t_bank / steps}


def bench_step(cfg, steps: int, repeats: int, threads: int, compile_: bool = True, only: list[str] | None = None) -> dict:
    """Step-level options on one tiny JEPA step (masks + forward + backward + AdamW + EMA), one process.

    Variants, each a fresh model of the same init: AdamW as train.py builds it (the per-parameter loop,
    torch's CPU default), foreach, fused; timm's attention without SDPA (its explicit softmax path);
    the EMA update as one foreach call (and with fused AdamW); torch.compile of the model. Each repeat runs every variant for `steps` steps in turn, so drift hits
    all; the ratio to the default is taken per repeat, then the median.
    """
    import copy

    from jepa.train import _ema_update, _param_groups

    torch.set_num_threads(threads)
    m, t = cfg.profile.model, cfg.profile.train
    masks = MaskGenerator(cfg.profile.mask, m, cfg.variant.guidance, cfg.variant.future)
    batches = [synthetic_batch(cfg.regime, s, cfg.seed, t.batch_size, m.frames, m.img_size) for s in range(steps)]

    def ema_foreach(target, online, momentum):  # the EMA update as one foreach call over the parameters
        with torch.no_grad():
            torch._foreach_lerp_(list(target.parameters()), list(online.parameters()), 1.0 - momentum)

    def make(adamw: dict | None = None, sdpa: bool = True, compiled: bool = False, ema=_ema_update):
        torch.manual_seed(0)
        model = JEPA(cfg)
        target = copy.deepcopy(model.encoder).requires_grad_(False).eval()
        for mod in list(model.modules()) + list(target.modules()):
            if hasattr(mod, "fused_attn"):
                mod.fused_attn = sdpa
        opt = torch.optim.AdamW(_param_groups(model, t.weight_decay), lr=t.lr, betas=t.betas, **(adamw or {}))
        fwd = torch.compile(model, dynamic=True) if compiled else model

        def run(first: int) -> float:
            t0 = time.perf_counter()
            for i in range(first, first + steps):
                x, is_image = batches[i % steps]
                loss, _ = fwd(x, is_image, masks(x, torch.Generator().manual_seed(i)), target, 0.5)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                ema(target, model.encoder, 0.999)
            return 1000 * (time.perf_counter() - t0) / steps
        return run

    variants = {"default": make(), "adamw_foreach": make({"foreach": True}), "adamw_fused": make({"fused": True}),
                "no_sdpa": make(sdpa=False), "ema_foreach": make(ema=ema_foreach),
                "fused_ema_foreach": make({"fused": True}, ema=ema_foreach)}
    if only:
        variants = {k: v for k, v in variants.items() if k == "default" or k in only}
    warm = {}
    if compile_ and (not only or "compile" in only):
        variants["compile"] = make(compiled=True)
        t0 = time.perf_counter()
        variants["compile"](0)  # compilation (dynamic shapes: the mask ratio varies the token count)
        warm["compile_s"] = time.perf_counter() - t0
    for run in variants.values():
        run(0)
    times: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(repeats):
        for name, run in variants.items():
            times[name].append(run(steps * (r + 1)))
    ratios = {k: [d / v for d, v in zip(times["default"], times[k])] for k in variants}
    return {"med": {k: statistics.median(v) for k, v in times.items()},
            "speedup": {k: statistics.median(v) for k, v in ratios.items()},
            "ratio_range": {k: (min(v), max(v)) for k, v in ratios.items()}, **warm}


def _probe_step_gflop(kind: str, data, cfg, seeds: list[int], stacked: bool) -> float:
    """FLOPs of one probe training step (forward + backward) of all seeds, before or after."""
    from torch.utils.flop_counter import FlopCounterMode

    from jepa import evaluate

    batch = data.train[:cfg.batch_size]
    with FlopCounterMode(display=False) as counter:
        if stacked:
            inputs = batch.mean(1) if kind == "linear" else batch
            params = evaluate._FlatParams(evaluate._stacked_init(kind, batch.shape[-1], data.num_classes, cfg.heads,
                                                                 seeds))
            logits = evaluate._stacked_logits(kind, params.views(), inputs.expand(len(seeds), *inputs.shape),
                                              evaluate.probe_heads(batch.shape[-1], cfg.heads))
            logits.sum().backward()
        else:
            for _ in seeds:
                evaluate.PROBES[kind](batch.shape[-1], data.num_classes, cfg.heads)(batch).sum().backward()
    return counter.get_total_flops() / 1e9


def bench_probe(profile: str, tasks: list[str], repeats: int, epochs: int | None = None, threads: int = 1) -> dict:
    """One probe stage's probe work on a random-init encoder (the eval sets as the data stage builds them):
    features once per set, then every probe seed of every analogue, one seed after another (before) and
    the seeds of an analogue trained together (after), alternating."""
    from jepa import evaluate
    from jepa.data import eval_data
    from jepa.config import profile_cfg

    _, prof = profile_cfg(profile)
    torch.set_num_threads(threads)
    encoder = evaluate.random_encoder(prof.model, 0)
    t_feat, datasets = 0.0, {}
    with tempfile.TemporaryDirectory() as tmp:
        eval_data.build(prof, tmp)
        for task in tasks:
            train, val = eval_data.load(tmp, task)
            t0 = time.perf_counter()
            tr, va = (evaluate.encoder_tokens(encoder, s.videos) for s in (train, val))
            t_feat += time.perf_counter() - t0
            data = evaluate.ProbeData(tr, torch.as_tensor(train.labels), va, torch.as_tensor(val.labels),
                                      len(train.class_names))
            datasets[task] = evaluate._standardize(data)
    cfg, seeds = prof.probe, list(prof.probe.seeds)
    if epochs:  # a shorter probe schedule
        cfg = cfg.model_copy(update={"epochs": epochs})

    def before() -> dict:  # one probe per seed, one after another
        return {task: [evaluate.train_probe(cfg.protocol[task], data, cfg, s) for s in seeds]
                for task, data in datasets.items()}

    def after() -> dict:  # the seeds of a task trained together
        return {task: evaluate.train_probes(cfg.protocol[task], data, cfg, seeds) for task, data in datasets.items()}

    times: dict[str, list[float]] = {"before": [], "after": []}
    accs = {}
    for _ in range(repeats):  # alternating, so drift hits both
        for name, fn in (("before", before), ("after", after)):
            t0 = time.perf_counter()
            accs[name] = fn()
            times[name].append(time.perf_counter() - t0)
    ratios = [b / a for b, a in zip(times["before"], times["after"])]
    steps = sum(cfg.epochs * max(1, len(d.train) // cfg.batch_size) for d in datasets.values())
    gflop = {stacked: sum(_probe_step_gflop(cfg.protocol[t], d, cfg, seeds, stacked) *
                          cfg.epochs * max(1, len(d.train) // cfg.batch_size) for t, d in datasets.items()) / steps
             for stacked in (False, True)}
    return {"seeds": seeds, "steps": steps, "gflop_before": gflop[False], "gflop_after": gflop[True],
            "ms_step_before": 1000 * statistics.median(times["before"]) / steps,
            "ms_step_after": 1000 * statistics.median(times["after"]) / steps, "feat_s": t_feat, "before_s": statistics.median(times["before"]), "after_s": statistics.median(times["after"]),
            "speedup": statistics.median(ratios), "speedup_range": (min(ratios), max(ratios)), "times": times,
            "accs": accs}


# How a notebook stage ran before jepa/notebook_run.py: three processes (jupytext's converter, papermill's
# command line with its kernel, the strip), as a shell pipeline. Kept here as the benchmark's baseline.
SEPARATE_PROCESSES = ('jupytext --to ipynb --set-kernel python3 --output - "$1" | '
                      'papermill - "$2" -k python3 --no-progress-bar --log-output && python -m jepa.notebook_strip "$2"')


def bench_overhead(repeats: int) -> dict:
    """One notebook stage's fixed cost: a notebook with one import cell run as the pipeline runs it (after:
    scripts/run-notebook, one process) and as three processes (before: SEPARATE_PROCESSES), alternating;
    beside it the same import in a plain interpreter (medians of `repeats`)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(cmd) -> float:  # the venv's jupytext/papermill first on PATH, as in an activated environment
        return _timed(lambda: subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env))

    times: dict[str, list[float]] = {"notebook_s": [], "notebook_before_s": [], "python_s": [], "imports_s": []}
    with tempfile.TemporaryDirectory() as d:
        nb, out = Path(d) / "nb.py", str(Path(d) / "o.ipynb")
        nb.write_text("# %%\nimport jepa.train, jepa.evaluate\n")
        for _ in range(repeats):
            times["notebook_before_s"].append(run(["bash", "-c", f"set -eo pipefail; {SEPARATE_PROCESSES}", "_",
                                                   str(nb), out]))
            times["notebook_s"].append(run([str(ROOT / "scripts" / "run-notebook"), str(nb), out]))
            bare = run([sys.executable, "-c", "pass"])
            times["python_s"].append(bare)
            times["imports_s"].append(run([sys.executable, "-c", "import jepa.train, jepa.evaluate"]) - bare)
    ratios = [b / a for a, b in zip(times["notebook_s"], times["notebook_before_s"])]
    return {**{k: statistics.median(v) for k, v in times.items()}, "speedup": statistics.median(ratios),
            "speedup_range": (min(ratios), max(ratios))}


def bench_dvc_lock(repeats: int) -> dict[str, dict]:
    """Seconds of DVC's lock work after one stage (reload + round-trip rewrite), per pipeline, with every
    lock's entries merged into one file (before) and in the stage's own lock (after); alternating repeats."""
    from dvc.utils.serialize import dump_yaml, modify_yaml
    from dvc.utils.serialize._yaml import parse_yaml, parse_yaml_for_update

    from jepa import paths

    locks = paths.dvc_locks()
    if len(locks) < 2:
        raise SystemExit("dvc row: needs the per-run pipelines' dvc.lock files (data/pipelines/*/dvc.lock)")

    def after_one_stage(path: Path, name: str) -> float:
        def work():
            parse_yaml(path.read_text(), str(path))  # the reload
            with modify_yaml(path) as data:  # what Lockfile.dump_stages does with the stage's new entry
                data["stages"][name] = data["stages"][name]
        return _timed(work)

    out = {}
    with tempfile.TemporaryDirectory() as d:
        merged, entries = Path(d) / "merged" / "dvc.lock", {}
        for lock in locks:
            entries.update(parse_yaml_for_update(lock.read_text(), str(lock))["stages"])
        merged.parent.mkdir()
        dump_yaml(merged, {"schema": "2.0", "stages": entries})
        for lock in locks:
            own = Path(d) / lock.parent.name / "dvc.lock"
            own.parent.mkdir(exist_ok=True)
            own.write_bytes(lock.read_bytes())
            name = next(iter(parse_yaml(own.read_text(), str(own))["stages"]))
            times = {"before": [], "after": []}
            for _ in range(repeats):
                times["before"].append(after_one_stage(merged, name))
                times["after"].append(after_one_stage(own, name))
            key = "root" if lock.parent == paths.root() else lock.parent.name
            out[key] = {"before_s": statistics.median(times["before"]), "after_s": statistics.median(times["after"]),
                        "ratios": [b / a for b, a in zip(times["before"], times["after"])],
                        "kb_before": merged.stat().st_size / 1e3, "kb_after": own.stat().st_size / 1e3,
                        "entries_before": len(entries), "stage": name}
    return out


def pretrain_rows(args, cfg, flops: float, peak: float, frac, steps_total: int) -> list[dict]:
    """The pretrain row (render vs bank vs memory) and the clips row."""
    rows = []
    if args.pretrain_medians:
        import json

        given = json.loads(args.pretrain_medians)
        pre = {"med": {k: given[k] for k in ("render", "bank", "memory")}, "times": "given",
               "bank_ms_per_step": given["bank_ms_per_step"]}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            pre = bench_pretrain(cfg, args.steps, args.repeats, Path(tmp) / "bank")
    med = pre["med"]
    print("pretrain ms/step medians:", {k: round(v, 1) for k, v in med.items()}, "repeats:", pre["times"],
          f"bank rendering {pre['bank_ms_per_step']:.1f} ms/step", flush=True)
    rows.append({"stage": "pretrain", "what": f"{args.profile} single/baseline, {args.steps}-step runs x {args.repeats}",
                 "before_s": round(med["render"] * steps_total / 1000, 1),
                 "after_s": round(med["bank"] * steps_total / 1000, 1),
                 "speedup": round(med["render"] / med["bank"], 3),
                 "ms_step_before": round(med["render"], 1), "ms_step_after": round(med["bank"], 1),
                 "ms_step_memory": round(med["memory"], 1),
                 "ratio_before": round(med["render"] / med["memory"], 3),
                 "ratio_after": round(med["bank"] / med["memory"], 3),
                 "step_gflop": round(flops / 1e9, 2), "peak_gflops": round(peak / 1e9, 1),
                 "frac_peak_before": frac(med["render"]), "frac_peak_after": frac(med["bank"]),
                 "frac_peak_memory": frac(med["memory"]), "results_equal": "yes (batches torch.equal)"})
    if isinstance(pre["times"], dict):  # best of the repeats: the least disturbed estimate on a shared machine
        best = {k: min(v) for k, v in pre["times"].items()}
        rows[-1].update({"ms_step_best_before": round(best["render"], 1), "ms_step_best_after": round(best["bank"], 1),
                         "ms_step_best_memory": round(best["memory"], 1),
                         "ratio_best_before": round(best["render"] / best["memory"], 3),
                         "ratio_best_after": round(best["bank"] / best["memory"], 3)})
    rows.append({"stage": "clips", "what": "render one (regime, seed) bank once, read by its every variant",
                 "before_s": 0, "after_s": round(pre["bank_ms_per_step"] * steps_total / 1000, 1),
                 "ms_step_after": round(pre["bank_ms_per_step"], 1), "results_equal": "yes (bank == generator)"})
    return rows


def _previous_rows(path: Path) -> list[dict]:
    """The rows of the stages not timed in this run are kept from the last run's CSV."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


STAGES = ("pretrain", "probe", "step", "overhead", "dvc")


def _rounded(accs: dict[str, list[float]]) -> dict[str, list[float]]:
    return {task: [round(a, 4) for a in values] for task, values in accs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="tiny")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="which to time (pretrain includes the clips row); rows not timed now are kept from --out")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--probe-repeats", type=int, default=5)
    ap.add_argument("--pretrain-medians", default=None,
                    help="reuse a run's printed medians (JSON {render, bank, memory, bank_ms_per_step}) instead of timing")
    ap.add_argument("--probe-profile", default="tiny")
    ap.add_argument("--probe-tasks", default=",".join(BENCHMARKS))
    ap.add_argument("--probe-epochs", type=int, default=None, help="default: the profile's")
    ap.add_argument("--probe-threads", type=int, default=1)
    ap.add_argument("--step-steps", type=int, default=10, help="steps per variant and repeat in the step rows")
    ap.add_argument("--step-threads", type=int, default=None, help="default: the profile's train.threads")
    ap.add_argument("--skip-compile", action="store_true", help="leave torch.compile out of the step rows")
    ap.add_argument("--step-variants", default=None, help="comma-separated subset of the step variants (default: all)")
    ap.add_argument("--out", default="reports/benchmarks/pipeline.csv")
    args = ap.parse_args()
    stages = args.stages.split(",")
    if unknown := set(stages) - set(STAGES):
        ap.error(f"--stages: unknown {sorted(unknown)}; known: {', '.join(STAGES)}")
    rows = []
    cfg = load_run("single", "baseline", 0, profile=args.profile)
    threads = cfg.profile.train.threads or torch.get_num_threads()
    peaks: dict[int, float] = {}

    def peak_at(n: int) -> float:  # the matmul peak at the thread count a row ran on, measured in this run
        if n not in peaks:
            peaks[n] = matmul_peak(n)
        return peaks[n]

    peak = peak_at(threads)
    flops = step_flops(cfg)
    steps_total = cfg.profile.train.steps
    step_threads = threads

    def frac(ms):
        return round(flops / (ms / 1000) / peak_at(step_threads), 3)

    if "pretrain" in stages:
        rows += pretrain_rows(args, cfg, flops, peak, frac, steps_total)
        torch.set_num_threads(threads)
    if "probe" in stages:
        pr = bench_probe(args.probe_profile, args.probe_tasks.split(","), args.probe_repeats, args.probe_epochs,
                         args.probe_threads)
        print("probe:", {k: v for k, v in pr.items() if k != "accs"}, flush=True)
        same = pr["accs"]["before"] == pr["accs"]["after"]
        rows.append({"stage": "probe", "what": f"{args.probe_profile} random-init encoder on {args.probe_tasks}, "
                                               f"{args.probe_epochs or 'profile'} epochs, {len(pr['seeds'])} probe seeds, "
                                               f"{args.probe_threads} thread(s): features {pr['feat_s']:.1f} s (once per "
                                               "encoder and set); before: one probe per seed; after: the seeds "
                                               "trained together (re-associated attention pooling, one flat AdamW "
                                               f"buffer, linear probe on tokens pooled once); {args.probe_repeats} "
                                               "alternating repeats",
                     "before_s": round(pr["feat_s"] + pr["before_s"], 1), "after_s": round(pr["feat_s"] + pr["after_s"], 1),
                     "speedup": round(pr["speedup"], 2),
                     "speedup_min": round(pr["speedup_range"][0], 2), "speedup_max": round(pr["speedup_range"][1], 2),
                     "probe_s_before": round(pr["before_s"], 1), "probe_s_after": round(pr["after_s"], 1),
                     "ms_step_before": round(pr["ms_step_before"], 2), "ms_step_after": round(pr["ms_step_after"], 2),
                     "step_gflop": round(pr["gflop_before"], 3), "step_gflop_after": round(pr["gflop_after"], 3),
                     "peak_gflops": round(peak_at(args.probe_threads) / 1e9, 1),
                     "frac_peak_before": round(pr["gflop_before"] * 1e9 / (pr["ms_step_before"] / 1000)
                                               / peak_at(args.probe_threads), 3),
                     "frac_peak_after": round(pr["gflop_after"] * 1e9 / (pr["ms_step_after"] / 1000)
                                              / peak_at(args.probe_threads), 3),
                     "results_equal": ("yes, every seed's accuracy equal" if same else "no: ") +
                                      f" (before {_rounded(pr['accs']['before'])}, after {_rounded(pr['accs']['after'])})"})
    if "step" in stages:
        step_threads = args.step_threads or threads
        st = bench_step(cfg, args.step_steps, args.repeats, step_threads, compile_=not args.skip_compile,
                        only=args.step_variants.split(",") if args.step_variants else None)
        print("step:", st, flush=True)
        notes = {"default": "AdamW as train.py builds it (per-parameter loop, the CPU default), timm SDPA attention",
                 "adamw_foreach": "AdamW foreach=True", "adamw_fused": "AdamW fused=True",
                 "no_sdpa": "timm attention without SDPA (explicit softmax)",
                 "ema_foreach": "EMA update as one torch._foreach_lerp_", "fused_ema_foreach": "both",
                 "compile": f"torch.compile(model, dynamic=True), compile {st.get('compile_s', 0):.0f} s not counted"}
        for name, ms in st["med"].items():
            lo, hi = st["ratio_range"][name]
            rows.append({"stage": f"step:{name}", "what": f"{args.profile} JEPA step, {notes[name]}; "
                                                          f"{args.step_steps} steps x {args.repeats} alternating repeats",
                         "ms_step_after": round(ms, 1), "speedup": round(st["speedup"][name], 3),
                         "speedup_min": round(lo, 3), "speedup_max": round(hi, 3),
                         "step_gflop": round(flops / 1e9, 2), "peak_gflops": round(peak_at(step_threads) / 1e9, 1),
                         "frac_peak_after": frac(ms)})
    if "overhead" in stages:
        ov = bench_overhead(args.repeats)
        print("overhead:", ov, flush=True)
        stage_s = next((float(r["after_s"]) for r in rows + _previous_rows(ROOT / args.out)
                        if r["stage"] == "probe" and r.get("after_s") not in (None, "")), None)
        lo, hi = ov["speedup_range"]
        fixed = ov["notebook_s"] - ov["imports_s"] - ov["python_s"]
        rows.append({"stage": "overhead", "what": "one notebook stage's fixed cost (a notebook with one import cell): "
                                                  "before, jupytext, papermill and the strip as three processes; after, "
                                                  f"one (jepa/notebook_run.py); {args.repeats} alternating repeats",
                     "before_s": round(ov["notebook_before_s"], 2), "after_s": round(ov["notebook_s"], 2),
                     "speedup": round(ov["speedup"], 3), "speedup_min": round(lo, 3), "speedup_max": round(hi, 3),
                     "results_equal": f"same notebook; of the {ov['notebook_s']:.1f} s after, the package imports "
                                      f"are {ov['imports_s']:.1f} s (unavoidable in any process), interpreter start "
                                      f"{ov['python_s']:.2f} s, papermill, jupytext and the kernel start {fixed:.1f} s"
                                      + (f"; the whole is {ov['notebook_s'] / stage_s:.0%} of a probe stage" if stage_s else "")})
    if "dvc" in stages:
        for pipeline, r in bench_dvc_lock(args.repeats).items():
            print(f"dvc {pipeline}:", {k: v for k, v in r.items() if k != "ratios"}, flush=True)
            rows.append({"stage": f"dvc:{pipeline}",
                         "what": f"DVC's lock reload + rewrite after one stage ({r['stage']}): before, all "
                                 f"{r['entries_before']} entries in one dvc.lock ({r['kb_before']:.0f} kB); after, "
                                 f"the stage's own pipeline's ({r['kb_after']:.0f} kB); {args.repeats} alternating repeats",
                         "before_s": round(r["before_s"], 2), "after_s": round(r["after_s"], 2),
                         "speedup": round(r["before_s"] / r["after_s"], 2),
                         "speedup_min": round(min(r["ratios"]), 2), "speedup_max": round(max(r["ratios"]), 2)})
    produced = {r["stage"] for r in rows}
    kept = [r for r in _previous_rows(ROOT / args.out) if r["stage"] not in produced]
    for r in rows:
        used = {"probe": args.probe_threads, "step": args.step_threads or threads}.get(r["stage"].split(":")[0], threads)
        r["machine"] = f"{platform.machine()} {used} threads"
    rows = kept + rows
    fields = list(dict.fromkeys(k for r in rows for k in r))
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

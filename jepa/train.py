"""V-JEPA pretraining with auxiliary objectives: the loop reads top to bottom.

    clip -> masks -> context encoder (visible tokens) -> predictor -> L1 to the
    layer-normed hierarchical levels of the EMA target encoder (+ the context loss,
    the profile's regularisers and the variant's auxiliary terms)

Runs on one CPU, one GPU, or many through `torchrun` (DDP). A checkpoint is
written atomically every `checkpoint_every` steps and the loop resumes from it;
batches and masks are pure functions of (seed, step), so a resumed CPU run ends
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
from contextlib import nullcontext
from pathlib import Path
from functools import partial
from typing import Callable, Iterator

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from jepa.config import RunConfig
from jepa.io import CheckpointFileError, torch_load, torch_save, write_json
from jepa.masks import MaskGenerator, MaskPair
from jepa.models.vit import Predictor, VideoViT, gather_tokens
from jepa.context_loss import context_loss, distance_weights, ramp_weight
from jepa.objectives import AuxContext, apply_objectives, build_objectives


class NonFiniteLossError(RuntimeError):
    """A loss term became NaN/Inf; the last good checkpoint is kept."""


class CheckpointError(CheckpointFileError):
    """A checkpoint this run cannot resume from: unreadable, not plain tensors, or another run's."""


class JEPA(nn.Module):
    """Context encoder + predictor + objective heads: everything the optimizer trains (and DDP wraps).

        loss = jepa     mean_pairs L1(pred, target) on the masked tokens
             + context  ramp(progress) x mean_pairs of the distance-weighted L1 on the context tokens
             + the profile's regularisers (e.g. vc) and the variant's auxiliary terms, each averaged
               over the mask pairs (`apply_objectives`)

    Targets are the layer-normed hierarchical levels of the target network (each level on its own,
    concatenated) or its final level only (`model.predict_levels`). The target network is the EMA
    `target_encoder` when `ema` is on, else this encoder on the full clip with gradients flowing.
    """

    def __init__(self, cfg: RunConfig):
        super().__init__()
        m, t = cfg.profile.model, cfg.profile.train
        self.ema = cfg.variant.ema
        self.encoder = VideoViT(m)
        self.predictor = Predictor(m, context=t.context_weight > 0)
        self.all_levels = m.predict_levels == "all"
        self.hierarchical = cfg.variant.aux_features == "hierarchical"
        self.plain_aux = cfg.variant.aux_norm == "plain"
        self.context_loss_cfg = (t.context_weight, t.context_ramp, t.context_distance)
        aux_dim = m.embed_dim * (len(self.encoder.levels) if self.hierarchical else 1)
        self.aux = build_objectives(cfg.variant.terms, aux_dim, where=f"variants.{cfg.variant_name}.terms", model=m)
        # every level is read when the predictor predicts them all or the auxiliary terms read hierarchical features
        self.read_levels = self.all_levels or (self.hierarchical and bool(self.aux))
        self.regularisers = build_objectives(profile_terms(t), aux_dim, where=f"profiles.{cfg.profile_name}.train",
                                             model=m)
        self.tubelet, self.patch, self.grid = m.tubelet, m.patch, m.grid

    def forward(self, x: torch.Tensor, is_image: torch.Tensor, masks: list[MaskPair],
                target_encoder: nn.Module | None, progress_frac: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        h, h_aux = self._targets(x, target_encoder)
        terms, encoded = self._prediction_loss(x, masks, h, progress_frac)
        aux_contexts = [self._aux_context(x, is_image, pair, enc, h, h_aux, progress_frac)
                        for pair, enc in zip(masks, encoded)] \
            if self.aux or self.regularisers else []
        terms.update(self._regularisers(aux_contexts))
        terms.update(self._auxiliary(aux_contexts))
        return sum(terms.values()), terms

    def _targets(self, x: torch.Tensor, target_encoder: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, Dt) prediction targets and (B, N, Da) target features for the auxiliary terms."""
        if self.ema:
            if target_encoder is None:
                raise ValueError("EMA is on: pass the EMA target encoder")
            with torch.no_grad():
                out, lv = target_encoder(x, return_levels=self.read_levels)
        else:  # EMA off: this encoder on the full clip, gradients flow into the target
            out, lv = self.encoder(x, return_levels=self.read_levels)
        final = F.layer_norm(out, out.shape[-1:])
        hier = torch.cat([F.layer_norm(v, v.shape[-1:]) for v in lv], -1) if lv else None
        return (hier if self.all_levels else final), (hier if self.hierarchical and hier is not None else final)

    def _prediction_loss(self, x: torch.Tensor, masks: list[MaskPair], h: torch.Tensor, progress_frac: float
                         ) -> tuple[dict[str, torch.Tensor], list[tuple]]:
        """The JEPA loss (and the ramped context loss), each averaged over the mask pairs."""
        weight, ramp, by_distance = self.context_loss_cfg
        jepa, context_l1, encoded = 0.0, 0.0, []
        for pair in masks:
            z, z_levels = self.encoder(x, keep=pair.ctx, return_levels=self.read_levels)
            pred, pred_context = self.predictor(torch.cat(z_levels, -1) if self.all_levels else z, pair.ctx, pair.tgt)
            jepa = jepa + (pred - gather_tokens(h, pair.tgt)).abs().mean() / len(masks)
            if pred_context is not None:
                w = distance_weights(pair.ctx, pair.tgt, self.grid) if by_distance else None
                context_l1 = context_l1 + context_loss(pred_context, gather_tokens(h, pair.ctx), w) / len(masks)
            encoded.append((z, z_levels, pred))
        terms = {"jepa": jepa}
        if weight > 0:
            terms["context"] = ramp_weight(progress_frac, weight, ramp) * context_l1
        return terms, encoded

    def _regularisers(self, aux_contexts: list[AuxContext]) -> dict[str, torch.Tensor]:
        """The profile's recipe regularisers (the same for every variant)."""
        return apply_objectives(self.regularisers, aux_contexts)

    def _auxiliary(self, aux_contexts: list[AuxContext]) -> dict[str, torch.Tensor]:
        """The variant's auxiliary objectives."""
        return apply_objectives(self.aux, aux_contexts)

    def _aux_context(self, x, is_image, pair, encoded, h, h_aux, progress_frac) -> AuxContext:
        z, z_levels, pred = encoded
        b, n = h.shape[:2]
        t = self.grid[0]
        z_feat = torch.cat(z_levels, -1) if self.hierarchical and z_levels else z
        if self.plain_aux:  # re-normalise each level without affine
            z_feat = torch.cat([F.layer_norm(c, c.shape[-1:]) for c in z_feat.split(z.shape[-1], -1)], -1)
        z_grid = z_feat.new_zeros(b, n, z_feat.shape[-1]).scatter(1, pair.ctx[..., None].expand_as(z_feat), z_feat)
        valid = torch.zeros(b, n, dtype=torch.bool, device=x.device).scatter_(1, pair.ctx, True)
        return AuxContext(z=z_grid.view(b, t, n // t, -1), z_valid=valid.view(b, t, n // t),
                          h=h_aux.view(b, t, n // t, -1), pred=pred, target=gather_tokens(h, pair.tgt),
                          tgt_idx=pair.tgt, clip=x, is_image=is_image, progress=progress_frac, tubelet=self.tubelet,
                          patch=self.patch, z_tokens=z)


def profile_terms(t) -> dict[str, dict]:
    """The regularisers a profile adds to every variant: the variance-covariance term when `vc_std`/`vc_cov` is set."""
    return {"vc": {"std_weight": t.vc_std, "cov_weight": t.vc_cov}} if t.vc_std or t.vc_cov else {}


def lr_at(step: int, cfg: RunConfig) -> float:
    t = cfg.profile.train
    if step < t.warmup_steps:
        return t.start_lr + (t.lr - t.start_lr) * step / max(1, t.warmup_steps)
    if t.schedule == "flat":
        return t.lr
    frac = (step - t.warmup_steps) / max(1, t.steps - t.warmup_steps)
    return t.final_lr + 0.5 * (t.lr - t.final_lr) * (1 + math.cos(math.pi * min(1.0, frac)))


def ema_at(step: int, cfg: RunConfig) -> float:
    start, end = cfg.profile.train.ema
    return start + (end - start) * min(1.0, step / max(1, cfg.profile.train.steps))


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _mask_generator_for(step: int, seed: int) -> torch.Generator:
    """One generator per (seed, step), the same on every rank: ranks draw the global batch's masks."""
    return torch.Generator().manual_seed(hash((seed, step, 0, 104729)) % (2 ** 63))


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def setup_distributed() -> tuple[int, int, torch.device]:
    """Join the process group when launched by torchrun; a plain `python` run stays single-process."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank, world = _dist_info()
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def default_stream(cfg: RunConfig, start_step: int, rank: int, world: int) -> Iterator:
    p = cfg.profile
    if p.data.source == "synthetic":
        from jepa import paths
        from jepa.data.bank import banked_stream

        return banked_stream(paths.clip_bank_dir(cfg.regime, cfg.seed), cfg.regime, cfg.seed, p.train.batch_size,
                             p.model.frames, p.model.img_size, start_step=start_step, weights=p.data.mixed_weights,
                             rank=rank, world_size=world)
    from jepa.data.real.stream import real_stream  # paper profile: real datasets under data/raw

    return real_stream(cfg, start_step=start_step, rank=rank, world_size=world)


def pretrain(cfg: RunConfig, out_dir: str | Path, live_dir: str | Path | None = None,
             stream_fn: Callable[[int, int, int], Iterator] | None = None, progress: bool = True,
             stop_after: int | None = None, ckpt_dir: str | Path | None = None) -> dict:
    """Train one run; returns (and writes to out_dir/summary.json) the final metrics.

    `stream_fn(start_step, rank, world_size)` yields (clip, is_image) batches
    (default: the profile's data source); `stop_after` ends the loop early at
    that step, as a crash would (used to test resumption). `ckpt_dir` holds
    last.pt (default: out_dir); the pipeline keeps it outside the stage's DVC
    outputs, which DVC deletes before rerunning a stage.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir = Path(ckpt_dir) if ckpt_dir is not None else out_dir
    t_cfg = cfg.profile.train
    if t_cfg.threads:
        torch.set_num_threads(t_cfg.threads)
    rank, world, device = setup_distributed()
    torch.manual_seed(cfg.seed)

    model = JEPA(cfg).to(device)
    target_encoder = copy.deepcopy(model.encoder).requires_grad_(False).eval() if model.ema else None
    # export: init (EMA off) keeps what the released code exports there: its target encoder, deep-copied
    # at init and never updated; training still updates (and the aux terms still read) the online encoder
    init_copy = copy.deepcopy(model.encoder).requires_grad_(False).eval() if cfg.variant.export == "init" else None
    opt = torch.optim.AdamW(_param_groups(model, t_cfg.weight_decay), lr=t_cfg.lr, betas=t_cfg.betas)
    start, history = 0, []
    ckpt_path = ckpt_dir / "last.pt"
    if ckpt_path.exists():
        state = load_checkpoint(ckpt_path, cfg, device)
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            if model.ema:
                target_encoder.load_state_dict(state["target"])
            if init_copy is not None:
                init_copy.load_state_dict(state["init_copy"])
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as err:
            raise CheckpointError(f"{ckpt_path}: does not fit this run's model ({str(err).splitlines()[0]}); "
                                  "delete it to train from step 0") from None
        start, history = state["step"], list(state.get("history", []))
        if rank == 0:
            print(f"resuming {cfg.run_id} from {ckpt_path} at step {start}", flush=True)
    ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    masks = MaskGenerator(cfg.profile.mask, cfg.profile.model, cfg.variant.guidance, cfg.variant.future)
    stream = (stream_fn or partial(default_stream, cfg))(start, rank, world)
    amp = (torch.autocast("cuda", dtype=torch.bfloat16 if t_cfg.amp == "bf16" else torch.float16)
           if t_cfg.amp != "off" and device.type == "cuda" else nullcontext())
    live = _open_live(live_dir, history) if rank == 0 else None

    t0 = time.perf_counter()
    last_step = min(t_cfg.steps, stop_after) if stop_after is not None else t_cfg.steps
    if init_copy is not None:
        # The exported encoder is the init copy, which no step changes: the released code's training of the
        # online encoder (that of the variant without export: init) is skipped, the export is bit-identical.
        # One row at step 0 records the loss and collapse monitor of the model as exported.
        start = last_step = 0
        if not history:
            history.append(_init_row(model, next(stream), masks, cfg, device, target_encoder))
            if live is not None:
                _log_row(live, history[-1])
    bar = tqdm(range(start, last_step), desc=cfg.run_id, disable=not progress or rank != 0, dynamic_ncols=True)
    for step in bar:
        x, is_image = next(stream)
        x, is_image = x.to(device, non_blocking=True), is_image.to(device)
        pairs = masks(x, _mask_generator_for(step, cfg.seed), rank, world)
        pairs = [MaskPair(p.ctx.to(device), p.tgt.to(device)) for p in pairs]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        model.train()
        with amp:
            loss, terms = ddp(x, is_image, pairs, target_encoder, step / t_cfg.steps)
        _check_finite(terms, cfg, step, ckpt_path)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if t_cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), t_cfg.grad_clip)
        opt.step()
        if model.ema:
            _ema_update(target_encoder, model.encoder, ema_at(step, cfg))
        done = step + 1
        if done % t_cfg.log_every == 0 or done == t_cfg.steps:  # rows do not depend on where a run stopped
            values = torch.stack([loss.detach().float(), *(v.detach().float() for v in terms.values())])
            if world > 1:  # the logged values are those of the global batch, as in a single-process run
                dist.all_reduce(values)
                values = values / world
            values = values.tolist()
            row = {"step": done, "loss": values[0], "lr": lr_at(step, cfg),
                   **{f"loss_{k}": v for k, v in zip(terms, values[1:])},
                   "target_std": _target_std(target_encoder if model.ema else model.encoder, x)}
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", std=f"{row['target_std']:.3f}")
            if live is not None:
                _log_row(live, row)
        if rank == 0 and (done % t_cfg.checkpoint_every == 0 or done == last_step):
            _save_checkpoint(ckpt_path, model, opt, target_encoder, done, cfg, history, init_copy)
    elapsed = time.perf_counter() - t0
    summary = {"run_id": cfg.run_id, "profile": cfg.profile_name, "steps": last_step,
               "seconds": round(elapsed, 2), "ms_per_step": round(1000 * elapsed / (last_step - start), 2) if last_step > start else None,
               "final_loss": history[-1]["loss"] if history else None,
               "final_target_std": history[-1]["target_std"] if history else None}
    summary["collapsed"] = bool(summary["final_target_std"] is not None
                                and summary["final_target_std"] < t_cfg.collapse_std)
    stats = getattr(stream, "stats", None)  # real-data loader: clips served, bad files skipped and which
    if stats is not None:
        summary["data"] = stats.as_dict()
    if rank == 0 and (last_step == t_cfg.steps or init_copy is not None):
        encoder = target_encoder if model.ema else init_copy if init_copy is not None else model.encoder
        torch_save(out_dir / "encoder.pt", {"encoder": encoder.state_dict(), "model_cfg": cfg.profile.model.model_dump(),
                                            "run_id": cfg.run_id})
        write_json(out_dir / "summary.json", summary)
    if live is not None:
        live.end()
    return summary


@torch.no_grad()
def _init_row(model: JEPA, batch, masks: MaskGenerator, cfg: RunConfig, device, target_encoder) -> dict:
    """The logged row of a model that is not trained: its loss on the first batch, at step 0."""
    x, is_image = (t.to(device) for t in batch)
    pairs = [MaskPair(p.ctx.to(device), p.tgt.to(device)) for p in masks(x, _mask_generator_for(0, cfg.seed))]
    model.eval()
    loss, terms = model(x, is_image, pairs, target_encoder, 0.0)
    return {"step": 0, "loss": float(loss), "lr": 0.0, **{f"loss_{k}": float(v) for k, v in terms.items()},
            "target_std": _target_std(target_encoder if model.ema else model.encoder, x)}


def step_flops(cfg: RunConfig, x: torch.Tensor, is_image: torch.Tensor, mask_seeds=(0,),
               context_weight: float = 0.0) -> float:
    """FLOPs of one training step's forward + backward (torch's FlopCounterMode; the optimizer's elementwise
    work not counted), averaged over the mask draws of `mask_seeds`: a cost that, unlike wall time on a
    shared machine, does not depend on what else ran beside it."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = JEPA(cfg)
    target = copy.deepcopy(model.encoder).requires_grad_(False)
    masks = MaskGenerator(cfg.profile.mask, cfg.profile.model, cfg.variant.guidance, cfg.variant.future)
    total = 0
    for seed in mask_seeds:
        pairs = masks(x, torch.Generator().manual_seed(seed))
        with FlopCounterMode(display=False) as counter:
            loss, _ = model(x, is_image, pairs, target, context_weight)
            loss.backward()
        total += counter.get_total_flops()
    return float(total / len(mask_seeds))


@torch.no_grad()
def _ema_update(target_encoder: nn.Module, online: nn.Module, momentum: float) -> None:
    for pt, po in zip(target_encoder.parameters(), online.parameters()):
        pt.lerp_(po.detach(), 1.0 - momentum)


@torch.no_grad()
def _target_std(encoder: nn.Module, x: torch.Tensor) -> float:
    """Collapse monitor: mean over channels of the std of layer-normed target tokens across the batch."""
    was = encoder.training
    encoder.eval()
    h, _ = encoder(x[: min(8, len(x))])
    encoder.train(was)
    h = F.layer_norm(h, h.shape[-1:]).mean(dim=1)
    return float(h.std(dim=0).mean())


def _check_finite(terms: dict[str, torch.Tensor], cfg: RunConfig, step: int, ckpt: Path) -> None:
    """One host sync per step for all terms (on a GPU each bool() waits for the device); names the bad term."""
    if bool(torch.stack([torch.isfinite(v.detach()).all() for v in terms.values()]).all()):
        return
    for name, value in terms.items():
        if not torch.isfinite(value).all():
            raise NonFiniteLossError(
                f"variant {cfg.variant_name!r} ({cfg.run_id}), step {step}: loss term {name!r} is {float(value.detach())}; "
                f"stopped without updating; last good checkpoint: {ckpt if ckpt.exists() else 'none yet'}")


def config_hash(cfg: RunConfig) -> str:
    """Short hash of everything that shapes a run's trajectory (descriptions excluded)."""
    dump = cfg.model_dump(mode="json", exclude={"profile": {"description"}, "variant": {"description"}})
    return hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()[:12]


def _save_checkpoint(path: Path, model: JEPA, opt, target_encoder, step: int, cfg: RunConfig, history: list[dict],
                     init_copy: nn.Module | None = None) -> None:
    """Plain tensors, numbers and strings only, so resuming loads it with weights_only=True."""
    torch_save(path, {"model": model.state_dict(), "opt": opt.state_dict(),
                      "target": target_encoder.state_dict() if model.ema else None,
                      "init_copy": init_copy.state_dict() if init_copy is not None else None,
                      "step": step, "run_id": cfg.run_id, "config_hash": config_hash(cfg), "history": history})


def load_checkpoint(path: Path, cfg: RunConfig, device="cpu") -> dict:
    """Read last.pt without executing anything in it; refuse one of another run or configuration."""
    fix = "delete it to train this run from step 0"
    state = torch_load(path, fix, map_location=device, error=CheckpointError)
    if not isinstance(state, dict) or not {"model", "opt", "step"} <= state.keys():
        raise CheckpointError(f"{path}: not a training checkpoint (no model/opt/step entries); {fix}")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= cfg.profile.train.steps:
        raise CheckpointError(f"{path}: step {step!r} is not a step of this run (0..{cfg.profile.train.steps}); {fix}")
    theirs = (state.get("run_id"), state.get("config_hash"))
    ours = (cfg.run_id, config_hash(cfg))
    if theirs != ours:
        raise CheckpointError(f"{path}: checkpoint of run {theirs[0]} (config {theirs[1]}), not of this run "
                              f"{ours[0]} (config {ours[1]}); {fix}, or pass another run folder")
    return state


def _open_live(live_dir, history: list[dict]):
    """A fresh dvclive folder that replays the checkpoint's logged rows: no step appears twice after a resume,
    and the curve is whole even when DVC deleted the folder before rerunning the stage."""
    if live_dir is None:
        return None
    from dvclive import Live

    live = Live(dir=str(live_dir), resume=False, save_dvc_exp=False, dvcyaml=None, report=None)
    for row in history:
        _log_row(live, row)
    return live


def _log_row(live, row: dict) -> None:
    live.step = row["step"]
    for k, v in row.items():
        if k != "step":
            live.log_metric(f"train/{k}", v)
    live.next_step()

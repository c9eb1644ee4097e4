"""V-JEPA pretraining with auxiliary objectives: the loop reads top to bottom.

    clip -> masks -> context encoder (visible tokens) -> predictor -> L1 to
    layer-normed EMA-target tokens  (+ the variant's auxiliary terms)

Runs on one CPU, one GPU, or many through `torchrun` (DDP). A checkpoint is
written atomically every `checkpoint_every` steps and the loop resumes from it;
batches and masks are pure functions of (seed, step), so a resumed CPU run ends
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import copy
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
from jepa.io import torch_save, write_json
from jepa.masks import MaskGenerator, MaskPair
from jepa.models.vit import Predictor, VideoViT, gather_tokens
from jepa.objectives import AuxContext, build_objectives
from jepa.objectives.common import variance_covariance


class NonFiniteLossError(RuntimeError):
    """A loss term became NaN/Inf; the last good checkpoint is kept."""


class JEPA(nn.Module):
    """Context encoder + predictor + objective heads: everything the optimizer trains (and DDP wraps)."""

    def __init__(self, cfg: RunConfig):
        super().__init__()
        m = cfg.profile.model
        self.encoder = VideoViT(m)
        self.predictor = Predictor(m)
        self.hierarchical = cfg.variant.aux_features == "hierarchical"
        aux_dim = m.embed_dim * (len(self.encoder.levels) if self.hierarchical else 1)
        self.aux = build_objectives(cfg.variant.terms, aux_dim, where=f"variants.{cfg.variant_name}.terms", model=m)
        self.tubelet, self.patch, self.grid = m.tubelet, m.patch, m.grid
        self.vc = (cfg.profile.train.vc_std, cfg.profile.train.vc_cov)

    def forward(self, x: torch.Tensor, is_image: torch.Tensor, masks: list[MaskPair], target: nn.Module | None,
                progress: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        need_aux = len(self.aux) > 0
        # Targets: EMA encoder under no-grad, or (EMA off) this encoder with gradients flowing.
        with torch.no_grad() if target is not None else nullcontext():
            h_out, h_levels = (target or self.encoder)(x, return_levels=need_aux and self.hierarchical)
            h = F.layer_norm(h_out, h_out.shape[-1:])
        jepa_loss, ctx = 0.0, None
        for i, pair in enumerate(masks):
            z, z_levels = self.encoder(x, keep=pair.ctx, return_levels=need_aux and self.hierarchical and i == 0)
            pred = self.predictor(z, pair.ctx, pair.tgt)
            tgt = gather_tokens(h, pair.tgt)
            jepa_loss = jepa_loss + (pred - tgt).abs().mean() / len(masks)
            if need_aux and i == 0:
                ctx = self._aux_context(x, is_image, pair, z, z_levels, h, h_levels, pred, tgt, progress)
            if any(self.vc) and i == 0:  # the profile's recipe regulariser, same for every variant
                vc_terms = variance_covariance(F.layer_norm(z, z.shape[-1:]).flatten(0, 1), *self.vc)
        terms = {"jepa": jepa_loss}
        if any(self.vc):
            terms.update(vc_terms)
        if ctx is not None:
            for objective in self.aux.values():
                terms.update(objective(ctx))
        return sum(terms.values()), terms

    def _aux_context(self, x, is_image, pair, z, z_levels, h, h_levels, pred, tgt, progress) -> AuxContext:
        b, n = h.shape[:2]
        t = self.grid[0]
        z_feat = torch.cat(z_levels, -1) if self.hierarchical else F.layer_norm(z, z.shape[-1:])
        h_feat = torch.cat(h_levels, -1) if self.hierarchical else h
        z_grid = z_feat.new_zeros(b, n, z_feat.shape[-1]).scatter(1, pair.ctx[..., None].expand_as(z_feat), z_feat)
        valid = torch.zeros(b, n, dtype=torch.bool, device=x.device).scatter_(1, pair.ctx, True)
        return AuxContext(z=z_grid.view(b, t, n // t, -1), z_valid=valid.view(b, t, n // t),
                          h=h_feat.view(b, t, n // t, -1), pred=pred, target=tgt, tgt_idx=pair.tgt, clip=x,
                          is_image=is_image, progress=progress, tubelet=self.tubelet, patch=self.patch)


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


def _mask_generator_for(step: int, seed: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed(hash((seed, step, rank, 104729)) % (2 ** 63))


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
        from jepa.data.stream import banked_stream

        return banked_stream(paths.clip_bank_dir(cfg.regime, cfg.seed), cfg.regime, cfg.seed, p.train.batch_size,
                             p.model.frames, p.model.img_size, start_step=start_step, weights=p.data.mixed_weights,
                             rank=rank, world_size=world)
    from jepa.data.real import real_stream  # paper profile: real datasets under data/raw

    return real_stream(cfg, start_step=start_step, rank=rank, world_size=world)


def pretrain(cfg: RunConfig, out_dir: str | Path, live_dir: str | Path | None = None,
             stream_fn: Callable[[int, int, int], Iterator] | None = None, progress: bool = True,
             stop_after: int | None = None) -> dict:
    """Train one run; returns (and writes to out_dir/summary.json) the final metrics.

    `stream_fn(start_step, rank, world_size)` yields (clip, is_image) batches
    (default: the profile's data source); `stop_after` ends the loop early at
    that step, as a crash would (used to test resumption).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_cfg = cfg.profile.train
    if t_cfg.threads:
        torch.set_num_threads(t_cfg.threads)
    rank, world, device = setup_distributed()
    torch.manual_seed(cfg.seed)

    model = JEPA(cfg).to(device)
    target = copy.deepcopy(model.encoder).requires_grad_(False).eval() if cfg.variant.ema else None
    opt = torch.optim.AdamW(_param_groups(model, t_cfg.weight_decay), lr=t_cfg.lr, betas=t_cfg.betas)
    start = 0
    ckpt_path = out_dir / "last.pt"
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        if target is not None:
            target.load_state_dict(state["target"])
        start = state["step"]
    ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model
    masks = MaskGenerator(cfg.profile.mask, cfg.profile.model, cfg.variant.guidance, cfg.variant.future)
    stream = (stream_fn or partial(default_stream, cfg))(start, rank, world)
    amp = (torch.autocast("cuda", dtype=torch.bfloat16 if t_cfg.amp == "bf16" else torch.float16)
           if t_cfg.amp != "off" and device.type == "cuda" else nullcontext())
    live = _open_live(live_dir, resume=start > 0) if rank == 0 else None

    history: list[dict] = []
    t0 = time.perf_counter()
    last_step = min(t_cfg.steps, stop_after) if stop_after is not None else t_cfg.steps
    bar = tqdm(range(start, last_step), desc=cfg.run_id, disable=not progress or rank != 0, dynamic_ncols=True)
    for step in bar:
        x, is_image = next(stream)
        x, is_image = x.to(device, non_blocking=True), is_image.to(device)
        pairs = masks(x, _mask_generator_for(step, cfg.seed, rank))
        pairs = [MaskPair(p.ctx.to(device), p.tgt.to(device)) for p in pairs]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        model.train()
        with amp:
            loss, terms = ddp(x, is_image, pairs, target, step / t_cfg.steps)
        _check_finite(terms, cfg, step, ckpt_path)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if t_cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), t_cfg.grad_clip)
        opt.step()
        if target is not None:
            _ema_update(target, model.encoder, ema_at(step, cfg))
        done = step + 1
        if done % t_cfg.log_every == 0 or done == last_step:
            values = torch.stack([loss.detach().float(), *(v.detach().float() for v in terms.values())]).tolist()
            row = {"step": done, "loss": values[0], "lr": lr_at(step, cfg),
                   **{f"loss_{k}": v for k, v in zip(terms, values[1:])},
                   "target_std": _target_std(target or model.encoder, x)}
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", std=f"{row['target_std']:.3f}")
            if live is not None:
                live.step = done
                for k, v in row.items():
                    if k != "step":
                        live.log_metric(f"train/{k}", v)
                live.next_step()
        if rank == 0 and (done % t_cfg.checkpoint_every == 0 or done == last_step):
            _save_checkpoint(ckpt_path, model, opt, target, done, cfg)
    elapsed = time.perf_counter() - t0
    summary = {"run_id": cfg.run_id, "profile": cfg.profile_name, "steps": last_step,
               "seconds": round(elapsed, 2), "ms_per_step": round(1000 * elapsed / max(1, last_step - start), 2),
               "final_loss": history[-1]["loss"] if history else None,
               "final_target_std": history[-1]["target_std"] if history else None}
    summary["collapsed"] = bool(summary["final_target_std"] is not None
                                and summary["final_target_std"] < t_cfg.collapse_std)
    stats = getattr(stream, "stats", None)  # real-data loader: clips served, bad files skipped and which
    if stats is not None:
        summary["data"] = stats.as_dict()
    if rank == 0 and last_step == t_cfg.steps:
        encoder = target if target is not None else model.encoder
        torch_save(out_dir / "encoder.pt", {"encoder": encoder.state_dict(), "model_cfg": cfg.profile.model.model_dump(),
                                            "run_id": cfg.run_id})
        write_json(out_dir / "summary.json", summary)
    if live is not None:
        live.end()
    return summary


@torch.no_grad()
def _ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    for pt, po in zip(target.parameters(), online.parameters()):
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


def _save_checkpoint(path: Path, model: JEPA, opt, target, step: int, cfg: RunConfig) -> None:
    torch_save(path, {"model": model.state_dict(), "opt": opt.state_dict(),
                      "target": target.state_dict() if target is not None else None,
                      "step": step, "run_id": cfg.run_id})


def _open_live(live_dir, resume: bool):
    if live_dir is None:
        return None
    from dvclive import Live

    return Live(dir=str(live_dir), resume=resume, save_dvc_exp=False, dvcyaml=None, report=None)

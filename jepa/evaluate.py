"""Frozen-feature evaluation: token extraction, linear and attentive probes, floors.

Features are extracted once per (encoder, dataset) and probes train on the
cached tokens, so several probe seeds cost little. Every accuracy is reported
beside two floors probed the same way: a randomly initialised encoder of the
same architecture, and raw pixels (the tubelet patches themselves as tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from timm.layers import AttentionPoolLatent
from torch import nn

from jepa.config import ModelCfg, ProbeCfg
from jepa.data.clips import to_model_input
from jepa.io import CheckpointFileError, torch_load
from jepa.models.vit import VideoViT


class EncoderFileError(CheckpointFileError):
    """encoder.pt cannot be used: unreadable, not plain tensors, or not an encoder."""


def load_encoder(path: str | Path) -> VideoViT:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no encoder checkpoint; the pretrain stage writes it (run `dvc repro`)")
    fix = "delete it and rerun its pretrain stage"
    state = torch_load(path, fix, error=EncoderFileError)  # weights_only: never runs code from the file
    try:
        encoder = VideoViT(ModelCfg(**state["model_cfg"]))
        encoder.load_state_dict(state["encoder"])
    except Exception as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0][:120]
        raise EncoderFileError(f"{path}: not an encoder checkpoint of this code ({reason}); {fix}") from None
    return encoder.eval()


def random_encoder(cfg: ModelCfg, seed: int) -> VideoViT:
    torch.manual_seed(seed)
    return VideoViT(cfg).eval()


@torch.no_grad()
def encoder_tokens(encoder: VideoViT, videos: np.ndarray, batch_size: int = 64) -> torch.Tensor:
    """(N, T, H, W, 3) uint8 -> (N, tokens, D) layer-normed final tokens of the frozen encoder."""
    encoder.eval()
    out = []
    for i in range(0, len(videos), batch_size):
        h, _ = encoder(to_model_input(videos[i:i + batch_size]))
        out.append(F.layer_norm(h, h.shape[-1:]))
    return torch.cat(out)


def pixel_tokens(videos: np.ndarray, tubelet: int, patch: int) -> torch.Tensor:
    """The raw-pixel floor's 'features': each token is its normalized tubelet patch, flattened."""
    x = to_model_input(videos)  # (N, C, T, H, W)
    n, c, t, h, w = x.shape
    x = x.reshape(n, c, t // tubelet, tubelet, h // patch, patch, w // patch, patch)
    return x.permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(n, (t // tubelet) * (h // patch) * (w // patch), -1)


class LinearProbe(nn.Module):
    """Linear classifier on mean-pooled tokens."""

    def __init__(self, dim: int, num_classes: int, heads: int = 1):
        super().__init__()
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(tokens.mean(dim=1))


class AttentiveProbe(nn.Module):
    """Learned query cross-attending over all tokens (multi-head), residual MLP, LayerNorm, linear."""

    def __init__(self, dim: int, num_classes: int, heads: int = 8):
        super().__init__()
        heads = max(h for h in range(1, heads + 1) if dim % h == 0)
        self.pool = AttentionPoolLatent(dim, num_heads=heads, mlp_ratio=1.0)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.pool(tokens)))


PROBES = {"linear": LinearProbe, "attentive": AttentiveProbe}


@dataclass
class ProbeData:
    train: torch.Tensor      # (N, tokens, D)
    train_y: torch.Tensor    # (N,)
    val: torch.Tensor
    val_y: torch.Tensor
    num_classes: int


def _standardize(data: ProbeData) -> ProbeData:
    """Per-channel z-scoring with training statistics: puts encoders and pixels on one footing."""
    flat = data.train.reshape(-1, data.train.shape[-1])
    mean, std = flat.mean(0), flat.std(0).clamp_min(1e-6)
    return ProbeData((data.train - mean) / std, data.train_y, (data.val - mean) / std, data.val_y, data.num_classes)


def train_probe(kind: str, data: ProbeData, cfg: ProbeCfg, seed: int) -> float:
    """Fit one probe with AdamW (docs/method.md, "Evaluation protocol") and return validation top-1 accuracy in [0, 1]."""
    torch.manual_seed(seed)
    probe = PROBES[kind](data.train.shape[-1], data.num_classes, cfg.heads)
    opt = torch.optim.AdamW(probe.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = len(data.train)
    steps_per_epoch = max(1, n // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs * steps_per_epoch)
    probe.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(steps_per_epoch):
            idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            loss = F.cross_entropy(probe(data.train[idx]), data.train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    probe.eval()
    with torch.no_grad():
        pred = torch.cat([probe(data.val[i:i + 256]).argmax(-1) for i in range(0, len(data.val), 256)])
    return float((pred == data.val_y).float().mean())


def probe_accuracy(kind: str, data: ProbeData, cfg: ProbeCfg) -> dict:
    """Mean over the profile's probe seeds (attentive probes vary by several points with their own seed)."""
    data = _standardize(data)
    accs = [train_probe(kind, data, cfg, s) for s in cfg.seeds]
    return {"acc": float(np.mean(accs)), "accs": accs, "probe": kind,
            "n_train": len(data.train), "n_val": len(data.val)}


def evaluate_tokens(token_fn, eval_dir: str | Path, probe_cfg: ProbeCfg, tasks=None) -> dict:
    """Probe one feature extractor on every analogue with the profile's protocol (linear/attentive)."""
    from jepa.data import eval_data
    from jepa.config import BENCHMARKS

    results = {}
    for task in tasks or BENCHMARKS:
        train, val = eval_data.load(eval_dir, task)
        data = ProbeData(token_fn(train.videos), torch.as_tensor(train.labels), token_fn(val.videos),
                         torch.as_tensor(val.labels), len(train.class_names))
        results[task] = probe_accuracy(probe_cfg.protocol[task], data, probe_cfg)
    return results


def evaluate_pretrained(encoder_path: str | Path, eval_dir: str | Path, probe_cfg: ProbeCfg) -> dict:
    encoder = load_encoder(encoder_path)
    return evaluate_tokens(lambda v: encoder_tokens(encoder, v), eval_dir, probe_cfg)


def evaluate_random_init(model_cfg: ModelCfg, eval_dir: str | Path, probe_cfg: ProbeCfg, seed: int) -> dict:
    """Floor 1: a randomly initialised encoder of the same architecture (this seed), probed the same way."""
    encoder = random_encoder(model_cfg, seed)
    return evaluate_tokens(lambda v: encoder_tokens(encoder, v), eval_dir, probe_cfg)


def evaluate_pixels(model_cfg: ModelCfg, eval_dir: str | Path, probe_cfg: ProbeCfg) -> dict:
    """Floor 2: raw tubelet pixels as tokens, probed the same way (independent of any seed but the probe's)."""
    return evaluate_tokens(lambda v: pixel_tokens(v, model_cfg.tubelet, model_cfg.patch), eval_dir, probe_cfg)

"""Supervised ceilings: what the tiny architecture can read from an analogue's pixels when told the labels.

A frozen-probe accuracy at chance means nothing unless the same encoder architecture, trained
end to end with labels on the same clips and a pretraining-sized budget, does better: the
latent oracle shows the label is in the generator's variables, this shows a small ViT can see
it at the profile's resolution, length and tubelet. An analogue is *usable* when this ceiling
clears the higher of its two floors (random init, raw pixels) by a margin (`usable`).

Analogues: the encoder plus the analogue's probe head (linear or attentive, the same classes as
the frozen probes) trained on the training clips, scored on the validation clips. Few-shot sets:
the encoder plus an attentive head trained on the base (train) classes, then the frozen encoder's
features scored on the same saved episodes of the novel (test) classes, with the same few-shot protocol,
as every other encoder.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jepa.config import ModelCfg
from jepa.data.clips import to_model_input
from jepa.evaluate import PROBES, encoder_tokens
from jepa.models.vit import VideoViT

# Usability margins over the higher floor, in percentage points (analogues; few-shot sets at 5-shot).
USABLE_MARGIN_PP = 20.0
USABLE_MARGIN_FEWSHOT_PP = 15.0


@dataclass(frozen=True)
class CeilingCfg:
    """Budget of one supervised run: by default the tiny pretraining run's (1000 steps of 32 clips).

    head_only_steps > 0 trains the head alone on the frozen encoder for that many steps before the whole
    model trains (linear probing, then fine-tuning: LP-FT), and encoder_lr_scale scales the encoder's
    learning rate: for a weak signal that an end-to-end run erases before the head finds it (the arrow of
    time: the random-init encoder's tokens carry it, the end-to-end run collapses to the class prior).
    """

    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    heads: int = 4
    head_only_steps: int = 0
    encoder_lr_scale: float = 1.0
    standardize: bool = True  # z-score each token channel (batch statistics) before the head, as the frozen probes do
    # Label-preserving augmentation of each training clip (`augment`): `roll` = a random circular shift of every
    # frame alike (the synthetic canvases wrap, so a shifted clip is another clip of the generator); `isometry` =
    # that plus a random rotation by a multiple of 90 degrees and a random flip, for sets whose label does not
    # depend on orientation (temporal order: whether a comet's head leads or trails its motion).
    augment: Literal["none", "roll", "isometry"] = "none"


class Supervised(nn.Module):
    """Encoder + probe head on its layer-normed tokens (the tokens the frozen probes read)."""

    def __init__(self, model_cfg: ModelCfg, kind: str, num_classes: int, heads: int, standardize: bool = False):
        super().__init__()
        self.encoder = VideoViT(model_cfg)
        self.head = PROBES[kind](model_cfg.embed_dim, num_classes, heads)
        # the frozen probes z-score every channel with their training set's statistics (evaluate._standardize);
        # trained end to end, the same is a non-affine batch norm over channels (running statistics in eval)
        self.standardize = nn.BatchNorm1d(model_cfg.embed_dim, affine=False) if standardize else None

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.encoder(x)
        h = F.layer_norm(h, h.shape[-1:])
        return h if self.standardize is None else self.standardize(h.transpose(1, 2)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.tokens(x))


def augment_clips(clips: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """(N, T, H, W, C) uint8 clips, each shifted (and, for `isometry`, rotated and flipped) by its own draw, the
    same for all of its frames."""
    if kind == "none":
        return clips
    out = np.empty_like(clips)
    for i, clip in enumerate(clips):
        clip = np.roll(clip, tuple(rng.integers(0, clip.shape[1:3])), axis=(1, 2))
        if kind == "isometry":
            clip = np.rot90(clip, k=int(rng.integers(4)), axes=(1, 2))
            clip = clip[:, :, ::-1] if rng.integers(2) else clip
        out[i] = clip
    return out


def _lr_factor(step: int, cfg: CeilingCfg) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train_supervised(videos: np.ndarray, labels: np.ndarray, num_classes: int, model_cfg: ModelCfg, kind: str,
                     cfg: CeilingCfg, seed: int) -> tuple[Supervised, list[float]]:
    """End-to-end cross-entropy training (AdamW, warm-up + cosine); returns the model and its loss curve."""
    torch.manual_seed(seed)
    model = Supervised(model_cfg, kind, num_classes, cfg.heads, cfg.standardize)
    opt = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": cfg.lr * cfg.encoder_lr_scale},
                             {"params": model.head.parameters(), "lr": cfg.lr}], weight_decay=cfg.weight_decay)
    peak = [g["lr"] for g in opt.param_groups]
    gen = np.random.default_rng(seed)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    losses = []
    model.train()
    for step in range(cfg.steps):
        head_only = step < cfg.head_only_steps
        for g, lr, is_encoder in zip(opt.param_groups, peak, (True, False)):
            g["lr"] = 0.0 if head_only and is_encoder else lr * _lr_factor(step, cfg)
        idx = gen.choice(len(labels), size=min(cfg.batch_size, len(labels)), replace=False)
        x = to_model_input(augment_clips(videos[idx], cfg.augment, gen))
        if head_only:
            with torch.no_grad():
                tokens = model.tokens(x)
            logits = model.head(tokens)
        else:
            logits = model(x)
        loss = F.cross_entropy(logits, y_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


@torch.no_grad()
def accuracy(model: Supervised, videos: np.ndarray, labels: np.ndarray, batch_size: int = 128) -> float:
    model.eval()
    pred = torch.cat([model(to_model_input(videos[i:i + batch_size])).argmax(-1)
                      for i in range(0, len(videos), batch_size)])
    return float((pred.numpy() == np.asarray(labels)).mean())


@torch.no_grad()
def frozen_tokens(model: Supervised, videos: np.ndarray, batch_size: int = 128) -> torch.Tensor:
    """(N, tokens, D) tokens of the trained encoder, read exactly as a pretrained one's."""
    return encoder_tokens(model.encoder, videos, batch_size)


def analogue_ceiling(train, val, model_cfg: ModelCfg, kind: str, cfg: CeilingCfg, seed: int) -> dict:
    """Supervised ceiling of one analogue (ClipSets train/val); accuracies are fractions."""
    model, losses = train_supervised(train.videos, train.labels, len(train.class_names), model_cfg, kind, cfg, seed)
    return {"val_acc": accuracy(model, val.videos, val.labels), "train_acc": accuracy(model, train.videos, train.labels),
            "final_loss": float(np.mean(losses[-20:])), "n_train": len(train), "n_val": len(val),
            "probe": kind, "seed": seed, **{f"cfg_{k}": v for k, v in asdict(cfg).items()}}


def usable(ceiling_pp: float, floors_pp, fewshot: bool = False) -> bool:
    """The rule: the ceiling clears the higher floor by the margin (pp)."""
    margin = USABLE_MARGIN_FEWSHOT_PP if fewshot else USABLE_MARGIN_PP
    floors = [f for f in floors_pp if f is not None and np.isfinite(f)]
    return bool(floors) and ceiling_pp - max(floors) >= margin

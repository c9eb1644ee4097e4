"""Frozen-feature evaluation: token extraction, linear and attentive probes, floors.

Features are extracted once per (encoder, dataset) and probes train on the
cached tokens; the probe seeds of one analogue train together in one batched
pass (`fit_probes`), each with its own initialisation, batch order and
optimizer state, as one at a time (`fit_probe`). Every accuracy is reported
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


def probe_heads(dim: int, heads: int) -> int:
    """The attentive probe's heads: the most, up to `heads`, that divide the token width."""
    return max(h for h in range(1, heads + 1) if dim % h == 0)


class AttentiveProbe(nn.Module):
    """Learned query cross-attending over all tokens (multi-head), residual MLP, LayerNorm, linear."""

    def __init__(self, dim: int, num_classes: int, heads: int = 8):
        super().__init__()
        heads = probe_heads(dim, heads)
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
    probe = fit_probe(kind, data, cfg, seed)
    with torch.no_grad():
        pred = torch.cat([probe(data.val[i:i + 256]).argmax(-1) for i in range(0, len(data.val), 256)])
    return float((pred == data.val_y).float().mean())


def fit_probe(kind: str, data: ProbeData, cfg: ProbeCfg, seed: int) -> nn.Module:
    """One probe seed trained on its own (`fit_probes` trains several seeds at once)."""
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
    return probe.eval()


def _stacked_init(kind: str, dim: int, num_classes: int, heads: int, seeds) -> dict[str, torch.Tensor]:
    """Each seed's probe initialised exactly as `train_probe` does, its parameters stacked along a seed axis.

    The attentive probe's kv projection is split into its key and value halves; the key bias is left
    out: it adds one constant to every score of a head, which the softmax cancels.
    """
    stacked: dict[str, list[torch.Tensor]] = {}
    for seed in seeds:
        torch.manual_seed(seed)
        probe = PROBES[kind](dim, num_classes, heads)
        named = dict(probe.named_parameters())
        if kind == "attentive":
            kv_w, kv_b = named.pop("pool.kv.weight"), named.pop("pool.kv.bias")
            named |= {"pool.k.weight": kv_w[:dim], "pool.v.weight": kv_w[dim:], "pool.v.bias": kv_b[dim:]}
        for name, value in named.items():
            stacked.setdefault(name, []).append(value.detach())
    return {name: torch.stack(values) for name, values in stacked.items()}


class _FlatParams:
    """Stacked parameters held in one flat leaf tensor, so AdamW's elementwise update is a handful of ops
    instead of a handful per parameter (the same values as per-parameter updates: each element's update
    reads only its own gradient and state)."""

    def __init__(self, params: dict[str, torch.Tensor]):
        self.shapes = {name: value.shape for name, value in params.items()}
        self.flat = torch.cat([value.flatten() for value in params.values()]).requires_grad_()

    def views(self) -> dict[str, torch.Tensor]:
        parts = self.flat.split([shape.numel() for shape in self.shapes.values()])
        return {name: part.view(shape) for (name, shape), part in zip(self.shapes.items(), parts)}


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-seed nn.Linear: (S, B, in) x (S, out, in) + (S, out) -> (S, B, out)."""
    return torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))


def _stacked_logits(kind: str, p: dict[str, torch.Tensor], x: torch.Tensor, heads: int) -> torch.Tensor:
    """(S, B, ...) inputs -> (S, B, classes): the probes of `PROBES` for S seeds at once.

    linear: x is the mean-pooled tokens (S, B, D). attentive: x is (S, B, N, D), and the pooling is
    AttentionPoolLatent's with its products re-associated, same math: a head's scores are
    x . (Wk_h^T q_h) and its output Wv_h (sum_n a_n x_n) + bv_h (the weights a_n sum to one), so the
    key and value projections are never applied to every token (an order of magnitude fewer FLOPs at
    the tiny profile's 64 tokens).
    """
    if kind == "linear":
        return _linear(x, p["head.weight"], p["head.bias"])
    s, b, n, d = x.shape
    hd = d // heads
    q = _linear(p["pool.latent"].view(s, 1, d), p["pool.q.weight"], p["pool.q.bias"])  # (S, 1, D)
    u = (q.view(s, heads, hd, 1) * p["pool.k.weight"].view(s, heads, hd, d)).sum(2) * hd ** -0.5  # (S, H, D)
    attn = torch.bmm(x.reshape(s, b * n, d), u.transpose(1, 2)).view(s, b, n, heads).softmax(2)
    pooled = torch.matmul(attn.transpose(2, 3), x)  # (S, B, H, D)
    v = torch.einsum("sbhd,shkd->sbhk", pooled, p["pool.v.weight"].view(s, heads, hd, d))
    h = _linear((v + p["pool.v.bias"].view(s, 1, heads, hd)).reshape(s, b, d), p["pool.proj.weight"],
                p["pool.proj.bias"])
    mlp = _linear(F.gelu(_linear(h, p["pool.mlp.fc1.weight"], p["pool.mlp.fc1.bias"])), p["pool.mlp.fc2.weight"],
                  p["pool.mlp.fc2.bias"])
    h = F.layer_norm(h + mlp, (d,)) * p["norm.weight"].unsqueeze(1) + p["norm.bias"].unsqueeze(1)
    return _linear(h, p["head.weight"], p["head.bias"])


def train_probes(kind: str, data: ProbeData, cfg: ProbeCfg, seeds) -> list[float]:
    """`train_probe` for several seeds in one pass (`fit_probes`): each seed's validation top-1 accuracy."""
    logits = fit_probes(kind, data, cfg, seeds)
    return [float(a) for a in (logits.argmax(-1) == data.val_y).float().mean(1)]


def fit_probes(kind: str, data: ProbeData, cfg: ProbeCfg, seeds) -> torch.Tensor:
    """`fit_probe` for several seeds at once -> their validation logits (S, N_val, classes).

    Each seed keeps its own initialisation, batch order and optimizer state (AdamW is elementwise and
    each seed's loss reaches only its own parameters), so the seeds train together in batched matrix
    products instead of one after another. Same math as `fit_probe`; only the floating-point summation
    order differs.
    """
    seeds = list(seeds)
    dim, n = data.train.shape[-1], len(data.train)
    heads = probe_heads(dim, cfg.heads)
    params = _FlatParams(_stacked_init(kind, dim, data.num_classes, cfg.heads, seeds))
    opt = torch.optim.AdamW([params.flat], lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=False)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    steps_per_epoch = max(1, n // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs * steps_per_epoch)
    # the linear probe reads only the mean over tokens: pool once, not at every step
    train, val = (data.train.mean(1), data.val.mean(1)) if kind == "linear" else (data.train, data.val)
    for _ in range(cfg.epochs):
        orders = torch.stack([torch.randperm(n, generator=g) for g in gens])
        for i in range(steps_per_epoch):
            idx = orders[:, i * cfg.batch_size:(i + 1) * cfg.batch_size]
            batch = train.index_select(0, idx.flatten()).view(*idx.shape, *train.shape[1:])
            logits = _stacked_logits(kind, params.views(), batch, heads)
            # the sum over seeds of each seed's mean loss: every seed's gradient is its own
            loss = F.cross_entropy(logits.flatten(0, 1), data.train_y[idx].flatten(), reduction="sum") / idx.shape[1]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        p = params.views()
        return torch.cat([_stacked_logits(kind, p, chunk.expand(len(seeds), *chunk.shape), heads)
                          for chunk in val.split(256)], 1)


def probe_accuracy(kind: str, data: ProbeData, cfg: ProbeCfg) -> dict:
    """Mean over the profile's probe seeds (attentive probes vary by several points with their own seed)."""
    data = _standardize(data)
    accs = train_probes(kind, data, cfg, cfg.seeds)
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

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
from jepa.models.vit import VideoViT


def load_encoder(path: str | Path) -> VideoViT:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no encoder checkpoint; the pretrain stage writes it (run `dvc repro`)")
    state = torch.load(path, map_location="cpu", weights_only=False)
    encoder = VideoViT(ModelCfg(**state["model_cfg"]))
    encoder.load_state_dict(state["encoder"])
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
    """Fit one probe with AdamW (DESIGN section 5) and return validation top-1 accuracy in [0, 1]."""
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


class StackedProbes:
    """K probes of one kind, parameters stacked along a leading seed axis, run in one batched pass.

    Inputs are (K, B, tokens, D): each probe sees its own minibatch. The ops are those of the probe
    modules (mean pooling or timm's AttentionPoolLatent, LayerNorm, linear) with the K probes' matrix
    products as one batched product and their attention as one SDPA call over K x B rows."""

    def __init__(self, probes: list[nn.Module]):
        self.kind = "attentive" if isinstance(probes[0], AttentiveProbe) else "linear"
        self.names = [n for n, _ in probes[0].named_parameters()]
        self.params = {n: torch.stack([dict(p.named_parameters())[n].detach() for p in probes]).requires_grad_()
                       for n in self.names}
        if self.kind == "attentive":
            pool = probes[0].pool
            self.heads, self.eps = pool.num_heads, probes[0].norm.eps
            assert pool.fused_attn and pool.pos_embed is None and isinstance(pool.norm, nn.Identity)

    @staticmethod
    def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(K, B, i) x (K, o, i) + (K, o) -> (K, B, o)."""
        return torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        p = self.params
        if self.kind == "linear":
            return self._linear(tokens.mean(dim=2), p["head.weight"], p["head.bias"])
        k, b, n, d = tokens.shape
        hd = d // self.heads
        q = self._linear(p["pool.latent"][:, 0], p["pool.q.weight"], p["pool.q.bias"])  # (K, 1, D)
        q = q.unsqueeze(1).expand(k, b, 1, d).reshape(k * b, 1, self.heads, hd).transpose(1, 2)
        kv = self._linear(tokens.reshape(k, b * n, d), p["pool.kv.weight"], p["pool.kv.bias"])
        kv = kv.reshape(k * b, n, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, kv[0], kv[1])
        x = x.transpose(1, 2).reshape(k, b, d)
        x = self._linear(x, p["pool.proj.weight"], p["pool.proj.bias"])
        h = F.gelu(self._linear(x, p["pool.mlp.fc1.weight"], p["pool.mlp.fc1.bias"]))
        x = x + self._linear(h, p["pool.mlp.fc2.weight"], p["pool.mlp.fc2.bias"])
        x = F.layer_norm(x, (d,), eps=self.eps) * p["norm.weight"].unsqueeze(1) + p["norm.bias"].unsqueeze(1)
        return self._linear(x, p["head.weight"], p["head.bias"])


def train_probes(kind: str, data: ProbeData, cfg: ProbeCfg, seeds: list[int]) -> list[float]:
    """`train_probe` for several seeds at once, stepped together (StackedProbes).

    Each seed's probe starts from the weights `train_probe` builds for it, draws its own minibatch
    order from its own generator and follows its own loss (the summed loss has one term per probe, so
    each probe's gradient is its own); at these sizes the per-step Python and dispatch cost dominates
    and is paid once for all seeds."""
    probes = []
    for seed in seeds:
        torch.manual_seed(seed)
        probes.append(PROBES[kind](data.train.shape[-1], data.num_classes, cfg.heads))
    stacked = StackedProbes(probes)
    opt = torch.optim.AdamW([stacked.params[n] for n in stacked.names], lr=cfg.lr, weight_decay=cfg.weight_decay)
    gens = [torch.Generator().manual_seed(seed) for seed in seeds]
    n = len(data.train)
    steps_per_epoch = max(1, n // cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs * steps_per_epoch)
    for _ in range(cfg.epochs):
        orders = torch.stack([torch.randperm(n, generator=g) for g in gens])
        for i in range(steps_per_epoch):
            idx = orders[:, i * cfg.batch_size:(i + 1) * cfg.batch_size]
            out = stacked(data.train[idx])
            loss = F.cross_entropy(out.flatten(0, 1), data.train_y[idx].flatten(), reduction="none")
            loss = loss.view(len(seeds), -1).mean(1).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        pred = torch.cat([stacked(data.val[i:i + 256].expand(len(seeds), -1, -1, -1)).argmax(-1)
                          for i in range(0, len(data.val), 256)], dim=1)
    return [float(v) for v in (pred == data.val_y).float().mean(1)]


def probe_accuracy(kind: str, data: ProbeData, cfg: ProbeCfg) -> dict:
    """Mean over the profile's probe seeds (attentive probes vary by several points with their own seed)."""
    data = _standardize(data)
    accs = train_probes(kind, data, cfg, list(cfg.seeds))
    return {"acc": float(np.mean(accs)), "accs": accs, "probe": kind,
            "n_train": len(data.train), "n_val": len(data.val)}


def evaluate_tokens(token_fn, eval_dir: str | Path, probe_cfg: ProbeCfg, tasks=None) -> dict:
    """Probe one feature extractor on every analogue with the profile's protocol (linear/attentive)."""
    from jepa import eval_data
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

"""Probe training: the seeds trained together in one batched pass are the per-seed probes of `train_probe`."""

import pytest
import torch

from jepa import evaluate
from jepa.config import ProbeCfg


def _data(n_train=96, n_val=64, tokens=6, dim=12, classes=3, seed=0) -> evaluate.ProbeData:
    """Tokens whose mean carries the class (one channel per class), plus noise."""
    g = torch.Generator().manual_seed(seed)

    def split(n):
        y = torch.arange(n) % classes
        x = torch.randn(n, tokens, dim, generator=g)
        x[torch.arange(n), :, y] += 1.5
        return x, y

    (tr, tr_y), (va, va_y) = split(n_train), split(n_val)
    return evaluate._standardize(evaluate.ProbeData(tr, tr_y, va, va_y, classes))


CFG = ProbeCfg(epochs=6, batch_size=16, lr=1e-2, weight_decay=0.01, heads=4, seeds=[0, 1, 2])


@pytest.mark.parametrize("kind,dim,heads", [("linear", 12, 4), ("attentive", 12, 4), ("attentive", 10, 4)])
def test_stacked_logits_equal_each_seeds_probe_module(kind, dim, heads):
    """dim 10 with 4 heads asked: the probe falls back to 2 heads, as AttentiveProbe does."""
    x = torch.randn(5, 7, dim, generator=torch.Generator().manual_seed(3))
    seeds = [4, 0, 9]
    params = evaluate._FlatParams(evaluate._stacked_init(kind, dim, 6, heads, seeds)).views()
    inputs = x.mean(1) if kind == "linear" else x
    out = evaluate._stacked_logits(kind, params, inputs.expand(3, *inputs.shape),
                                   evaluate.probe_heads(dim, heads))
    assert out.shape == (3, 5, 6)
    for i, seed in enumerate(seeds):
        torch.manual_seed(seed)
        ref = evaluate.PROBES[kind](dim, 6, heads)(x)
        torch.testing.assert_close(out[i], ref, rtol=1e-5, atol=1e-5)


def test_the_key_bias_does_not_change_the_attentive_probe():
    """Why the stacked pooling drops it: softmax ignores a constant added to every score of a head."""
    x = torch.randn(4, 7, 12)
    torch.manual_seed(0)
    probe = evaluate.AttentiveProbe(12, 3, 4)
    before = probe(x)
    with torch.no_grad():
        probe.pool.kv.bias[:12] += torch.randn(12) * 5
    torch.testing.assert_close(probe(x), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["linear", "attentive"])
def test_train_probes_gives_train_probes_accuracies_per_seed(kind):
    data = _data()
    together = evaluate.train_probes(kind, data, CFG, CFG.seeds)
    apart = [evaluate.train_probe(kind, data, CFG, s) for s in CFG.seeds]
    assert together == apart
    assert min(together) > 0.6  # learnt something (chance 1/3)


def test_a_seeds_probe_does_not_depend_on_which_seeds_train_beside_it():
    data = _data(seed=1)
    alone = evaluate.train_probes("attentive", data, CFG, [2])
    assert evaluate.train_probes("attentive", data, CFG, [0, 1, 2])[2] == alone[0]


def test_one_flat_adamw_update_equals_per_parameter_updates():
    """The flat parameter buffer changes how many tensors AdamW loops over, not a single value."""
    g = torch.Generator().manual_seed(0)
    params = {"a": torch.randn(3, 5, 4, generator=g), "b": torch.randn(3, 4, generator=g)}
    grads = [{k: torch.randn(v.shape, generator=g) for k, v in params.items()} for _ in range(3)]
    flat = evaluate._FlatParams(params)
    sep = {k: v.clone().requires_grad_() for k, v in params.items()}
    opts = [torch.optim.AdamW([flat.flat], lr=1e-2, weight_decay=0.1, foreach=False),
            torch.optim.AdamW(sep.values(), lr=1e-2, weight_decay=0.1, foreach=False)]
    for grad in grads:
        flat.flat.grad = torch.cat([grad[k].flatten() for k in params])
        for k in sep:
            sep[k].grad = grad[k]
        for opt in opts:
            opt.step()
    for k, v in flat.views().items():
        assert torch.equal(v, sep[k].detach())

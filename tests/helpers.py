"""Shared test utilities: deterministic random-clip streams (no dependency on the synthetic generator)."""

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

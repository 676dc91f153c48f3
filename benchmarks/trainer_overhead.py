"""Trainer overhead: harness's shared loop against a minimal hand-written PyTorch loop.

Both sides train the same network (built by ``nets.py`` from the model's YAML), on the same
MNIST-1D tensors (default split, standardized), with the same batch size, optimizer and
learning-rate schedule, for the same number of steps, on CPU, without evaluation
(``val_fraction=0``). Ours is timed as the runner times it: ``fit`` wall time minus the
warm-up it reports (``trial_info_["warmup_s"]``). The minimal loop is timed around its
steps only, after one throwaway step. The step count is set per model so that one fit of
the minimal loop takes about ``--seconds``. Repeats alternate the order (ours, minimal,
minimal, ours, ...) so drift on a shared machine hits both sides alike; medians are quoted.

    python benchmarks/trainer_overhead.py [--models cnn mlp perceptron_torch] [--repeats 5]
                                          [--seconds 1] [--threads 1]

Target: ours at least 0.95 of the minimal loop's samples/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "suites" / "model"


def load_data():
    """MNIST-1D, default split, standardized on the training split (the ``raw`` features)."""
    from harness.data.mnist1d import load_mnist1d

    X, y, _, _ = load_mnist1d()
    X = X.reshape(len(X), -1).astype(np.float32)
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32), y.astype(np.int64)


def estimator(model: str, steps: int):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    est = instantiate(OmegaConf.load(MODELS / f"{model}.yaml").estimator)
    return est.set_params(device="cpu", random_state=0, input_shape=(40,), val_fraction=0.0,
                          epochs=10**6, max_steps=steps, early_stopping=None, verbose=0)


def ours(est, X, y) -> tuple[float, int]:
    """(seconds the runner would record as fit_s, samples trained)."""
    t0 = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - t0
    info = est.trial_info_
    return wall - info["warmup_s"], info["steps"] * int(est.batch_size)


def minimal(est, X, y) -> tuple[float, int]:
    """The loop a careful person writes by hand: index-permutation batches, nothing else."""
    import torch
    from torch.nn import functional as F

    torch.manual_seed(0)
    Xt, yt = torch.from_numpy(X).reshape(len(X), 40), torch.from_numpy(y)
    model = est._build((40,), int(yt.max()) + 1)  # the same nets.build call as ours
    opt = torch.optim.AdamW(model.parameters(), lr=est.lr, weight_decay=est.weight_decay)
    bs, n = int(est.batch_size), len(Xt)
    per_epoch, total = n // bs, int(est.max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=est.lr, total_steps=total)
    F.cross_entropy(model(Xt[:bs]), yt[:bs]).backward()  # throwaway warm-up step
    model.zero_grad(set_to_none=True)
    model.train()
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for step in range(total):
        if step % per_epoch == 0:
            perm = torch.randperm(n, generator=gen)
        b = step % per_epoch
        idx = perm[b * bs:(b + 1) * bs]
        loss = F.cross_entropy(model(Xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return time.perf_counter() - t0, total * bs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["cnn", "mlp", "perceptron_torch"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0, help="rough length of one timed fit")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    X, y = load_data()
    print(f"torch {torch.__version__}, CPU, {args.threads} thread(s), MNIST-1D {X.shape}, "
          f"~{args.seconds:g} s a fit, {args.repeats} interleaved repeats")
    print(f"{'model':<18}{'steps':>7}{'ours samples/s':>16}{'minimal samples/s':>19}{'ratio':>8}"
          f"{'ratio range':>16}")
    for name in args.models:
        est = estimator(name, 50)
        ours(est, X, y)  # warm both paths (allocator, kernels) before any timing
        seconds, _ = minimal(est, X, y)
        est.set_params(max_steps=max(50, round(50 * args.seconds / seconds)))
        rates: dict[str, list[float]] = {"ours": [], "minimal": []}
        ratios = []
        for r in range(args.repeats):
            order = ("ours", "minimal") if r % 2 == 0 else ("minimal", "ours")
            got = {}
            for side in order:
                seconds, samples = (ours if side == "ours" else minimal)(est, X, y)
                got[side] = samples / seconds
                rates[side].append(got[side])
            ratios.append(got["ours"] / got["minimal"])
        o, m = statistics.median(rates["ours"]), statistics.median(rates["minimal"])
        print(f"{name:<18}{est.max_steps:>7}{o:>16,.0f}{m:>19,.0f}{statistics.median(ratios):>8.3f}"
              f"{f'{min(ratios):.3f}-{max(ratios):.3f}':>16}", flush=True)
    print("ratio: median of per-repeat ours/minimal (pairs run back to back); target >= 0.95")


if __name__ == "__main__":
    main()

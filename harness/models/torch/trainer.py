"""The one training loop every torch model shares.

Data lives as tensors on the device and batches are gathered from a seeded index
permutation: a DataLoader's worker and collation overhead would dominate the time of
networks this small. Timers are read only after a device synchronisation, and the time
spent evaluating the validation split is kept out of the throughput figures.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from harness.progress import training_step

from .device import synchronize


@dataclass
class LoopConfig:
    """Optimisation settings of one fit; the defaults live in ``TorchClassifier`` only."""

    optimizer: str
    lr: float
    weight_decay: float
    schedule: str
    epochs: int
    max_steps: int | None
    batch_size: int
    early_stopping: int | None
    eval_every: int | None
    target_accuracy: float | None
    bf16: bool
    verbose: int = 0


@dataclass
class LoopResult:
    curve: list = field(default_factory=list)
    steps: int = 0
    epochs: float = 0.0
    samples: int = 0
    train_s: float = 0.0        # training steps only, evaluations excluded
    wall_s: float = 0.0         # whole loop, evaluations included
    time_to_target_s: float = math.nan
    best_val_accuracy: float = math.nan


def make_optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """The named optimizer, with torch's fused kernel where this build and device have one.

    Fused AdamW steps the cnn's 11k parameters in 59 us on one CPU thread against 280 us for
    the per-tensor loop (SGD: 31 against 115 us), ~5% of a step; torch < 2.4 has no fused CPU
    kernel and refuses ``fused=True`` when the optimizer is built, so it falls back there.
    """
    name = str(name).lower()
    kinds = {"adamw": (torch.optim.AdamW, {}), "adam": (torch.optim.Adam, {}),
             "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True})}
    if name not in kinds:
        raise ValueError(f"unknown optimizer {name!r}; choose adamw, adam or sgd")
    cls, extra = kinds[name]
    params = list(params)
    try:
        return cls(params, lr=lr, weight_decay=weight_decay, fused=True, **extra)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or build
        return cls(params, lr=lr, weight_decay=weight_decay, **extra)


def make_schedule(name, opt, lr: float, total_steps: int):
    name = str(name or "constant").lower()
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(total_steps, 1))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    raise ValueError(f"unknown schedule {name!r}; choose onecycle, cosine or constant")


def autocast(device: torch.device, bf16: bool):
    """bf16 autocast on CUDA only; elsewhere a no-op (CPU bf16 is slower, not faster)."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def predict_logits(model, X: torch.Tensor, batch_size: int, bf16: bool = False) -> torch.Tensor:
    """Float32 logits of ``X`` in eval mode and batches, leaving the train mode as found."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), autocast(X.device, bf16):
            out = [model(X[i:i + batch_size]).float() for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def accuracy(model, X, y, batch_size: int, bf16: bool) -> float:
    return (predict_logits(model, X, batch_size, bf16).argmax(1) == y).float().mean().item()


def plan_steps(n: int, cfg: LoopConfig) -> tuple[int, int, int]:
    """Batch size, steps per epoch and total steps (``epochs`` capped by ``max_steps``).

    The last partial batch of an epoch is dropped, so batch norm never sees a batch of one.
    """
    bs = max(1, min(int(cfg.batch_size), n))
    per_epoch = max(1, n // bs)
    total = int(cfg.epochs) * per_epoch
    if cfg.max_steps is not None:
        total = min(total, int(cfg.max_steps))
    return bs, per_epoch, max(total, 1)


def warmup(model, module, X, y, cfg: LoopConfig, n_steps: int) -> None:
    """Run throwaway steps (CUDA context, kernels, ``torch.compile``), then restore the
    initial weights, so the warm-up is overhead the runner can subtract exactly."""
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    opt = make_optimizer(cfg.optimizer, module.parameters(), cfg.lr, cfg.weight_decay)
    bs = max(1, min(int(cfg.batch_size), len(X)))
    for _ in range(n_steps):
        with autocast(X.device, cfg.bf16):
            loss = F.cross_entropy(model(X[:bs]), y[:bs])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for m in {bs, max(1, bs // 2)}:  # two eval shapes: torch.compile goes dynamic here, not later
        predict_logits(model, X[:m], m, cfg.bf16)
    module.load_state_dict(state)
    module.zero_grad(set_to_none=True)
    synchronize(X.device)


def mean_loss(window: list[torch.Tensor], first_step: int, lr: float) -> float:
    """Mean of the per-step losses since the last evaluation (one device sync).

    Raises
    ------
    FloatingPointError
        When a loss in the window is NaN or infinite, naming the first such step, so
        that a diverged run fails its trial in one line instead of training on NaNs.
    """
    losses = torch.stack(window).float()
    mean = losses.mean().item()
    if math.isfinite(mean):
        return mean
    bad = (~torch.isfinite(losses)).nonzero()
    i = int(bad[0]) if len(bad) else 0
    raise FloatingPointError(
        f"training diverged at step {first_step + i} (loss={losses[i].item():g}); "
        f"lower lr (lr={lr:g}) or use a schedule with warm-up")


def train(model, module, X, y, X_val, y_val, cfg: LoopConfig, seed: int) -> LoopResult:
    """Train ``model`` (``module``, possibly compiled) in place and return its curve.

    Evaluates on the validation split every ``eval_every`` steps (default: once an epoch)
    and at the end; with ``early_stopping`` it stops after that many evaluations without
    a better validation accuracy and restores the best weights. Between evaluations the
    loop never waits for the device: losses stay on it until the next evaluation, which
    is also where a NaN or infinite loss is caught (:func:`mean_loss`).
    """
    device = X.device
    has_val = X_val is not None and len(X_val) > 0
    bs, per_epoch, total = plan_steps(len(X), cfg)
    every = max(1, int(cfg.eval_every or per_epoch))
    eval_bs = max(1024, bs)
    opt = make_optimizer(cfg.optimizer, module.parameters(), cfg.lr, cfg.weight_decay)
    sched = make_schedule(cfg.schedule, opt, cfg.lr, total)
    gen = torch.Generator().manual_seed(seed)
    amp = autocast(device, cfg.bf16)  # reusable: entered once a step
    res = LoopResult()
    best_state, stale = None, 0
    losses: list[torch.Tensor] = []  # this window's per-step losses, still on the device
    step = 0
    model.train()
    synchronize(device)
    start = time.perf_counter()
    eval_s = 0.0
    while step < total:
        perm = torch.randperm(len(X), generator=gen).to(device, non_blocking=True)
        for b in range(per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            with amp:
                loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.detach())
            if step % every and step < total:
                continue
            synchronize(device)
            t_eval = time.perf_counter()
            train_loss = mean_loss(losses, step - len(losses) + 1, cfg.lr)
            losses = []
            val_acc = accuracy(model, X_val, y_val, eval_bs, cfg.bf16) if has_val else math.nan
            point = {"wall_s": time.perf_counter() - start, "step": step,
                     "epoch": step / per_epoch, "train_loss": train_loss, "val_accuracy": val_acc}
            res.curve.append(point)
            training_step({**point, "steps": total, "epochs": total / per_epoch})  # the live progress line
            if cfg.verbose:
                print(f"step {step:6d}  epoch {point['epoch']:7.2f}  loss {train_loss:.4f}"
                      f"  val_acc {val_acc:.4f}  {point['wall_s']:.2f}s", flush=True)
            if (cfg.target_accuracy is not None and math.isnan(res.time_to_target_s)
                    and val_acc >= cfg.target_accuracy):
                res.time_to_target_s = point["wall_s"]
            if val_acc > res.best_val_accuracy or math.isnan(res.best_val_accuracy):
                res.best_val_accuracy, stale = val_acc, 0
                if cfg.early_stopping is not None and has_val:
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                stale += 1
            eval_s += time.perf_counter() - t_eval
            if cfg.early_stopping is not None and has_val and stale >= cfg.early_stopping:
                total = step  # stop
            if step >= total:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    synchronize(device)
    res.wall_s = time.perf_counter() - start
    res.train_s = max(res.wall_s - eval_s, 1e-12)
    res.steps = step
    res.epochs = step / per_epoch
    res.samples = step * bs
    return res

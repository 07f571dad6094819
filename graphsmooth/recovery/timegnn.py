r"""Training TimeGNN on one sampled signal matrix (transductive, one graph, full batch).

Castro-Correa et al. (ICASSP 2023). Given the sampled matrix :math:`\mathbf{Y}` and mask
:math:`\mathbf{J}`, a random share of the sampled entries is held out for validation
(:math:`\mathbf{J} = \mathbf{J}_{tr} + \mathbf{J}_{val}`); the network sees only
:math:`\mathbf{J}_{tr}` and minimises

.. math::
    \frac{1}{|\mathbf{J}_{tr}|}\|\mathbf{J}_{tr}\circ(\hat{\mathbf{X}} - \mathbf{Y})\|_F^2
    + \lambda\operatorname{tr}\!\big((\hat{\mathbf{X}}\mathbf{D}_h)^\top(\mathbf{L}+\epsilon\mathbf{I})^\beta
    \hat{\mathbf{X}}\mathbf{D}_h\big),
    \qquad \hat{\mathbf{X}} = \mathrm{TimeGNN}\big((\mathbf{J}_{tr}\circ\mathbf{Y})\mathbf{D}_h\big),

with Adam; the epoch with the lowest validation MSE is kept (early stopping with patience).

Choices the paper leaves open (see ``docs/timegnn.md``): the signal is standardised by one
scalar mean and standard deviation of the training samples before entering the network
(unsampled entries become the mean, i.e. 0, instead of a raw 0 that would make huge spurious
differences); the loss is computed on the standardised scale, which rescales both terms by the
same :math:`1/s^2` and leaves the minimiser unchanged; the output is mapped back.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import Tensor

from graphsmooth.nn.losses import SobolevLoss, temporal_difference
from graphsmooth.nn.timegnn import TimeGNN
from graphsmooth.recovery.baselines import RecoveryResult
from graphsmooth.recovery.sampling import split_mask

__all__ = ["fit_timegnn"]


def fit_timegnn(
    y: Tensor,
    mask: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    *,
    hidden_channels: int = 64,
    K: int = 3,
    num_linear: int = 2,
    linear_hidden: int = 64,
    dropout: float = 0.0,
    lr: float = 0.005,
    weight_decay: float = 0.0,
    lam: float = 1e-5,
    eps: float = 0.05,
    beta: float = 1.0,
    order: int = 1,
    max_epochs: int = 1000,
    patience: int = 100,
    val_fraction: float = 0.1,
    eval_every: int = 1,
    seed: int = 0,
    device: str | torch.device | None = None,
    verbose: bool = False,
) -> RecoveryResult:
    r"""Fit a :class:`~graphsmooth.nn.TimeGNN` to the sampled entries and return :math:`\hat{\mathbf{X}}`.

    Args:
        y (Tensor): ``[N, T]`` sampled signal (values off ``mask`` are ignored).
        mask (Tensor): bool ``[N, T]`` sampling mask.
        edge_index (Tensor): ``[2, E]`` undirected graph.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        hidden_channels (int, optional): Chebyshev branch width. (default: ``64``)
        K (int, optional): number of Chebyshev branches (degrees 1..K). (default: ``3``)
        num_linear (int, optional): decoder linear layers. (default: ``2``)
        linear_hidden (int, optional): decoder hidden width. (default: ``64``)
        dropout (float, optional): branch dropout; 0.1 cost SST about half its accuracy (see
            ``docs/timegnn.md``). (default: ``0.0``)
        lr (float, optional): Adam learning rate. (default: ``0.005``)
        weight_decay (float, optional): Adam weight decay. (default: ``0.0``)
        lam (float, optional): Sobolev weight :math:`\lambda`. (default: ``1e-5``)
        eps (float, optional): :math:`\epsilon`. (default: ``0.05``)
        beta (float, optional): :math:`\beta`. (default: ``1.0``)
        order (int, optional): temporal difference order. (default: ``1``)
        max_epochs (int, optional): epoch cap. (default: ``1000``)
        patience (int, optional): epochs without validation improvement before stopping.
            (default: ``100``)
        val_fraction (float, optional): share of the sampled entries held out; 0 disables
            validation (then the last epoch is kept). (default: ``0.1``)
        eval_every (int, optional): evaluate the validation MSE every this many epochs (the
            evaluation is a second forward pass; patience still counts epochs). (default: ``1``)
        seed (int, optional): seeds the validation split, the initialisation and dropout.
            (default: ``0``)
        device (str or torch.device, optional): where to train. (default: ``y.device``)
        verbose (bool, optional): show a tqdm progress bar. (default: ``False``)

    Returns:
        :class:`~graphsmooth.recovery.RecoveryResult` with ``info`` holding ``best_epoch``,
        ``epochs``, ``best_val_mse`` (original units), ``train_seconds`` and ``history``
        (per-epoch training loss; validation MSE at each evaluated epoch).
    """
    from tqdm.auto import tqdm

    if y.dim() != 2 or mask.shape != y.shape:
        raise ValueError(
            f"fit_timegnn: y must be [N, T] and mask the same shape, got {tuple(y.shape)} "
            f"and {tuple(mask.shape)}"
        )
    if eval_every < 1:
        raise ValueError(f"fit_timegnn: eval_every must be >= 1, got {eval_every}")
    if y.size(1) <= order:
        raise ValueError(f"fit_timegnn: need more than {order} time steps, got {y.size(1)}")
    device = y.device if device is None else torch.device(device)
    mask = mask.bool()
    gen = torch.Generator().manual_seed(int(seed))
    if val_fraction > 0:
        train_mask, val_mask = split_mask(mask, val_fraction, generator=gen)
    else:
        train_mask, val_mask = mask, torch.zeros_like(mask)
    if not bool(train_mask.any()):
        raise ValueError("fit_timegnn: no training entry left (mask empty?)")

    y64 = y.to(torch.float64)
    mu = float(y64[train_mask].mean())
    sd = float(y64[train_mask].std()) if int(train_mask.sum()) > 1 else 1.0
    sd = sd if sd > 0 else 1.0
    y_n = torch.where(train_mask, (y64 - mu) / sd, torch.zeros((), dtype=torch.float64))
    y_n = y_n.to(torch.float32).to(device)
    x_in = temporal_difference(y_n, 1)  # (J o Y) D_h, the paper's input
    train_mask, val_mask = train_mask.to(device), val_mask.to(device)
    edge_index = edge_index.to(device)
    ew = None if edge_weight is None else edge_weight.to(torch.float32).to(device)

    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(int(seed))
        model = TimeGNN(
            y.size(1) - 1,
            y.size(1),
            hidden_channels=hidden_channels,
            K=K,
            num_linear=num_linear,
            linear_hidden=linear_hidden,
            dropout=dropout,
        ).to(device)
        loss_fn = SobolevLoss(edge_index, ew, y.size(0), lam=lam, eps=eps, beta=beta, order=order)
        optim = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        best = (float("inf"), -1, None)
        history: dict[str, list[float]] = {"train_loss": [], "val_mse": []}
        start = time.perf_counter()
        bar = tqdm(range(max_epochs), desc="TimeGNN", disable=not verbose, leave=False)
        for epoch in bar:
            model.train()
            optim.zero_grad()
            out = model(x_in, edge_index, ew)
            loss = loss_fn(out, y_n, train_mask)
            loss.backward()
            optim.step()
            history["train_loss"].append(loss.item())
            if (epoch + 1) % eval_every and epoch + 1 < max_epochs:
                if best[1] >= 0 and epoch - best[1] >= patience:
                    break
                continue
            if bool(val_mask.any()):
                model.eval()
                with torch.no_grad():
                    out = model(x_in, edge_index, ew)
                    val = float(
                        (out[val_mask].double() * sd + mu - y64.to(device)[val_mask]).pow(2).mean()
                    )
            else:
                val = float(loss)
            history["val_mse"].append(val)
            if val < best[0]:
                best = (val, epoch, copy.deepcopy(model.state_dict()))
            elif epoch - best[1] >= patience:
                break
            if verbose:
                bar.set_postfix(loss=f"{loss.item():.4g}", val=f"{val:.4g}")
        seconds = time.perf_counter() - start
        model.load_state_dict(best[2])
        model.eval()
        with torch.no_grad():
            x_hat = model(x_in, edge_index, ew).double() * sd + mu
    info = {
        "best_epoch": best[1],
        "epochs": epoch + 1,
        "best_val_mse": best[0] if bool(val_mask.any()) else float("nan"),
        "train_seconds": seconds,
        "history": history,
        "model": model,
    }
    return RecoveryResult(x_hat.to(y.dtype).to(y.device), "timegnn", info)

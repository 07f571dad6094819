r"""Random sampling masks for time-varying signal recovery, and validation splits.

GraphTRSS/TimeGNN protocol: at every time step :math:`t`, sample :math:`\mathrm{round}(mN)`
nodes uniformly without replacement among the *valid* (non-missing) entries of column
:math:`t` (all of them when fewer are valid). Errors are measured on valid, unsampled entries.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sampling_mask", "split_mask"]


def _generator(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    if generator is not None and seed is not None:
        raise ValueError("pass either generator= or seed=, not both")
    if generator is None:
        generator = torch.Generator()
        generator.manual_seed(0 if seed is None else int(seed))
    return generator


def sampling_mask(
    valid: Tensor,
    density: float,
    *,
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> Tensor:
    r"""Sample :math:`\mathrm{round}(mN)` valid nodes per time step.

    Vectorised: every entry draws a uniform score, invalid entries get :math:`+\infty`, and an
    entry is sampled when its rank within its column is below :math:`\min(\mathrm{round}(mN),
    \#\text{valid in the column})` (a uniformly random subset of that size).

    Args:
        valid (Tensor): bool ``[N, T]`` (``True`` = measurement available).
        density (float): sampling density :math:`m \in (0, 1]`.
        generator (torch.Generator, optional): random source. (default: ``None``)
        seed (int, optional): seed for a fresh generator when ``generator`` is ``None``.
            (default: ``None`` = seed 0)

    Returns:
        bool ``[N, T]`` mask, a subset of ``valid``.
    """
    if valid.dim() != 2:
        raise ValueError(f"sampling_mask: valid must be [N, T], got shape {tuple(valid.shape)}")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"sampling_mask: density must be in (0, 1], got {density}")
    gen = _generator(generator, seed)
    valid = valid.bool()
    n = valid.size(0)
    per_step = round(density * n)
    if per_step == 0:
        raise ValueError(f"sampling_mask: density {density} samples no node out of {n}")
    score = torch.rand(valid.shape, generator=gen, dtype=torch.float64)
    score = score.masked_fill(~valid.cpu(), float("inf"))
    rank = score.argsort(dim=0).argsort(dim=0)
    take = valid.cpu().sum(dim=0).clamp(max=per_step)
    return ((rank < take.unsqueeze(0)) & valid.cpu()).to(valid.device)


def split_mask(
    mask: Tensor,
    fraction: float,
    *,
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Hold out a random ``fraction`` of the ``True`` entries of ``mask`` (e.g. for validation).

    Args:
        mask (Tensor): bool ``[N, T]``.
        fraction (float): share of the sampled entries held out, in ``[0, 1)``.
        generator (torch.Generator, optional): random source. (default: ``None``)
        seed (int, optional): seed when no generator is given. (default: ``None`` = 0)

    Returns:
        ``(kept, held_out)``: disjoint bool masks whose union is ``mask``; ``held_out`` has
        ``round(fraction * mask.sum())`` entries.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"split_mask: fraction must be in [0, 1), got {fraction}")
    gen = _generator(generator, seed)
    idx = mask.reshape(-1).nonzero().squeeze(1).cpu()
    n_out = round(fraction * idx.numel())
    perm = torch.randperm(idx.numel(), generator=gen)
    held = torch.zeros(mask.numel(), dtype=torch.bool)
    held[idx[perm[:n_out]]] = True
    held = held.view_as(mask).to(mask.device)
    return mask & ~held, held

r"""Pictures of what BORF did: curvature histograms before / after, and the rewired graph.

Functions take a :class:`~graphsmooth.rewiring.BORFResult` and return a matplotlib
:class:`~matplotlib.figure.Figure` (built without ``pyplot``, so nothing global changes and no
display is needed); save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

from typing import Any

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from graphsmooth.rewiring.borf import BORFResult

__all__ = ["plot_borf", "plot_curvature_histograms", "plot_rewired_graph"]


def _curvatures(result: BORFResult) -> tuple[torch.Tensor, torch.Tensor]:
    if not result.batches:
        raise ValueError("plot: the BORF result has no batch (iterations=0 or an empty graph)")
    if result.curvature is None:
        raise ValueError("plot: run borf(..., return_curvature=True) to plot the final curvature")
    return result.curvature_before, result.curvature


def plot_curvature_histograms(
    result: BORFResult, ax: Axes | None = None, bins: int = 40, title: str | None = None
) -> Figure:
    """Overlaid histograms of the edge curvatures before and after rewiring.

    Args:
        result (BORFResult): output of :func:`~graphsmooth.rewiring.borf` with
            ``return_curvature=True``.
        ax (matplotlib.axes.Axes, optional): axes to draw on; a new figure otherwise.
            (default: ``None``)
        bins (int): number of bins over the common range. (default: ``40``)
        title (str, optional): axes title. (default: ``None``)
    """
    before, after = _curvatures(result)
    fig = ax.figure if ax is not None else Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    lo = float(min(before.min(), after.min())) if after.numel() else float(before.min())
    hi = float(max(before.max(), after.max())) if after.numel() else float(before.max())
    edges = torch.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1).tolist()
    ax.hist(before.tolist(), bins=edges, alpha=0.55, label=f"before ({before.numel()} edges)")
    ax.hist(
        after.tolist(), bins=edges, alpha=0.55, label=f"after ({after.numel()} edges)", color="C2"
    )
    ax.set_xlabel("Ollivier-Ricci curvature")
    ax.set_ylabel("edges")
    ax.set_yscale("log")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return fig


def plot_rewired_graph(
    result: BORFResult,
    ax: Axes | None = None,
    pos: dict[int, Any] | None = None,
    seed: int = 0,
    node_size: float = 12.0,
    title: str | None = None,
) -> Figure:
    """Draw the graph with the edges BORF added (green) and removed (red, dashed).

    Args:
        result (BORFResult): output of :func:`~graphsmooth.rewiring.borf`.
        ax (matplotlib.axes.Axes, optional): axes to draw on. (default: ``None``)
        pos (dict, optional): node positions; else a spring layout of the *input* graph with
            ``seed``. (default: ``None``)
        seed (int): layout seed. (default: ``0``)
        node_size (float): marker size. (default: ``12.0``)
        title (str, optional): axes title. (default: ``None``)
    """
    import networkx as nx

    fig = ax.figure if ax is not None else Figure(figsize=(6, 6), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    original = result.batches[0].pairs if result.batches else result.pairs
    added = {tuple(e) for e in result.added.t().tolist()}
    removed = {tuple(e) for e in result.removed.t().tolist()}
    final = {tuple(e) for e in result.pairs.t().tolist()}
    G = nx.Graph()
    G.add_nodes_from(range(result.num_nodes))
    G.add_edges_from(map(tuple, original.t().tolist()))
    if pos is None:
        pos = nx.spring_layout(G, seed=seed)
    kept = [e for e in G.edges() if (min(e), max(e)) in final]
    nx.draw_networkx_nodes(G, pos, ax=ax, node_size=node_size, node_color="0.35")
    nx.draw_networkx_edges(G, pos, edgelist=kept, ax=ax, edge_color="0.7", width=0.8)
    gone = sorted(removed)
    nx.draw_networkx_edges(G, pos, edgelist=gone, ax=ax, edge_color="C3", style="dashed", width=1.6)
    new = sorted(added & final)
    H = nx.Graph(new)
    nx.draw_networkx_edges(H, pos, edgelist=new, ax=ax, edge_color="C2", width=1.8)
    ax.set_axis_off()
    ax.set_title(title or f"BORF: {len(new)} edges added (green), {len(gone)} removed (red)")
    return fig


def plot_borf(
    result: BORFResult, title: str = "", draw: bool | None = None, seed: int = 0
) -> Figure:
    """Histograms and (for graphs up to 1,000 nodes, or ``draw=True``) the drawing, side by
    side."""
    draw = result.num_nodes <= 1000 if draw is None else draw
    fig = Figure(figsize=(12 if draw else 6, 5), layout="constrained")
    axes = fig.subplots(1, 2 if draw else 1, squeeze=False)[0]
    plot_curvature_histograms(result, ax=axes[0], title=f"{title} curvature".strip())
    if draw:
        plot_rewired_graph(result, ax=axes[1], seed=seed)
    return fig

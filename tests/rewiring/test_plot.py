"""The BORF figures: histograms before/after and the drawing with added/removed edges."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from matplotlib.collections import LineCollection

from graphsmooth.rewiring import borf
from graphsmooth.rewiring.plot import plot_borf, plot_curvature_histograms, plot_rewired_graph


def _result(**kw):
    G = nx.gnm_random_graph(20, 40, seed=4)
    e = torch.tensor(list(G.edges())).t()
    return borf(torch.cat([e, e.flip(0)], 1), 20, iterations=2, add=3, remove=2, **kw)


def test_histograms_count_every_edge():
    res = _result()
    fig = plot_curvature_histograms(res, bins=10)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 20  # two histograms of 10 bins
    assert sum(heights[:10]) == res.batches[0].curvature.numel()
    assert sum(heights[10:]) == res.curvature.numel()


def test_drawing_highlights_added_and_removed():
    res = _result()
    fig = plot_rewired_graph(res, seed=1)
    segments = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    sizes = sorted(len(c.get_segments()) for c in segments)
    final = {tuple(e) for e in res.pairs.t().tolist()}
    original = {tuple(e) for e in res.batches[0].pairs.t().tolist()}
    added = {tuple(e) for e in res.added.t().tolist()} & final  # added, not removed later
    removed = res.removed.size(1)
    assert sizes == sorted([len(original & final), removed, len(added)])
    assert len(plot_borf(res).axes) == 2


def test_needs_final_curvature():
    with pytest.raises(ValueError, match="return_curvature"):
        plot_curvature_histograms(_result(return_curvature=False))

"""Per-epoch training time of omega-GCN / omega-GAT vs equal-size PyG GCNConv / GATConv networks.

One training epoch = forward + cross-entropy on the training nodes + backward + Adam step, in
train mode (dropout on). Each pair (ours, peer) has the same width, depth, opening and closing
linear layers and dropout; the two are timed in the same run, alternating epoch by epoch so that
load on the shared machine hits both alike. Medians over ``--repeats`` epochs after ``--warmup``
(``max(3, repeats // 4)`` at more than 8 layers). Times are CPU time of the process
(``time.process_time``; with one torch thread this is what the epoch costs, whatever else the
shared machine runs) and, for reference, wall time (``time.perf_counter``).

    GRAPHSMOOTH_DATA=/work/shared/data PYTHONPATH=. python benchmarks/bench_omega.py \
        --datasets Cora Squirrel --layers 2 64 --hidden 64 --heads 8 --threads 1

Targets (issue 6): omega-GCN within 1.3x of the GCNConv network, omega-GAT within 1.3x of GATConv.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv

from graphsmooth.bench.alloc import tune_allocator
from graphsmooth.data import load_dataset
from graphsmooth.nn.omega_models import OmegaGAT, OmegaGCN


class PeerNet(nn.Module):
    """Opening linear -> L x (PyG conv -> ReLU) -> closing linear, dropout as in OmegaNet."""

    def __init__(
        self, conv: str, in_channels, out_channels, hidden, layers, dropout, heads, cached
    ):
        super().__init__()
        self.dropout = dropout
        self.lin_open = nn.Linear(in_channels, hidden)
        if conv == "gcn":
            convs = [GCNConv(hidden, hidden, cached=cached) for _ in range(layers)]
        else:
            convs = [GATConv(hidden, hidden // heads, heads=heads) for _ in range(layers)]
        self.convs = nn.ModuleList(convs)
        self.lin_close = nn.Linear(hidden, out_channels)

    def forward(self, x, edge_index):
        x = F.dropout(x, self.dropout, self.training)
        x = torch.relu(self.lin_open(x))
        for conv in self.convs:
            x = F.dropout(x, self.dropout, self.training)
            x = torch.relu(conv(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.lin_close(x)


def epoch_fn(model, data, mask):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step() -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = model(data.x, data.edge_index)
        loss = F.cross_entropy(out[mask], data.y[mask])
        loss.backward()
        opt.step()
        return time.process_time() - c0, time.perf_counter() - t0

    return step


def bench_pair(data, conv, layers, args, cached):
    torch.manual_seed(0)
    n_cls = int(data.y.max()) + 1
    kw = dict(in_channels=data.num_features, out_channels=n_cls, hidden=args.hidden, layers=layers)
    if conv == "gcn":
        ours = OmegaGCN(task="node", dropout=0.5, cached=cached, **kw)
    else:
        ours = OmegaGAT(task="node", dropout=0.5, heads=args.heads, cached=cached, **kw)
    peer = PeerNet(conv, dropout=0.5, heads=args.heads, cached=cached, **kw)
    ours.train()
    peer.train()
    mask = data.train_mask if data.train_mask.dim() == 1 else data.train_mask[:, 0]
    f_ours, f_peer = epoch_fn(ours, data, mask), epoch_fn(peer, data, mask)
    reps = args.repeats if layers <= 8 else max(3, args.repeats // 4)
    t_ours, t_peer = [], []
    for i in range(args.warmup + reps):
        a, b = (f_ours(), f_peer()) if i % 2 == 0 else (f_peer(), f_ours())[::-1]
        if i >= args.warmup:
            t_ours.append(a)
            t_peer.append(b)
    mo, mp = (statistics.median(t[0] for t in ts) for ts in (t_ours, t_peer))
    wo, wp = (statistics.median(t[1] for t in ts) for ts in (t_ours, t_peer))
    return {
        "ours_ms": 1e3 * mo,
        "peer_ms": 1e3 * mp,
        "ratio": mo / mp,
        "ours_wall_ms": 1e3 * wo,
        "peer_wall_ms": 1e3 * wp,
        "wall_ratio": wo / wp,
        "repeats": reps,
        "clock": "process_time",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["Cora", "Squirrel"])
    p.add_argument("--layers", nargs="+", type=int, default=[2, 64])
    p.add_argument("--convs", nargs="+", default=["gcn", "gat"], choices=["gcn", "gat"])
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--uncached", action="store_true", help="also time cached=False for GCN")
    p.add_argument("--json", default=None, help="append one JSON line per row to this file")
    p.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's allocator alone (default: tuned as in the runner, both sides alike)",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if not args.default_malloc:
        tune_allocator()

    header = (
        f"{'dataset':9} {'model':18} {'L':>3} {'ours ms':>9} {'peer ms':>9} {'ratio':>6}  target"
        f"   (CPU ms; wall ratio)"
    )
    print(header)
    print("-" * len(header))
    for name in args.datasets:
        data = load_dataset(name)[0]
        for conv in args.convs:
            modes = [True, False] if (conv == "gcn" and args.uncached) else [True]
            for layers in args.layers:
                for cached in modes:
                    r = bench_pair(data, conv, layers, args, cached)
                    label = f"omega_{conv}" + ("" if cached else " (uncached)")
                    ok = "ok" if r["ratio"] <= 1.3 else "MISSED"
                    print(
                        f"{name:9} {label:18} {layers:3d} {r['ours_ms']:9.2f} {r['peer_ms']:9.2f} "
                        f"{r['ratio']:6.2f}  <=1.3 {ok:6} (wall {r['wall_ratio']:.2f})",
                        flush=True,
                    )
                    if args.json:
                        row = {"dataset": name, "model": label, "layers": layers, **r}
                        row["malloc_tuned"] = not args.default_malloc
                        row.update(hidden=args.hidden, heads=args.heads, threads=args.threads)
                        with open(args.json, "a") as fh:
                            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

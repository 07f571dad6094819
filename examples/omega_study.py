"""omega-GNN studies: accuracy and Dirichlet energy vs depth, and the learned omega.

Trains node classifiers with the runner's own protocol
(:func:`graphsmooth.bench.tasks.classification.train_node_classifier`: Adam, early stopping on
validation accuracy, test accuracy at the best validation epoch) and records per trial, in a
resumable JSONL file (one line per finished trial, skipped on rerun):

- test / validation accuracy, best epoch, epochs, seconds per epoch;
- the Dirichlet energy (:func:`graphsmooth.nn.conv.dirichlet_energy`, ``"sym"``, mean over nodes)
  of the last hidden layer, untrained and after training (eval mode), and its Rayleigh quotient
  ``E(X) / ||X||_F^2`` (scale-free: over-smoothing is this going to 0, not the features shrinking);
- the learned omega ``[layers, hidden]`` of omega networks.

The last hidden layer is :meth:`OmegaNet.hidden_states` for omega networks, and the ReLU of the
last hidden ``GCNConv`` / ``GATConv`` (before the classifying layer) for the baselines.

Commands (the ones used in docs/omega.md)::

    export GRAPHSMOOTH_DATA=/work/shared/data OMP_NUM_THREADS=1
    python examples/omega_study.py train --datasets Cora --models gcn omega_gcn omega_gat \\
        --layers 2 4 8 16 32 64 --seeds 0 --hidden 64 --dropout 0.6 --max-epochs 300 \\
        --patience 100 --out runs/omega/depth.jsonl
    python examples/omega_study.py train --datasets Texas Cornell Wisconsin Chameleon Squirrel \\
        Actor --split geom_gcn --splits 0 1 2 --models omega_gcn --layers 4 --hidden 64 \\
        --dropout 0.5 --weight-decay 5e-4 --out runs/omega/hetero.jsonl
    python examples/omega_study.py plot --depth runs/omega/depth.jsonl \\
        --omega runs/omega/hetero.jsonl runs/omega/depth.jsonl --runner docs/omega_runs/tu \\
        --outdir docs/figures

``plot`` writes ``omega_depth.png`` (accuracy and energy vs depth), ``omega_learned.png`` (a heat
map of the first run's omega per layer x channel, and the histogram of all runs, per study
cell) and ``omega_learned_summary.png`` (one box per data set / model / depth over every
learned omega, study cells and runner records with ``extras.omega`` alike, with the shares
above 1 and below 0), each with a markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import torch

from graphsmooth.bench.alloc import tune_allocator
from graphsmooth.bench.tasks.classification import (
    node_split,
    seed_everything,
    train_node_classifier,
)
from graphsmooth.data import load_dataset
from graphsmooth.nn.conv import dirichlet_energy
from graphsmooth.nn.models import build_model
from graphsmooth.nn.omega_models import OmegaNet


def last_hidden(model: torch.nn.Module, data) -> torch.Tensor:
    """Features of the last hidden layer (eval mode, no gradient)."""
    model.eval()
    with torch.no_grad():
        if isinstance(model, OmegaNet):
            return model.hidden_states(data.x, data.edge_index)
        if len(model.convs) < 2:
            raise ValueError("a 1-layer baseline has no hidden layer")
        store = {}
        handle = model.convs[-2].register_forward_hook(lambda m, i, o: store.setdefault("h", o))
        try:
            model(data.x, data.edge_index)
        finally:
            handle.remove()
        return torch.relu(store["h"])


def energies(h: torch.Tensor, edge_index: torch.Tensor) -> dict[str, float]:
    e = dirichlet_energy(h, edge_index, normalization="sym", reduction="mean")
    norm = h.pow(2).sum() / h.size(0)
    return {"energy": float(e), "rayleigh": float(e / norm) if norm > 0 else 0.0}


def freeze_mixing(model: OmegaNet, layers: list[int]) -> None:
    """Fix the channel-mixing matrices K_l of the given layers (0-based; -1: all) to the identity
    and exclude them from training: those layers only diffuse, f <- ReLU((1 - omega) f + omega S f)."""
    if not isinstance(model, OmegaNet) or model.task != "node":
        raise ValueError("--freeze-mix needs an omega network for node classification")
    idx = range(model.num_layers) if -1 in layers else layers
    for i in idx:
        w = model.mix[i].weight
        with torch.no_grad():  # depth-scaled: K = I + alpha W; otherwise K = W
            w.copy_(torch.zeros_like(w) if model.depth_scaling else torch.eye(w.size(0)))
        w.requires_grad_(False)


def _load(name: str):
    from torch_geometric.transforms import NormalizeFeatures

    return NormalizeFeatures()(load_dataset(name)[0])


def cmd_train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    tune_allocator()  # as the runner does: same numbers, less page-faulting (bench.alloc)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        done = {json.loads(line)["key"] for line in out.read_text().splitlines() if line.strip()}
    splits = args.splits if args.split == "geom_gcn" else [None]
    for name in args.datasets:
        data = _load(name)
        n_cls = int(data.y.max()) + 1
        for layers in args.layers:
            for model_name in args.models:
                for split in splits:
                    for seed in args.seeds:
                        key = f"{name}|{model_name}|L{layers}|h{args.hidden}|d{args.dropout}"
                        key += f"|wd{args.weight_decay}|s{seed}|split{split}|ep{args.max_epochs}"
                        key += f"|p{args.patience}|ld{args.layer_dropout}|w{args.omega_init}"
                        key += "|nods" if args.no_depth_scaling else ""
                        key += f"|g{args.groups}" if args.groups else ""
                        key += f"|fz{args.freeze_mix}" if args.freeze_mix else ""
                        if key in done:
                            continue
                        seed_everything(seed)
                        opts = {"heads": args.heads} if model_name.endswith("gat") else {}
                        if model_name.startswith("omega"):
                            opts["cached"] = True
                            if args.omega_init is not None:
                                opts["omega_init"] = args.omega_init
                            if args.layer_dropout is not None:
                                opts["layer_dropout"] = args.layer_dropout
                            if args.no_depth_scaling:
                                opts["depth_scaling"] = False
                            if args.groups:
                                opts["optim_groups"] = json.loads(args.groups)
                        model = build_model(
                            model_name,
                            task="node",
                            in_channels=data.num_features,
                            out_channels=n_cls,
                            hidden=args.hidden,
                            layers=layers,
                            dropout=args.dropout,
                            **opts,
                        )
                        if args.freeze_mix:
                            freeze_mixing(model, args.freeze_mix)
                        e0 = energies(last_hidden(model, data), data.edge_index)
                        split_cfg = argparse.Namespace(protocol=args.split)
                        masks = node_split(split_cfg, data, {"seed": seed, "split": split})
                        res = train_node_classifier(
                            model,
                            data,
                            masks,
                            lr=args.lr,
                            weight_decay=args.weight_decay,
                            max_epochs=args.max_epochs,
                            patience=args.patience,
                        )
                        e1 = energies(last_hidden(model, data), data.edge_index)
                        rec = {
                            "key": key,
                            "dataset": name,
                            "model": model_name,
                            "layers": layers,
                            "layer_dropout": args.layer_dropout,
                            "omega_init": args.omega_init,
                            "depth_scaling": not args.no_depth_scaling,
                            "optim_groups": json.loads(args.groups) if args.groups else None,
                            "freeze_mix": args.freeze_mix,
                            "seed": seed,
                            "split": split,
                            **res,
                            "energy_init": e0["energy"],
                            "rayleigh_init": e0["rayleigh"],
                            "energy": e1["energy"],
                            "rayleigh": e1["rayleigh"],
                        }
                        if isinstance(model, OmegaNet):
                            rec["omega"] = model.omega_values().tolist()
                        with out.open("a") as fh:
                            fh.write(json.dumps(rec) + "\n")
                            fh.flush()
                        print(
                            f"{name} {model_name} L={layers} seed={seed} split={split}: "
                            f"test {res['test_acc']:.3f} energy {e1['energy']:.3g} "
                            f"({res['epochs']} epochs, {res['epoch_time_s']:.2f} s/epoch)",
                            flush=True,
                        )


def _read(paths) -> list[dict]:
    """Records of the JSONL files; ``model`` gets a suffix for non-default settings."""
    rows = []
    for p in paths:
        rows += [json.loads(line) for line in Path(p).read_text().splitlines() if line.strip()]
    for r in rows:
        if not r.get("depth_scaling", True):
            r["model"] += " (no depth scaling)"
        if r.get("layer_dropout") is not None and r["model"].startswith("omega"):
            r["model"] += f" (layer dropout {r['layer_dropout']})"
        if r.get("omega_init") is not None:
            r["model"] += f" (omega init {r['omega_init']})"
        if r.get("freeze_mix"):
            r["model"] += f" (K fixed to I in layers {r['freeze_mix']})"
        if r.get("optim_groups"):
            r["model"] += f" (groups {json.dumps(r['optim_groups'], separators=(',', ':'))})"
    return rows


def _ms(values) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def cmd_plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if args.depth:
        rows = _read(args.depth)
        groups = defaultdict(list)
        for r in rows:
            groups[(r["dataset"], r["model"], r["layers"])].append(r)
        datasets = sorted({k[0] for k in groups})
        models = sorted({k[1] for k in groups})
        fig, axes = plt.subplots(len(datasets), 4, figsize=(19, 3.8 * len(datasets)), squeeze=False)
        lines = [
            "| dataset | model | "
            + " | ".join(f"L={L}" for L in sorted({k[2] for k in groups}))
            + " |"
        ]
        for di, ds in enumerate(datasets):
            depths = sorted({k[2] for k in groups})  # one set of columns for all data sets
            if di == 0:
                lines.append("|" + "---|" * (2 + len(depths)))
            for m in models:
                ls = [L for L in depths if (ds, m, L) in groups]
                if not ls:
                    continue
                acc = [_ms([100 * r["test_acc"] for r in groups[(ds, m, L)]]) for L in ls]
                axes[di, 0].errorbar(
                    ls,
                    [a for a, _ in acc],
                    yerr=[s for _, s in acc],
                    marker="o",
                    label=m,
                    capsize=3,
                )
                panels = [
                    ("energy", "Dirichlet energy (trained)"),
                    ("rayleigh", "E(X)/||X||^2 (trained)"),
                    ("rayleigh_init", "E(X)/||X||^2 (untrained)"),
                ]
                for col, (field, tag) in enumerate(panels, start=1):
                    en = [statistics.mean(r[field] for r in groups[(ds, m, L)]) for L in ls]
                    axes[di, col].plot(ls, [max(e, 1e-30) for e in en], marker="o", label=m)
                    axes[di, col].set_title(f"{ds}: {tag}, last hidden layer", fontsize=9)
                cells = []
                for L in depths:
                    g = groups.get((ds, m, L))
                    if g:
                        mu, sd = _ms([100 * r["test_acc"] for r in g])
                        cells.append(f"{mu:.1f} ± {sd:.1f} (n={len(g)})")
                    else:
                        cells.append("–")
                lines.append(f"| {ds} | {m} | " + " | ".join(cells) + " |")
            axes[di, 0].set_title(f"{ds}: test accuracy vs depth")
            axes[di, 0].set_ylabel("test accuracy (%)")
            for col in range(4):
                axes[di, col].set_xscale("log", base=2)
                axes[di, col].set_xlabel("layers")
                axes[di, col].legend(fontsize=6)
            for col in (1, 2, 3):
                axes[di, col].set_yscale("log")
        fig.tight_layout()
        fig.savefig(outdir / "omega_depth.png", dpi=120)
        plt.close(fig)
        (outdir / "omega_depth.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    if args.omega:
        rows = [r for r in _read(args.omega) if "omega" in r]
        by = defaultdict(list)
        for r in rows:
            by[(r["dataset"], r["model"], r["layers"])].append(torch.tensor(r["omega"]))
        keys = sorted(by)
        summary = [
            "| dataset | model | layers | runs | mean omega | median | share > 1 | share < 0 | min "
            "| max | sum over layers |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        n = len(keys)
        fig, axes = plt.subplots(
            n, 2, figsize=(13, 1.9 * n + 0.5), squeeze=False, gridspec_kw={"width_ratios": [3, 1]}
        )
        for i, k in enumerate(keys):
            w = torch.stack(by[k])  # [runs, L, C]
            first = w[0]
            im = axes[i, 0].imshow(  # colour scale per panel: deep nets have omega ~ 2/L
                first.numpy(),
                aspect="auto",
                cmap="viridis",
                vmin=float(first.min()),
                vmax=float(first.max()),
                interpolation="nearest",
            )
            axes[i, 0].set_title(
                f"{k[0]} {k[1]} L={k[2]}: learned omega (first run), rows = layers, "
                f"sum over layers (channel mean) {float(first.sum(0).mean()):.2f}",
                fontsize=8,
            )
            if first.size(0) <= 8:
                axes[i, 0].set_yticks(range(first.size(0)))
            fig.colorbar(im, ax=axes[i, 0], fraction=0.02)
            axes[i, 1].hist(w.flatten().numpy(), bins=40)
            axes[i, 1].axvline(1.0, color="k", lw=0.8)
            axes[i, 1].set_title("all runs, all omega", fontsize=8)
            flat = w.flatten()
            summary.append(
                f"| {k[0]} | {k[1]} | {k[2]} | {w.size(0)} | {flat.mean():.3f} | {flat.median():.3f} | "
                f"{(flat > 1).float().mean():.2f} | {(flat < 0).float().mean():.2f} | {flat.min():.2f} | {flat.max():.2f} | "
                f"{float(w.sum(1).mean()):.2f} |"
            )
        fig.tight_layout()
        fig.savefig(outdir / "omega_learned.png", dpi=110)
        plt.close(fig)
        (outdir / "omega_learned.md").write_text("\n".join(summary) + "\n")
        print("\n".join(summary))
    if args.omega or args.runner:
        _plot_omega_summary(args.omega, args.runner, outdir, plt)
    if args.table:
        rows = _read(args.table)
        g = defaultdict(list)
        for r in rows:
            g[(r["dataset"], r["model"], r["layers"])].append(100 * r["test_acc"])
        lines = [
            "| dataset | model | layers | test acc (mean ± std) | runs |",
            "|---|---|---|---|---|",
        ]
        for k in sorted(g):
            mu, sd = _ms(g[k])
            lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {mu:.1f} ± {sd:.1f} | {len(g[k])} |")
        (outdir / "omega_hetero.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))


HOMOPHILIC = ("Cora", "CiteSeer", "PubMed")
HETEROPHILIC = ("Cornell", "Texas", "Wisconsin", "Chameleon", "Squirrel", "Actor")


def _omega_groups(study: list[str], runner: list[str]) -> dict[tuple, list[torch.Tensor]]:
    """(dataset, model, layers) -> learned omega [L, C] per run, from the study JSONL files and
    from runner output directories (``extras.omega`` of their records; runs with curvature
    transforms are labelled with them, e.g. ``omegaGCN+lcp``)."""
    from graphsmooth.bench.report import read_records

    by = defaultdict(list)
    for r in _read(study):
        if "omega" in r:
            by[(r["dataset"], r["model"], r["layers"])].append(torch.tensor(r["omega"]))
    for out in runner:
        for r in read_records(out):
            omega = (r.get("extras") or {}).get("omega")
            if omega is None:
                continue
            label = "+".join(x for x in r["method"].split("+") if x != "normalize_features")
            by[(r["dataset"], f"{label} (runner)", len(omega))].append(torch.tensor(omega))
    return by


def _family(dataset: str) -> int:
    return 0 if dataset in HOMOPHILIC else 1 if dataset in HETEROPHILIC else 2


def _plot_omega_summary(study: list[str], runner: list[str], outdir: Path, plt) -> None:
    """One box per (data set, model, depth): every learned omega of every run, whiskers at the
    extremes, the lines omega = 0 (identity) and omega = 1 (a GCN step), and the share of the
    weights above 1 (sharpening by omega > 1) and below 0 (sharpening by an unsharp mask)."""
    by = _omega_groups(study, runner)
    if not by:
        return
    keys = sorted(by, key=lambda k: (_family(k[0]), k[0], k[1], k[2]))
    colours = ("tab:blue", "tab:red", "tab:green")
    names = ("homophilic (Planetoid)", "heterophilic (geom-gcn)", "graph classification (TU)")
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(keys) + 1.6))
    data = [torch.cat([w.flatten() for w in by[k]]).numpy() for k in keys]
    pos = list(range(len(keys), 0, -1))
    import matplotlib

    horizontal = (
        {"orientation": "horizontal"}
        if tuple(int(v) for v in matplotlib.__version__.split(".")[:2]) >= (3, 10)
        else {"vert": False}
    )
    box = ax.boxplot(
        data, positions=pos, whis=(0, 100), widths=0.6, patch_artist=True, **horizontal
    )
    for patch, k in zip(box["boxes"], keys, strict=True):
        patch.set_facecolor(colours[_family(k[0])])
        patch.set_alpha(0.5)
    lo = min(float(d.min()) for d in data)
    hi = max(float(d.max()) for d in data)
    for x, style in ((0.0, ":"), (1.0, "--")):
        ax.axvline(x, color="k", lw=0.8, ls=style)
    ax.set_yticks(pos)
    ax.set_yticklabels(
        [f"{k[0]} {k[1]} L={k[2]} ({len(by[k])} run{'s' * (len(by[k]) > 1)})" for k in keys],
        fontsize=7,
    )
    right = hi + 0.05 * (hi - lo)
    for y, d in zip(pos, data, strict=True):
        ax.text(
            right,
            y,
            f">1: {100 * (d > 1).mean():.1f}%  <0: {100 * (d < 0).mean():.0f}%",
            va="center",
            fontsize=6.5,
        )
    ax.set_xlim(lo - 0.05 * (hi - lo), hi + 0.45 * (hi - lo))
    ax.set_xlabel("learned omega (all layers, channels and runs); 0 = identity, 1 = GCN step")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.5)
        for f, c in enumerate(colours)
        if any(_family(k[0]) == f for k in keys)
    ]
    labels = [n for f, n in enumerate(names) if any(_family(k[0]) == f for k in keys)]
    ax.legend(
        handles,
        labels,
        fontsize=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        frameon=False,
    )
    ax.set_title(
        "Learned omega per data set: does any data set learn omega > 1 (sharpening)?", pad=22
    )
    fig.tight_layout()
    fig.savefig(outdir / "omega_learned_summary.png", dpi=110)
    plt.close(fig)
    lines = [
        "| data set | model | layers | runs | mean omega | share > 1 | share < 0 | min | max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, d in zip(keys, data, strict=True):
        lines.append(
            f"| {k[0]} | {k[1]} | {k[2]} | {len(by[k])} | {d.mean():.3f} | {(d > 1).mean():.3f} "
            f"| {(d < 0).mean():.2f} | {d.min():.2f} | {d.max():.2f} |"
        )
    (outdir / "omega_learned_summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def cmd_diagnose(args: argparse.Namespace) -> None:
    """Why deep omega networks fail: over-smoothing at initialisation, gradient to omega,
    train-mode (dropout) noise, and the loss after ONE Adam step, for each parametrisation."""
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    data = _load(args.dataset)
    n_cls = int(data.y.max()) + 1
    tr = data.train_mask
    variants = {
        "plain, layer dropout p (session 1)": {"depth_scaling": False},
        "plain, no layer dropout": {"depth_scaling": False, "layer_dropout": 0.0},
        "depth-scaled, no layer dropout": {"layer_dropout": 0.0},
        "depth-scaled, constant layer dropout p": {"layer_dropout": args.dropout},
        "depth-scaled (default)": {},
    }
    print(
        f"{args.dataset}, omega_gcn, L={args.layers}, hidden {args.hidden}, dropout {args.dropout}"
    )
    for name, opts in variants.items():
        seed_everything(0)
        net = build_model(
            "omega_gcn",
            task="node",
            in_channels=data.num_features,
            out_channels=n_cls,
            hidden=args.hidden,
            layers=args.layers,
            dropout=args.dropout,
            cached=True,
            **opts,
        )
        net.eval()
        with torch.no_grad():
            states = net.hidden_states(data.x, data.edge_index, all_layers=True)
        rq = [energies(h, data.edge_index)["rayleigh"] for h in (states[0], states[-1])]
        grads = {}
        for mode in ("eval", "train"):
            net.train(mode == "train")
            net.zero_grad()
            F.cross_entropy(net(data.x, data.edge_index)[tr], data.y[tr]).backward()
            grads[mode] = float(net.omega.grad.norm() / net.alpha)  # d/domega = d/dtheta / alpha
        with torch.no_grad():
            noisy = torch.stack([net(data.x, data.edge_index) for _ in range(4)]).std(0).mean()
            net.eval()
            clean = net(data.x, data.edge_index).std()
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
        net.train()
        opt.zero_grad()
        F.cross_entropy(net(data.x, data.edge_index)[tr], data.y[tr]).backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            loss1 = float(F.cross_entropy(net(data.x, data.edge_index)[tr], data.y[tr]))
        print(
            f"{name:40s} rayleigh f0 {rq[0]:.2e} fL {rq[1]:.2e} | |dloss/domega| eval "
            f"{grads['eval']:.1e} train {grads['train']:.1e} | logit noise/spread "
            f"{float(noisy / clean):.1f} | train loss after 1 Adam step {loss1:.3g}"
        )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a grid of models, append one JSON line per trial")
    t.add_argument("--datasets", nargs="+", default=["Cora"])
    t.add_argument("--models", nargs="+", default=["gcn", "omega_gcn", "omega_gat"])
    t.add_argument("--layers", nargs="+", type=int, default=[2, 4, 8, 16, 32, 64])
    t.add_argument("--seeds", nargs="+", type=int, default=[0])
    t.add_argument("--split", default="public", choices=["public", "geom_gcn"])
    t.add_argument("--splits", nargs="+", type=int, default=list(range(10)))
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--heads", type=int, default=8)
    t.add_argument("--dropout", type=float, default=0.6)
    t.add_argument("--layer-dropout", type=float, default=None)
    t.add_argument("--omega-init", type=float, default=None)
    t.add_argument("--no-depth-scaling", action="store_true")
    t.add_argument(
        "--groups",
        default=None,
        help='optimiser groups of the omega networks as JSON, e.g. \'{"mix": {"weight_decay": 0}}\'',
    )
    t.add_argument(
        "--freeze-mix",
        nargs="+",
        type=int,
        default=None,
        help="layers (0-based, -1 all) whose K_l is fixed to the identity (not trained)",
    )
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--weight-decay", type=float, default=1e-5)
    t.add_argument("--max-epochs", type=int, default=300)
    t.add_argument("--patience", type=int, default=100)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_train)
    g = sub.add_parser("diagnose", help="initialisation / one-step diagnostics of a deep net")
    g.add_argument("--dataset", default="Cora")
    g.add_argument("--layers", type=int, default=64)
    g.add_argument("--hidden", type=int, default=64)
    g.add_argument("--dropout", type=float, default=0.6)
    g.add_argument("--lr", type=float, default=0.01)
    g.add_argument("--threads", type=int, default=1)
    g.set_defaults(func=cmd_diagnose)
    q = sub.add_parser("plot", help="plots and markdown tables from the JSONL files")
    q.add_argument("--depth", nargs="*", default=[])
    q.add_argument("--omega", nargs="*", default=[])
    q.add_argument("--table", nargs="*", default=[])
    q.add_argument(
        "--runner",
        nargs="*",
        default=[],
        help="runner output directories whose records hold the learned omega (extras.omega): "
        "added to the summary figure omega_learned_summary.png",
    )
    q.add_argument("--outdir", default="docs/figures")
    q.set_defaults(func=cmd_plot)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

"""Exact Ollivier-Ricci curvature: graphsmooth vs GraphRicciCurvature (OTD) vs a per-edge POT loop.

Every measurement runs in its own subprocess (fresh interpreter, bounded time and address
space), which reports wall time, peak RSS and the curvature of every undirected edge ``u < v``
(sorted). The parent prints one table (times, ratios, max abs difference to ours) and appends
JSON lines to ``--jsonl`` (resumable: graphs/alphas already there are skipped).

    GRAPHSMOOTH_DATA=/work/shared/data PYTHONPATH=. python benchmarks/bench_curvature.py \\
        --graphs Cora CiteSeer PubMed Squirrel BA2708 BA20000 BA200000 --alphas 0 0.5

Graphs: dataset names (``graphsmooth.data.load_dataset``) or ``BA<N>`` (Barabasi-Albert, m=5,
``graphsmooth.data.synthetic.barabasi_albert``, seed 0). GraphRicciCurvature gets unweighted
networkx graphs (no edge attributes), ``OllivierRicci(G, alpha, method="OTD", proc=2)``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def load_graph(name: str):
    import torch

    if name.upper().startswith("BA") and name[2:].isdigit():
        from graphsmooth.data.synthetic import barabasi_albert

        d = barabasi_albert(int(name[2:]), 5, seed=0)
        return d.edge_index, int(d.num_nodes)
    import warnings

    from graphsmooth.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PubMed: approximate copy (features only)
        d = load_dataset(name)[0]
    return d.edge_index.to(torch.long), int(d.num_nodes)


def simple_pairs(edge_index, n):
    from graphsmooth.graph import simple_undirected, undirected_pairs

    ei, _, n = simple_undirected(edge_index, n)
    return undirected_pairs(ei), n


# ----------------------------------------------------------------------------- workers
def work_ours(edge_index, n, alpha, method, workers=1):
    import torch

    from graphsmooth.curvature import ollivier_ricci

    t = time.perf_counter()
    res = ollivier_ricci(edge_index, n, alpha=alpha, method=method, workers=workers)
    sec = time.perf_counter() - t
    _ = torch
    return sec, res.pair_curvature.numpy()


def work_grc(edge_index, n, alpha):
    import networkx as nx
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    pairs, n = simple_pairs(edge_index, n)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(pairs.T.tolist())  # no edge attributes: unweighted
    t = time.perf_counter()
    orc = OllivierRicci(G, alpha=alpha, method="OTD", proc=2, verbose="ERROR")
    orc.compute_ricci_curvature()
    sec = time.perf_counter() - t
    return sec, np.array([orc.G[u][v]["ricciCurvature"] for u, v in pairs.T.tolist()])


def work_pot(edge_index, n, alpha):
    import ot

    pairs, n = simple_pairs(edge_index, n)
    t = time.perf_counter()
    adj = [set() for _ in range(n)]
    for u, v in pairs.T.tolist():
        adj[u].add(v)
        adj[v].add(u)
    out = np.empty(pairs.size(1))

    def dist(p, q):
        if p == q:
            return 0.0
        if q in adj[p]:
            return 1.0
        return 2.0 if not adj[p].isdisjoint(adj[q]) else 3.0

    for k, (u, v) in enumerate(pairs.T.tolist()):
        su, sv = sorted(adj[u]), sorted(adj[v])
        a = [(1 - alpha) / len(su)] * len(su)
        b = [(1 - alpha) / len(sv)] * len(sv)
        if alpha > 0:
            su, sv, a, b = su + [u], sv + [v], a + [alpha], b + [alpha]
        C = np.array([[dist(p, q) for q in sv] for p in su])
        out[k] = 1.0 - ot.emd2(np.array(a), np.array(b), C)
    return time.perf_counter() - t, out


def worker(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    if args.mem_gib:
        lim = int(args.mem_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    edge_index, n = load_graph(args.graph)
    if args.peer == "ours":
        sec, vals = work_ours(edge_index, n, args.alpha, "exact", args.workers)
    elif args.peer == "bounds":
        sec, vals = work_ours(edge_index, n, args.alpha, "bounds")
    elif args.peer == "grc":
        sec, vals = work_grc(edge_index, n, args.alpha)
    else:
        sec, vals = work_pot(edge_index, n, args.alpha)
    np.save(args.out, vals)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(json.dumps({"seconds": sec, "peak_mib": peak, "children_peak_mib": kids}))


# ----------------------------------------------------------------------------- parent
def run_one(graph, peer, alpha, timeout, mem_gib, threads, workers=1):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vals.npy")
        cmd = [sys.executable, __file__, "--worker", "--graph", graph, "--peer", peer]
        cmd += ["--alpha", str(alpha), "--out", out, "--threads", str(threads)]
        cmd += ["--workers", str(workers)]
        if mem_gib:
            cmd += ["--mem-gib", str(mem_gib)]
        # its own process group: a timeout kills the measurement's forked workers too
        # (ollivier_ricci(workers=2), GRC's pool), not only the process we started
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"status": f"timeout > {timeout:.0f} s"}, None
        except BaseException:  # Ctrl-C: leave no measurement running
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        p = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
        if p.returncode != 0:
            tail = (p.stderr or "").strip().splitlines()[-1:] or ["?"]
            status = "memory" if "MemoryError" in (p.stderr or "") else "failed"
            return {"status": f"{status}: {tail[0][:120]}"}, None
        rec = json.loads(p.stdout.strip().splitlines()[-1])
        rec["status"] = "ok"
        return rec, np.load(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--graphs", nargs="+", default=["Cora", "CiteSeer", "BA2708", "BA20000"])
    ap.add_argument("--alphas", nargs="+", type=float, default=[0.0, 0.5])
    ap.add_argument("--repeats", type=int, default=3, help="runs of ours (median)")
    ap.add_argument("--peers", nargs="*", default=["grc", "pot"])
    ap.add_argument("--peer-timeout", type=float, default=300.0)
    ap.add_argument("--peer-repeats", type=int, default=1, help="runs of each peer (median)")
    ap.add_argument("--ours-timeout", type=float, default=900.0)
    ap.add_argument("--peer-mem-gib", type=float, default=8.0, help="address-space cap of peers")
    ap.add_argument("--skip-peers-above", type=int, default=150_000, help="undirected edges")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for ours")
    ap.add_argument(
        "--workers", type=int, default=1, help="processes for ours (ollivier_ricci(workers=))"
    )
    ap.add_argument("--bounds", action="store_true", help="also time method='bounds'")
    ap.add_argument("--jsonl", default="bench_curvature.jsonl")
    ap.add_argument("--lcp", nargs="*", default=[], help="graph datasets: time LCP on all graphs")
    ap.add_argument("--table", nargs="*", help="print a markdown table of these JSONL files")
    # worker mode
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--graph", help=argparse.SUPPRESS)
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    ap.add_argument("--alpha", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--mem-gib", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    if args.table:
        print(markdown_table(args.table))
        return

    for name in args.lcp:
        bench_lcp(name, args.repeats, args.threads, args.jsonl)
    done = set()
    if os.path.exists(args.jsonl):
        with open(args.jsonl) as fh:
            for line in fh:
                r = json.loads(line)
                if "graph" in r:
                    done.add((r["graph"], r["alpha"], r["peer"]))
    rows = []
    for graph in args.graphs:
        import torch

        ei, n = load_graph(graph)
        pairs, _ = simple_pairs(ei, n)
        E = pairs.size(1)
        _ = torch
        for alpha in args.alphas:
            ours_vals = None
            times = []
            rec = None
            for _r in range(args.repeats):
                rec, vals = run_one(
                    graph, "ours", alpha, args.ours_timeout, 0, args.threads, args.workers
                )
                if rec["status"] != "ok":
                    break
                times.append(rec["seconds"])
                ours_vals = vals
            ours = {
                "graph": graph,
                "alpha": alpha,
                "peer": "ours",
                "edges": E,
                "nodes": n,
                "status": rec["status"],
                "seconds_median": statistics.median(times) if times else None,
                "seconds_all": times,
                "peak_mib": rec.get("peak_mib"),
                "children_peak_mib": rec.get("children_peak_mib"),
                "threads": args.threads,
                "workers": args.workers,
            }
            rows.append(ours)
            peers = list(args.peers) + (["bounds"] if args.bounds else [])
            for peer in peers:
                if (graph, alpha, peer) in done:
                    continue
                if peer in ("grc", "pot") and E > args.skip_peers_above:
                    r = {"status": f"not run (> {args.skip_peers_above} edges)"}
                    vals = None
                else:
                    runs = []
                    for _r in range(max(1, args.peer_repeats)):
                        r, vals = run_one(
                            graph,
                            peer,
                            alpha,
                            args.peer_timeout,
                            args.peer_mem_gib if peer != "bounds" else 0,
                            args.threads,
                        )
                        if r.get("status") != "ok":
                            break
                        runs.append(r["seconds"])
                    if len(runs) > 1:  # median over the repeats; ratio against ours' median
                        r = {**r, "seconds": statistics.median(runs), "seconds_all": runs}
                row = {"graph": graph, "alpha": alpha, "peer": peer, "edges": E, **r}
                if vals is not None and ours_vals is not None and peer != "bounds":
                    row["max_abs_diff"] = float(np.abs(vals - ours_vals).max()) if E else 0.0
                if r.get("seconds") and ours["seconds_median"]:
                    row["ratio_peer_over_ours"] = r["seconds"] / ours["seconds_median"]
                rows.append(row)
            with open(args.jsonl, "a") as fh:
                for row in rows:
                    if row["graph"] == graph and row["alpha"] == alpha:
                        fh.write(json.dumps(row) + "\n")
            for row in rows:
                if row["graph"] == graph and row["alpha"] == alpha:
                    print(fmt(row), flush=True)


def bench_lcp(name: str, repeats: int, threads: int, jsonl: str) -> None:
    """LCP of every graph of a graph dataset: one batched call vs one call per graph."""
    import torch

    from graphsmooth.curvature import LocalCurvatureProfile
    from graphsmooth.data import load_dataset

    torch.set_num_threads(threads)
    ds = load_dataset(name)
    graphs = [ds[i] for i in range(len(ds))]
    for method in ("exact", "combinatorial"):
        T = LocalCurvatureProfile(method=method)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            T.transform_list(graphs)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        for g in graphs:
            T(g.clone())
        per_graph = time.perf_counter() - t
        row = {
            "lcp": name,
            "graphs": len(graphs),
            "method": method,
            "batched_seconds_median": statistics.median(times),
            "batched_seconds_all": times,
            "per_graph_calls_seconds": per_graph,
        }
        with open(jsonl, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(
            f"LCP {name} ({len(graphs)} graphs, {method}): batched {row['batched_seconds_median']:.2f} s "
            f"(median of {repeats}), one call per graph {per_graph:.2f} s",
            flush=True,
        )


def markdown_table(paths) -> str:
    rows = []
    for p in paths:
        with open(p) as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    out = [
        "| graph | undirected edges | alpha | ours exact (median) | ours peak RSS | "
        "GraphRicciCurvature OTD | ratio | max abs diff | POT loop | ratio | max abs diff | "
        "bounds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    key = {}
    for r in rows:
        if "graph" in r:
            key.setdefault((r["graph"], r["alpha"]), {})[r["peer"]] = r

    def peer_cells(r):
        if r is None:
            return ["—", "—", "—"]
        if r.get("status") != "ok":
            return [r["status"], "—", "—"]
        return [
            f"{r['seconds']:.2f} s",
            f"{r.get('ratio_peer_over_ours', float('nan')):.1f}x",
            f"{r.get('max_abs_diff', float('nan')):.1e}",
        ]

    for (graph, alpha), d in key.items():
        o = d.get("ours", {})
        sec = o.get("seconds_median")
        cells = [graph, str(o.get("edges", "")), str(alpha)]
        cells.append(f"{sec:.2f} s" if sec is not None else o.get("status", "—"))
        cells.append(f"{o['peak_mib']:.0f} MiB" if o.get("peak_mib") else "—")
        cells += peer_cells(d.get("grc")) + peer_cells(d.get("pot"))
        b = d.get("bounds")
        cells.append(f"{b['seconds']:.2f} s" if b and b.get("status") == "ok" else "—")
        out.append("| " + " | ".join(cells) + " |")
    for r in rows:
        if "lcp" in r:
            out.append(
                f"\nLCP {r['lcp']} ({r['graphs']} graphs, {r['method']}): batched "
                f"{r['batched_seconds_median']:.2f} s (median of {len(r['batched_seconds_all'])}), "
                f"one call per graph {r['per_graph_calls_seconds']:.2f} s"
            )
    return "\n".join(out)


def fmt(r) -> str:
    sec = r.get("seconds_median", r.get("seconds"))
    s = f"{r['graph']:>10} a={r['alpha']:<4} {r['peer']:>6} E={r['edges']:>8} "
    s += f"{'' if sec is None else f'{sec:9.3f} s'} "
    if r.get("peak_mib"):
        s += f"peak {r['peak_mib']:8.0f} MiB "
    if "ratio_peer_over_ours" in r:
        s += f"ratio {r['ratio_peer_over_ours']:7.1f}x "
    if "max_abs_diff" in r:
        s += f"maxdiff {r['max_abs_diff']:.1e} "
    if r.get("status") != "ok":
        s += f"[{r.get('status')}]"
    return s


if __name__ == "__main__":
    main()

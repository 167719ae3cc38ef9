"""Attribution speed: journeys/s per model on N synthetic journeys (default 1M).

    .venv/bin/python bench/attribution.py [--journeys 1000000] [--order 2]

Journeys are drawn from a fixed seed: 10 channels, 1-8 touches, ~30 % converting. The
journey builder (Ibis on the engine) is measured separately by ``--db``: journeys built
from a workspace. Peer: the R/Python package ChannelAttribution (GPL) when installed; it
is never a dependency and is skipped when absent.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kundresa.attribution import Journeys, attribute, build_journeys
from kundresa.attribution._api import MODELS


def synthetic(n: int, seed: int = 1) -> Journeys:
    rng = np.random.default_rng(seed)
    n_ch = 10
    lengths = rng.integers(1, 9, size=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = rng.integers(0, n_ch, size=int(offsets[-1])).astype(np.int64)
    # merge consecutive repeats the cheap way: shift a repeat to the next channel
    same = np.concatenate([[False], codes[1:] == codes[:-1]])
    first = np.zeros(len(codes), dtype=bool)
    first[offsets[:-1]] = True
    codes = np.where(same & ~first, (codes + 1) % n_ch, codes)
    conv = (rng.uniform(size=n) < 0.3).astype(np.float64)
    return Journeys(
        channels=tuple(f"ch{i}" for i in range(n_ch)),
        offsets=offsets,
        codes=codes,
        seconds_before=rng.uniform(0, 30 * 86400, size=len(codes)),
        conversions=conv,
        value=conv * rng.uniform(10, 500, size=n),
    )


def peer(j: Journeys, order: int) -> None:
    """ChannelAttribution on the same journeys (aggregated per distinct path, as it expects):
    heuristic models, and its simulated Markov model (its defaults, ``max_step=100``) vs our
    exact one. Timed including the aggregation it needs."""
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import ChannelAttribution as ca  # type: ignore[import-not-found]  # noqa: N813
    except ImportError:
        print("peer ChannelAttribution (GPL): not installed, skipped")
        return
    import pandas as pd

    t = time.perf_counter()
    frame = pd.DataFrame({"path": [" > ".join(p) for p in j.paths()], "conv": j.conversions})
    frame["null"] = 1.0 - frame["conv"]
    data = frame.groupby("path", as_index=False)[["conv", "null"]].sum()
    prep = time.perf_counter() - t
    print(f"peer ChannelAttribution (GPL): {len(data):,} distinct paths, prepared in {prep:.2f} s")
    for name, call in (
        ("heuristic", lambda: ca.heuristic_models(data, "path", "conv", flg_pro=False)),
        (
            f"markov o{order}",
            lambda: ca.markov_model(
                data,
                "path",
                "conv",
                var_null="null",
                order=order,
                max_step=100,
                verbose=False,
                flg_pro=False,
            ),
        ),
    ):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            call()
        s = prep + time.perf_counter() - t
        ours_models = ["first", "last", "linear"] if name == "heuristic" else ["markov"]
        t = time.perf_counter()
        attribute(j, model=ours_models, order=order)
        o = time.perf_counter() - t
        print(f"  {name:<16} peer {s:7.2f} s  kundresa {o:7.2f} s  peer/kundresa {s / o:5.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--order", type=int, default=2)
    ap.add_argument("--db", default=None, help="also time build_journeys on this workspace")
    ap.add_argument("--conversion", default="Order Completed")
    args = ap.parse_args()
    j = synthetic(args.journeys)
    print(f"{j.n_journeys:,} journeys, {len(j.codes):,} touches, {len(j.channels)} channels")
    total = 0.0
    for m in MODELS:
        t = time.perf_counter()
        attribute(j, model=m, order=args.order)
        s = time.perf_counter() - t
        total += s
        print(f"  {m:<16} {s:7.2f} s  {j.n_journeys / s:>14,.0f} journeys/s")
    print(f"  {'all (sum)':<16} {total:7.2f} s  {j.n_journeys / total:>14,.0f} journeys/s")
    peer(j, args.order)
    if args.db:
        from kundresa import Workspace

        with Workspace.open(args.db) as ws:
            t = time.perf_counter()
            built = build_journeys(ws, args.conversion)
            s = time.perf_counter() - t
            print(f"build_journeys: {built.n_journeys:,} journeys in {s:.2f} s")


if __name__ == "__main__":
    main()

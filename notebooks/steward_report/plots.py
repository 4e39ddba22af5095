"""Figures of a run, and the report that gathers them."""

from __future__ import annotations

import html
import json
import os

import matplotlib

matplotlib.use("Agg")  # files only; notebooks pick their own backend before importing pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from steward_report.run import Run  # noqa: E402


def _hours(seconds):
    return seconds / 3600.0


def plot_utilisation(run: Run, ax=None):
    """Allocated / total per resource over time (resources the cluster has)."""
    ax = ax or plt.gca()
    cluster = run.cluster()
    for r in run.resources:
        column = cluster[f"{r}_utilisation"]
        if column.notna().any():
            ax.plot(_hours(cluster["time"]), 100 * column, label=r)
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("allocated (% of total)")
    ax.set_ylim(0, 105)
    ax.set_title(f"{run.name}: utilisation")
    ax.legend(loc="best")
    return ax


def plot_dominant_shares(run: Run, ax=None, top: int = 8):
    """Dominant share over time of the `top` frameworks with the most submitted tasks."""
    ax = ax or plt.gca()
    frameworks = run.frameworks()
    order = sorted(run.summary["frameworks"], key=lambda f: -f["tasks_submitted"])
    times = np.sort(run.timeline["time"].unique())
    for f in order[:top]:
        rows = frameworks[frameworks["framework"] == f["name"]].set_index("time")
        series = rows["dominant_share"].reindex(times).fillna(0.0)
        ax.step(_hours(times), series, where="post", label=f["name"])
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("dominant share")
    ax.set_title(f"{run.name}: dominant shares" + (f" (top {top})" if len(order) > top else ""))
    if order:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_cdf(values, ax=None, label=None, xlabel="seconds", title=None, log=True):
    """Empirical CDF of `values` (a pandas Series or array)."""
    ax = ax or plt.gca()
    data = np.sort(np.asarray(values, dtype=float))
    if data.size:
        y = np.arange(1, data.size + 1) / data.size
        shown = np.maximum(data, 1e-3) if log else data
        ax.step(shown, y, where="post", label=label)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of tasks")
    ax.set_ylim(0, 1.01)
    if title:
        ax.set_title(title)
    return ax


def write_report(run: Run, out_dir: str | None = None) -> str:
    """Saves utilisation.png, shares.png, wait_cdf.png and jct_cdf.png and a report.html that
    shows them with the summary; returns the path of report.html."""
    out_dir = out_dir or run.path
    os.makedirs(out_dir, exist_ok=True)
    figures = {
        "utilisation.png": lambda ax: plot_utilisation(run, ax),
        "shares.png": lambda ax: plot_dominant_shares(run, ax),
        "wait_cdf.png": lambda ax: plot_cdf(run.waits(), ax, xlabel="wait (s)",
                                            title=f"{run.name}: wait time CDF"),
        "jct_cdf.png": lambda ax: plot_cdf(run.completion_times(), ax,
                                           xlabel="completion time (s)",
                                           title=f"{run.name}: completion time CDF"),
    }
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(8, 4.5))
        draw(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, name), dpi=100)
        plt.close(fig)
    s = run.summary
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in s.items() if k != "frameworks")
    images = "".join(f'<p><img src="{name}" alt="{name}"></p>' for name in figures)
    page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(run.name)}</title>"
            f"<h1>steward-sim run: {html.escape(run.name)}</h1>"
            f"<table>{rows}</table>{images}")
    path = os.path.join(out_dir, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path

"""Loading a steward-sim run folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pandas as pd

CLUSTER = "(cluster)"  # the framework name of the cluster-wide rows of timeline.csv


@dataclass
class Run:
    """One simulation run: its summary and its three tables."""

    path: str
    summary: dict
    tasks: pd.DataFrame
    agents: pd.DataFrame
    timeline: pd.DataFrame

    @property
    def name(self) -> str:
        return self.summary.get("scenario", os.path.basename(self.path.rstrip("/")))

    @property
    def resources(self) -> list[str]:
        """The scalar resource columns of the run (cpus, mem, disk, gpus, ...)."""
        fixed = {"task_id", "framework", "role", "agent", "submit_time", "start_time",
                 "end_time", "state"}
        return [c for c in self.tasks.columns if c not in fixed]

    def cluster(self) -> pd.DataFrame:
        """Cluster-wide timeline rows, with a <resource>_utilisation column per resource."""
        rows = self.timeline[self.timeline["framework"] == CLUSTER].copy()
        for r in self.resources:
            total = rows[f"{r}_total"]
            rows[f"{r}_utilisation"] = (rows[f"{r}_allocated"] / total).where(total > 0)
        return rows.reset_index(drop=True)

    def frameworks(self) -> pd.DataFrame:
        """Per-framework timeline rows (a framework appears while it has work)."""
        return self.timeline[self.timeline["framework"] != CLUSTER].reset_index(drop=True)

    def waits(self) -> pd.Series:
        """Wait (start - submit) of every task that started, in seconds."""
        started = self.tasks.dropna(subset=["start_time"])
        return started["start_time"] - started["submit_time"]

    def completion_times(self) -> pd.Series:
        """Completion time (end - submit) of every finished task, in seconds."""
        done = self.tasks[self.tasks["state"] == "FINISHED"]
        return done["end_time"] - done["submit_time"]


def load_run(path: str) -> Run:
    """Reads a run folder. Raises FileNotFoundError naming the missing file, or ValueError
    for a file that is not what steward-sim writes."""
    files = {name: os.path.join(path, name)
             for name in ("summary.json", "tasks.csv", "agents.csv", "timeline.csv")}
    for name, file in files.items():
        if not os.path.isfile(file):
            raise FileNotFoundError(f"{file}: missing (is {path} a steward-sim output folder?)")
    with open(files["summary.json"], encoding="utf-8") as f:
        try:
            summary = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{files['summary.json']}:{e.lineno}:{e.colno}: {e.msg}") from e
    tasks = pd.read_csv(files["tasks.csv"], keep_default_na=False, na_values={
        "start_time": [""], "end_time": [""], "agent": [""]})
    agents = pd.read_csv(files["agents.csv"], keep_default_na=False,
                         na_values={"removed_time": [""]})
    timeline = pd.read_csv(files["timeline.csv"], keep_default_na=False, na_values=[""])
    timeline["framework"] = timeline["framework"].astype(str)
    for table, name, needed in ((tasks, "tasks.csv", ["task_id", "submit_time", "state"]),
                                (agents, "agents.csv", ["agent", "added_time"]),
                                (timeline, "timeline.csv", ["time", "framework", "dominant_share"])):
        missing = [c for c in needed if c not in table.columns]
        if missing:
            raise ValueError(f"{os.path.join(path, name)}: missing columns {missing}")
    return Run(path=path, summary=summary, tasks=tasks, agents=agents, timeline=timeline)


def compare_runs(paths: list[str]) -> pd.DataFrame:
    """One row per run with the headline figures of its summary, for side-by-side tables."""
    rows = []
    for p in paths:
        s = load_run(p).summary
        row = {"run": p, "scenario": s["scenario"], "mode": s["mode"], "sorter": s["sorter"],
               "seed": s["seed"], "finished": s["tasks"]["finished"],
               "pending_at_end": s["tasks"]["pending_at_end"],
               "wait_mean": s["wait_seconds"]["mean"], "wait_p99": s["wait_seconds"]["p99"],
               "jct_mean": s["jct_seconds"]["mean"], "jct_p99": s["jct_seconds"]["p99"],
               "jain": s["mean_jain_index"]}
        for r, u in s["mean_utilisation"].items():
            row[f"{r}_utilisation"] = u
        rows.append(row)
    return pd.DataFrame(rows)

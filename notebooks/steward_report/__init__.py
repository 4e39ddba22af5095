"""Reading steward-sim outputs and plotting them.

A run folder (``steward-sim run ... --out DIR``) holds summary.json, tasks.csv, agents.csv and
timeline.csv (see docs/simulator.md). ``load_run`` reads them into pandas; the ``plot_*``
functions draw the usual figures on a matplotlib Axes; ``write_report`` saves them as PNG files
with an HTML page that shows them beside the summary.

    from steward_report import load_run, write_report
    run = load_run("sim-out/demo")
    run.summary["tasks"]["finished"]
    write_report(run)            # sim-out/demo/report.html

From a shell: ``python3 -m steward_report sim-out/demo``.
"""

from steward_report.run import Run, load_run, compare_runs
from steward_report.plots import (
    plot_cdf,
    plot_dominant_shares,
    plot_utilisation,
    write_report,
)

__all__ = [
    "Run",
    "load_run",
    "compare_runs",
    "plot_cdf",
    "plot_dominant_shares",
    "plot_utilisation",
    "write_report",
]

"""Tests of the steward_report package on a real steward-sim run (STEWARD_RUN_DIR)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from steward_report import compare_runs, load_run, write_report

RUN_DIR = os.environ["STEWARD_RUN_DIR"]


class LoadRunTest(unittest.TestCase):
    def setUp(self):
        self.run = load_run(RUN_DIR)

    def test_tables_match_the_summary(self):
        s = self.run.summary
        self.assertEqual(len(self.run.tasks), s["tasks"]["submitted"])
        self.assertEqual((self.run.tasks["state"] == "FINISHED").sum(), s["tasks"]["finished"])
        self.assertEqual(len(self.run.agents), 30)
        self.assertEqual(self.run.resources[:4], ["cpus", "mem", "disk", "gpus"])

    def test_utilisation_within_bounds_and_waits_non_negative(self):
        cluster = self.run.cluster()
        self.assertGreater(len(cluster), 10)
        for r in ("cpus", "mem"):
            u = cluster[f"{r}_utilisation"]
            self.assertTrue(((u >= 0) & (u <= 1)).all(), r)
            self.assertGreater(u.max(), 0.2, r)  # the workload keeps the cluster busy
        self.assertTrue((self.run.waits() >= 0).all())
        self.assertEqual(len(self.run.completion_times()), self.run.summary["tasks"]["finished"])

    def test_compare_runs(self):
        table = compare_runs([RUN_DIR, RUN_DIR])
        self.assertEqual(len(table), 2)
        self.assertEqual(table.loc[0, "finished"], self.run.summary["tasks"]["finished"])

    def test_report_writes_every_figure(self):
        out = tempfile.mkdtemp()
        try:
            path = write_report(self.run, out)
            self.assertEqual(path, os.path.join(out, "report.html"))
            for name in ("utilisation.png", "shares.png", "wait_cdf.png", "jct_cdf.png"):
                self.assertGreater(os.path.getsize(os.path.join(out, name)), 5000, name)
            with open(path, encoding="utf-8") as f:
                page = f.read()
            self.assertIn("notebook-small", page)
            self.assertIn('<img src="jct_cdf.png"', page)
        finally:
            shutil.rmtree(out)


class BadInputTest(unittest.TestCase):
    def test_missing_folder_names_the_file(self):
        with self.assertRaises(FileNotFoundError) as e:
            load_run("/nonexistent/run")
        self.assertIn("/nonexistent/run/summary.json", str(e.exception))

    def load_with(self, name, content):
        """load_run on a copy of the run whose file `name` holds `content`; returns the error."""
        bad = tempfile.mkdtemp()
        try:
            for other in ("summary.json", "tasks.csv", "agents.csv", "timeline.csv"):
                shutil.copy(os.path.join(RUN_DIR, other), bad)
            with open(os.path.join(bad, name), "w") as f:
                f.write(content)
            with self.assertRaises(ValueError) as e:
                load_run(bad)
            return str(e.exception)
        finally:
            shutil.rmtree(bad)

    def test_malformed_summary_is_located(self):
        message = self.load_with("summary.json", '{\n  "scenario": "x",\n  oops\n}\n')
        self.assertIn("summary.json:3:3", message)

    def test_missing_column_is_an_error(self):
        message = self.load_with("tasks.csv", "id,framework\n1,a\n")
        self.assertIn("tasks.csv: missing columns", message)

    def test_command_line_exit_codes(self):
        env = dict(os.environ)
        bad = subprocess.run([sys.executable, "-m", "steward_report", "/nonexistent"],
                             capture_output=True, text=True, env=env)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("missing", bad.stderr)
        out = tempfile.mkdtemp()
        try:
            good = subprocess.run([sys.executable, "-m", "steward_report", RUN_DIR, out],
                                  capture_output=True, text=True, env=env)
            self.assertEqual(good.returncode, 0, good.stderr)
            self.assertTrue(os.path.isfile(os.path.join(out, "report.html")))
        finally:
            shutil.rmtree(out)


if __name__ == "__main__":
    unittest.main()

"""Tests of scripts/perf-check, the CI performance gate, on crafted Google Benchmark JSON and on
fake benchmark binaries (no real benchmark runs). Usage: test_perf_check.py SOURCE_DIR."""

import importlib.machinery
import importlib.util
import json
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

SOURCE_DIR = os.environ.get("STEWARD_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "perf-check")
COMMITTED_BASELINE = os.path.join(SOURCE_DIR, "bench", "baseline", "perf-baseline.json")

CALIBRATION_MS = 40.0
DECLINE = "BM_DeclineOffers_Engine/agents:1000/frameworks:100"
FULL = "BM_FullCycle_Engine/agents:10000/frameworks:1000"
SIM = "BM_Sim_Openb/offer:0"


def gbench_entry(name, real_ms, cpu_ms=None, repetition=0, iterations=10, error=None):
    entry = {"name": f"{name}/iterations:{iterations}/manual_time",
             "run_name": f"{name}/iterations:{iterations}/manual_time",
             "run_type": "iteration", "repetitions": 3, "repetition_index": repetition,
             "threads": 1, "iterations": iterations, "real_time": real_ms,
             "cpu_time": cpu_ms if cpu_ms is not None else real_ms, "time_unit": "ms"}
    if error:
        entry["error_occurred"] = True
        entry["error_message"] = error
    return entry


def gbench_doc(entries):
    return {"context": {"host_name": "test", "num_cpus": 2}, "benchmarks": entries}


def baseline_doc(entries):
    """entries: {name: (normalised, threshold, field)}."""
    return {"format": "steward-perf-baseline/1", "commit": "test",
            "benchmarks": {name: {"binary": "steward-sim-bench" if name == SIM
                                  else "steward-allocator-bench",
                                  "field": field, "normalised": normalised, "noise": threshold / 3,
                                  "threshold": threshold}
                           for name, (normalised, threshold, field) in entries.items()}}


# Baseline normalised figures: DECLINE 0.005 (0.2 ms / 40 ms), FULL 0.065 (2.6 ms / 40 ms),
# SIM 4.0 (160 ms CPU / 40 ms). Thresholds 15%.
BASELINE = baseline_doc({DECLINE: (0.005, 0.15, "real_time"), FULL: (0.065, 0.15, "real_time"),
                         SIM: (4.0, 0.15, "cpu_time")})


def results(decline_ms=0.2, full_ms=2.6, sim_cpu_ms=160.0, calibration_ms=CALIBRATION_MS,
            drop=()):
    """Google Benchmark JSON for one run: three repetitions of each, the minimum as given."""
    entries = []
    for rep, extra in enumerate((1.0, 1.3, 1.1)):
        entries.append(gbench_entry("BM_Calibration", calibration_ms * extra, repetition=rep))
        if DECLINE not in drop:
            entries.append(gbench_entry(DECLINE, decline_ms * extra, repetition=rep))
        if FULL not in drop:
            entries.append(gbench_entry(FULL, full_ms * extra, repetition=rep))
        if SIM not in drop:
            # The simulator is read from cpu_time: its real_time (wall) is deliberately large.
            entries.append(gbench_entry(SIM, 10 * sim_cpu_ms, sim_cpu_ms * extra, repetition=rep))
    # Aggregates are ignored (the gate takes its own minimum); a tiny mean must not count.
    entries.append(dict(gbench_entry(FULL, 0.001), run_type="aggregate", aggregate_name="mean"))
    return gbench_doc(entries)


class Files:
    def __init__(self, test):
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)

    def write(self, name, document):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            if isinstance(document, str):
                f.write(document)
            else:
                json.dump(document, f)
        return path


def run_script(*args, env=None):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          env=env)


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.files = Files(self)
        self.baseline = self.files.write("baseline.json", BASELINE)

    def compare(self, document, baseline=None):
        bench = self.files.write("bench.json", document)
        out = os.path.join(self.files.dir.name, "comparison.json")
        result = run_script("compare", "--baseline", baseline or self.baseline, "--bench", bench,
                            "--out", out)
        comparison = None
        if os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                comparison = json.load(f)
        return result, comparison

    def row(self, comparison, name):
        return next(r for r in comparison["rows"] if r["benchmark"] == name)

    def test_unchanged_code_passes(self):
        result, comparison = self.compare(results())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("perf-check: passed", result.stdout)
        for name in (DECLINE, FULL, SIM):
            self.assertAlmostEqual(self.row(comparison, name)["ratio"], 1.0, places=6)
            self.assertEqual(self.row(comparison, name)["verdict"], "ok")

    def test_clear_regression_fails(self):
        result, comparison = self.compare(results(full_ms=2.6 * 1.5))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("REGRESSION " + FULL, result.stdout)
        row = self.row(comparison, FULL)
        self.assertEqual(row["verdict"], "SLOWER")
        self.assertAlmostEqual(row["ratio"], 1.5, places=6)
        self.assertEqual(self.row(comparison, DECLINE)["verdict"], "ok")

    def test_change_within_noise_passes(self):
        result, comparison = self.compare(results(full_ms=2.6 * 1.10, decline_ms=0.2 * 0.92))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.row(comparison, FULL)["verdict"], "ok")
        self.assertEqual(self.row(comparison, DECLINE)["verdict"], "ok")

    def test_improvement_passes_and_is_reported(self):
        result, comparison = self.compare(results(decline_ms=0.2 * 0.5))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("faster: " + DECLINE, result.stdout)
        self.assertEqual(self.row(comparison, DECLINE)["verdict"], "faster")

    def test_machine_speed_cancels(self):
        # Everything, the calibration kernel included, 1.8x slower: a slower machine, not a
        # regression.
        result, _ = self.compare(results(decline_ms=0.36, full_ms=2.6 * 1.8, sim_cpu_ms=288.0,
                                         calibration_ms=CALIBRATION_MS * 1.8))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # The same benchmark times on a faster-calibrating machine are a regression.
        result, _ = self.compare(results(calibration_ms=CALIBRATION_MS / 1.8))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)

    def test_simulator_read_from_cpu_time(self):
        result, comparison = self.compare(results(sim_cpu_ms=160.0 * 1.4))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(self.row(comparison, SIM)["verdict"], "SLOWER")
        self.assertAlmostEqual(self.row(comparison, SIM)["ratio"], 1.4, places=6)

    def test_missing_benchmark_is_an_error(self):
        result, comparison = self.compare(results(drop=(FULL,)))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"{FULL} is in the baseline but was not measured", result.stdout)
        self.assertIn("make perf-baseline", result.stdout)
        self.assertEqual(self.row(comparison, FULL)["verdict"], "MISSING")

    def test_failed_benchmark_is_reported_as_missing(self):
        document = results()
        document["benchmarks"].append(gbench_entry(DECLINE, 0.0, error="set-up cycle failed"))
        result, comparison = self.compare(document)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("set-up cycle failed", result.stdout)
        self.assertEqual(self.row(comparison, DECLINE)["verdict"], "MISSING")

    def test_benchmark_not_in_baseline_is_only_reported(self):
        document = results()
        document["benchmarks"].append(gbench_entry("BM_New_Engine/x:1", 1.0))
        result, _ = self.compare(document)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("BM_New_Engine/x:1: in the results but not in the baseline", result.stdout)

    def test_table_lists_every_column(self):
        result, _ = self.compare(results(full_ms=2.6 * 1.5))
        header = result.stdout.splitlines()[0].split()
        self.assertEqual(header, ["benchmark", "baseline", "now", "ratio", "threshold", "verdict"])
        line = next(l for l in result.stdout.splitlines() if l.startswith(FULL))
        self.assertIn("0.065", line)
        self.assertIn("1.500", line)
        self.assertIn("+15%", line)
        self.assertIn("SLOWER", line)


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.files = Files(self)
        self.baseline = self.files.write("baseline.json", BASELINE)
        self.bench = self.files.write("bench.json", results())

    def assert_bad_input(self, result, *fragments):
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)

    def test_malformed_benchmark_json(self):
        bench = self.files.write("broken.json", '{"benchmarks": [')
        result = run_script("compare", "--baseline", self.baseline, "--bench", bench)
        self.assert_bad_input(result, bench, "not valid JSON")

    def test_benchmark_json_without_benchmarks(self):
        bench = self.files.write("other.json", {"results": []})
        result = run_script("compare", "--baseline", self.baseline, "--bench", bench)
        self.assert_bad_input(result, bench, "no 'benchmarks' list")

    def test_benchmark_entry_with_bad_time(self):
        document = results()
        document["benchmarks"][1]["real_time"] = "fast"
        bench = self.files.write("bad-time.json", document)
        result = run_script("compare", "--baseline", self.baseline, "--bench", bench)
        self.assert_bad_input(result, bench, "benchmarks[1]", "real_time is 'fast'")

    def test_benchmark_entry_with_bad_unit(self):
        document = results()
        document["benchmarks"][2]["time_unit"] = "fortnights"
        bench = self.files.write("bad-unit.json", document)
        result = run_script("compare", "--baseline", self.baseline, "--bench", bench)
        self.assert_bad_input(result, bench, "time_unit 'fortnights'")

    def test_missing_benchmark_file(self):
        missing = os.path.join(self.files.dir.name, "nope.json")
        result = run_script("compare", "--baseline", self.baseline, "--bench", missing)
        self.assert_bad_input(result, missing, "not found")

    def test_no_calibration_in_results(self):
        document = results()
        document["benchmarks"] = [b for b in document["benchmarks"]
                                  if not b["name"].startswith("BM_Calibration")]
        bench = self.files.write("no-calibration.json", document)
        result = run_script("compare", "--baseline", self.baseline, "--bench", bench)
        self.assert_bad_input(result, "no BM_Calibration results")

    def test_missing_baseline(self):
        missing = os.path.join(self.files.dir.name, "no-baseline.json")
        result = run_script("compare", "--baseline", missing, "--bench", self.bench)
        self.assert_bad_input(result, missing, "baseline not found")

    def test_malformed_baseline(self):
        baseline = self.files.write("broken-baseline.json", "{not json")
        result = run_script("compare", "--baseline", baseline, "--bench", self.bench)
        self.assert_bad_input(result, baseline, "not valid JSON")

    def test_baseline_of_another_format(self):
        baseline = self.files.write("other-baseline.json", {"benchmarks": {}})
        result = run_script("compare", "--baseline", baseline, "--bench", self.bench)
        self.assert_bad_input(result, baseline, "not a perf-check baseline")

    def test_baseline_entry_without_threshold(self):
        document = json.loads(json.dumps(BASELINE))
        del document["benchmarks"][FULL]["threshold"]
        baseline = self.files.write("no-threshold.json", document)
        result = run_script("compare", "--baseline", baseline, "--bench", self.bench)
        self.assert_bad_input(result, baseline, FULL, "threshold is None")

    def test_run_without_binaries(self):
        result = run_script("run", "--baseline", self.baseline, "--build",
                            os.path.join(self.files.dir.name, "no-build"))
        self.assert_bad_input(result, "steward-calibration-bench: benchmark binary not found")


# A fake benchmark binary: writes Google Benchmark JSON for the benchmarks its
# --benchmark_filter selects, with times from FAKE_TIMES (JSON: {name: [ms per call, ...]}),
# the k-th call of a binary using the k-th entry (the last one once they run out). Every call's
# arguments are appended to FAKE_LOG.
FAKE_BINARY = textwrap.dedent("""\
    #!{python}
    import json, os, re, sys
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if "=" in a)
    me = os.path.basename(sys.argv[0])
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps({{"binary": me, "args": args}}) + "\\n")
    count_file = os.environ["FAKE_LOG"] + "." + me
    calls = int(open(count_file).read()) if os.path.exists(count_file) else 0
    open(count_file, "w").write(str(calls + 1))
    times = json.load(open(os.environ["FAKE_TIMES"]))
    pattern = re.compile(args["benchmark_filter"])
    entries = []
    for name, per_call in times.items():
        full = name + "/iterations:10/manual_time"
        if not pattern.search(full):
            continue
        ms = per_call[min(calls, len(per_call) - 1)]
        for rep in range(int(args["benchmark_repetitions"])):
            entries.append({{"name": full, "run_name": full, "run_type": "iteration",
                            "real_time": ms * (1 + rep / 10), "cpu_time": ms * (1 + rep / 10),
                            "time_unit": "ms"}})
    json.dump({{"context": {{}}, "benchmarks": entries}}, open(args["benchmark_out"], "w"))
    """)


class FakeBinaries(unittest.TestCase):
    """A build directory whose benchmark binaries are FAKE_BINARY."""

    def setUp(self):
        self.files = Files(self)
        self.baseline = self.files.write("baseline.json", BASELINE)
        self.build = os.path.join(self.files.dir.name, "build")
        os.makedirs(os.path.join(self.build, "bench"))
        for binary in ("steward-calibration-bench", "steward-allocator-bench",
                       "steward-sim-bench"):
            path = os.path.join(self.build, "bench", binary)
            with open(path, "w", encoding="utf-8") as f:
                f.write(FAKE_BINARY.format(python=sys.executable))
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        self.log = os.path.join(self.files.dir.name, "calls.log")


class RunTest(FakeBinaries):
    """`perf-check run`: measurement passes, confirmation of suspects, the written JSON."""

    def run_gate(self, times):
        env = dict(os.environ, FAKE_LOG=self.log,
                   FAKE_TIMES=self.files.write("times.json", times))
        out = os.path.join(self.files.dir.name, "out")
        result = run_script("run", "--baseline", self.baseline, "--build", self.build, "--out",
                            out, "--repetitions", "2", env=env)
        with open(self.log, encoding="utf-8") as f:
            calls = [json.loads(line) for line in f]
        comparison = None
        if os.path.exists(os.path.join(out, "comparison.json")):
            with open(os.path.join(out, "comparison.json"), encoding="utf-8") as f:
                comparison = json.load(f)
        return result, calls, comparison

    def allocator_filters(self, calls):
        return [c["args"]["benchmark_filter"] for c in calls
                if c["binary"] == "steward-allocator-bench"]

    def test_steady_figures_pass_in_one_pass(self):
        stale = os.path.join(self.files.dir.name, "out", "raw", "confirm2-steward-sim-bench.json")
        os.makedirs(os.path.dirname(stale))
        with open(stale, "w", encoding="utf-8") as f:
            f.write("{}")
        result, calls, comparison = self.run_gate(
            {"BM_Calibration": [40.0], DECLINE: [0.2], FULL: [2.6], SIM: [160.0]})
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(len(self.allocator_filters(calls)), 1)
        # The calibration kernel runs before and after the benchmarks.
        self.assertEqual([c["binary"] for c in calls],
                         ["steward-calibration-bench", "steward-allocator-bench",
                          "steward-sim-bench", "steward-calibration-bench"])
        self.assertEqual(len(comparison["measurements"]), 1)
        self.assertTrue(all(os.path.exists(p) for p in comparison["raw_files"]))
        # The raw folder holds this run's files only.
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(sorted(os.listdir(os.path.dirname(stale))),
                         sorted(os.path.basename(p) for p in comparison["raw_files"]))

    def test_noisy_spike_is_cleared_by_re_measuring(self):
        # FULL looks 60% slower in the first pass only: a burst of load, not a regression.
        result, calls, comparison = self.run_gate(
            {"BM_Calibration": [40.0], DECLINE: [0.2], FULL: [2.6 * 1.6, 2.6], SIM: [160.0]})
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("re-measuring 1 figure(s)", result.stdout)
        filters = self.allocator_filters(calls)
        self.assertEqual(len(filters), 2)
        # Only the suspect is re-measured; the simulator is not run again.
        self.assertIn("FullCycle", filters[1])
        self.assertNotIn("DeclineOffers", filters[1])
        self.assertEqual(sum(c["binary"] == "steward-sim-bench" for c in calls), 1)
        row = next(r for r in comparison["rows"] if r["benchmark"] == FULL)
        self.assertEqual(row["verdict"], "ok")
        self.assertEqual(len(row["passes"]), 2)
        self.assertAlmostEqual(row["passes"][0], 1.6, places=6)

    def test_regression_confirmed_twice_fails(self):
        result, calls, comparison = self.run_gate(
            {"BM_Calibration": [40.0], DECLINE: [0.2], FULL: [2.6 * 1.4], SIM: [160.0]})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(len(self.allocator_filters(calls)), 3)
        self.assertIn("REGRESSION " + FULL, result.stdout)
        self.assertIn("slower in all 3 measurements", result.stdout)
        row = next(r for r in comparison["rows"] if r["benchmark"] == FULL)
        self.assertEqual(row["verdict"], "SLOWER")
        self.assertEqual(len(row["passes"]), 3)

    def test_regression_gone_in_the_last_confirmation_passes(self):
        result, calls, _ = self.run_gate(
            {"BM_Calibration": [40.0], DECLINE: [0.2], FULL: [2.6 * 1.4, 2.6 * 1.4, 2.6],
             SIM: [160.0]})
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(len(self.allocator_filters(calls)), 3)


def load_script_module():
    loader = importlib.machinery.SourceFileLoader("perf_check", SCRIPT)
    spec = importlib.util.spec_from_loader("perf_check", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class BaselineTest(FakeBinaries):
    """`perf-check baseline`: median, noise and threshold of every tracked figure."""

    def test_baseline_records_median_noise_and_threshold(self):
        tracked = [name for name, _, _ in load_script_module().TRACKED]
        self.assertIn(FULL, tracked)
        self.assertIn(SIM, tracked)
        times = {"BM_Calibration": [40.0]}
        for name in tracked:
            times[name] = [1.0, 1.0, 1.0]
        # Three runs of FULL: 2.6, 2.86 (+10%) and 2.47 ms (-5%): median 2.6, noise 10%,
        # threshold max(15%, 3 x 10%) = 30%. DECLINE is steady: noise 0, threshold the floor.
        times[FULL] = [2.6, 2.86, 2.47]
        times[DECLINE] = [0.2]
        env = dict(os.environ, FAKE_LOG=self.log,
                   FAKE_TIMES=self.files.write("times.json", times))
        path = os.path.join(self.files.dir.name, "new-baseline.json")
        result = run_script("baseline", "--build", self.build, "--baseline", path, "--out",
                            os.path.join(self.files.dir.name, "out"), "--runs", "3",
                            "--repetitions", "2", env=env)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(path, encoding="utf-8") as f:
            baseline = json.load(f)
        self.assertEqual(baseline["format"], "steward-perf-baseline/1")
        self.assertEqual(sorted(baseline["benchmarks"]), sorted(tracked))
        full = baseline["benchmarks"][FULL]
        self.assertAlmostEqual(full["normalised"], 2.6 / 40.0)
        self.assertAlmostEqual(full["noise"], 0.1)
        self.assertAlmostEqual(full["threshold"], 0.3)
        self.assertEqual(len(full["normalised_runs"]), 3)
        decline = baseline["benchmarks"][DECLINE]
        self.assertAlmostEqual(decline["noise"], 0.0)
        self.assertAlmostEqual(decline["threshold"], baseline["floor"])
        self.assertEqual(baseline["benchmarks"][SIM]["field"], "cpu_time")
        self.assertEqual(baseline["runs"], 3)
        self.assertIn("cpu", baseline["machine"])
        # The new baseline is accepted by the gate, and unchanged figures pass it.
        times[FULL] = [2.6]
        env["FAKE_TIMES"] = self.files.write("times.json", times)
        result = run_script("run", "--baseline", path, "--build", self.build, "--out",
                            os.path.join(self.files.dir.name, "out2"), "--repetitions", "2",
                            env=env)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_baseline_refuses_a_run_with_a_missing_benchmark(self):
        times = {"BM_Calibration": [40.0], DECLINE: [0.2]}
        env = dict(os.environ, FAKE_LOG=self.log,
                   FAKE_TIMES=self.files.write("times.json", times))
        path = os.path.join(self.files.dir.name, "new-baseline.json")
        result = run_script("baseline", "--build", self.build, "--baseline", path, "--out",
                            os.path.join(self.files.dir.name, "out"), "--runs", "2", env=env)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(FULL, result.stderr)
        self.assertFalse(os.path.exists(path))


class CommittedBaselineTest(unittest.TestCase):
    def test_committed_baseline_is_valid_and_tracks_the_subset(self):
        with open(COMMITTED_BASELINE, encoding="utf-8") as f:
            baseline = json.load(f)
        self.assertEqual(baseline["format"], "steward-perf-baseline/1")
        self.assertGreaterEqual(baseline["runs"], 8)
        for name, entry in baseline["benchmarks"].items():
            self.assertGreater(entry["normalised"], 0, name)
            self.assertAlmostEqual(entry["threshold"],
                                   max(baseline["floor"], baseline["k"] * entry["noise"]),
                                   msg=name)
            self.assertEqual(len(entry["normalised_runs"]), baseline["runs"], name)
        self.assertIn(SIM, baseline["benchmarks"])
        self.assertIn(FULL, baseline["benchmarks"])


if __name__ == "__main__":
    unittest.main()

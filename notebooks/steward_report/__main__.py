"""python3 -m steward_report RUN_DIR [OUT_DIR]: plots and report.html for a steward-sim run."""

import sys

from steward_report import load_run, write_report


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print("usage: python3 -m steward_report RUN_DIR [OUT_DIR]\n"
              "Writes utilisation, dominant share, wait and completion time plots and\n"
              "report.html for the steward-sim output folder RUN_DIR (into OUT_DIR if given).",
              file=sys.stderr if len(argv) not in (2, 3) else sys.stdout)
        return 0 if len(argv) == 2 else 2
    try:
        run = load_run(argv[1])
    except (FileNotFoundError, ValueError) as e:
        print(f"steward_report: {e}", file=sys.stderr)
        return 2
    path = write_report(run, argv[2] if len(argv) == 3 else None)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

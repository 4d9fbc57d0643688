"""Run the benchmarks: `python -m bench [api|...] [--seconds N] [--runs N]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api, files, scale, sizing, startup


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=["api", "scale", "sizing", "files", "startup"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=10_000, help="for sizing")
    parser.add_argument("--fresh-runs", type=int, default=2, help="for startup: runs from a fresh clone")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: files 10 MiB only, 3 runs; startup with an existing build only, 2 runs")
    args = parser.parse_args()
    if "api" in args.which:
        print(api.table(api.run(args.seconds, args.runs)))
    if "scale" in args.which:
        print(scale.table(scale.run(args.seconds, args.runs)))
    if "sizing" in args.which:
        print(sizing.table(sizing.run(args.pushes)))
    if "files" in args.which:
        if args.quick:
            print(files.table(files.run(runs=3, sizes=(10,))))
        else:
            print(files.table(files.run(args.runs)))
    if "startup" in args.which:
        if args.quick:
            print(startup.table(startup.run(runs=2, fresh_runs=0)))
        else:
            print(startup.table(startup.run(args.runs, args.fresh_runs)))


if __name__ == "__main__":
    main()

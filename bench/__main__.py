"""Run the benchmarks: `python -m bench [api|...] [--seconds N] [--runs N]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api, growth, scale, sizing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=["api", "growth", "scale", "sizing"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=10_000, help="for sizing")
    parser.add_argument("--quick", action="store_true", help="growth: levels 1k and 10k, purge of 10k (< 2 min)")
    parser.add_argument("--ops", type=int, default=500, help="growth: creates and reveals timed per level")
    parser.add_argument("--no-http", action="store_true", help="growth: in-process only (no server)")
    parser.add_argument("--purge-runs", type=int, default=1, help="growth: purge rounds per purge level")
    parser.add_argument("--max-level", type=int, default=None, help="growth: stop after this many stored pushes")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite", help="growth: the database")
    args = parser.parse_args()
    if "api" in args.which:
        print(api.table(api.run(args.seconds, args.runs)))
    if "scale" in args.which:
        print(scale.table(scale.run(args.seconds, args.runs)))
    if "growth" in args.which:
        print(growth.table(growth.run(args.quick, args.ops, not args.no_http, args.purge_runs, args.max_level, args.engine)))
    if "sizing" in args.which:
        print(sizing.table(sizing.run(args.pushes)))


if __name__ == "__main__":
    main()

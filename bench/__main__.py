"""Run the benchmarks: `python -m bench [api|...] [--seconds N] [--runs N]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api, scale, sizing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=["api", "scale", "sizing"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=10_000, help="for sizing")
    args = parser.parse_args()
    if "api" in args.which:
        print(api.table(api.run(args.seconds, args.runs)))
    if "scale" in args.which:
        print(scale.table(scale.run(args.seconds, args.runs)))
    if "sizing" in args.which:
        print(sizing.table(sizing.run(args.pushes)))


if __name__ == "__main__":
    main()

"""Run the benchmarks: `python -m bench [api|...] [--seconds N] [--runs N]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=["api"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if "api" in args.which:
        print(api.table(api.run(args.seconds, args.runs)))


if __name__ == "__main__":
    main()

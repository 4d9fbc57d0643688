"""Run the benchmarks: `python -m bench [api|...] [--seconds N] [--runs N]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api, browser, memory, scale, sizing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=["api", "scale", "sizing", "browser", "memory"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="for api, scale, memory (servers started per run)")
    parser.add_argument("--pushes", type=int, default=10_000, help="for sizing")
    parser.add_argument("--reveals", type=int, default=50, help="for browser: timed reveals per server")
    parser.add_argument("--loads", type=int, default=10, help="for browser: cold page loads per server")
    parser.add_argument("--sessions", type=int, default=100, help="for memory: browser sessions held open")
    parser.add_argument("--page", choices=["reveal", "create"], default="reveal", help="for memory: the sessions' page")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run for browser and memory: 5 reveals, 3 loads, 1 run of 20 sessions")
    args = parser.parse_args()
    if args.quick:
        args.reveals, args.loads, args.runs, args.sessions = 5, 3, 1, 20
    if "api" in args.which:
        print(api.table(api.run(args.seconds, args.runs)))
    if "scale" in args.which:
        print(scale.table(scale.run(args.seconds, args.runs)))
    if "sizing" in args.which:
        print(sizing.table(sizing.run(args.pushes)))
    if "browser" in args.which:
        print(browser.table(browser.run(args.reveals, args.loads)))
    if "memory" in args.which:
        print(memory.table(memory.run(args.runs, args.sessions, args.page)))


if __name__ == "__main__":
    main()

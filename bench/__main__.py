"""Run the benchmarks: `python -m bench [api|browser|files|...] [--quick]` (see bench/README.md)."""

from __future__ import annotations

import argparse

from bench import api, browser, files, growth, memory, scale, sizing, startup

BENCHMARKS = ["api", "browser", "files", "memory", "startup", "growth", "scale", "sizing"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["api"], choices=[*BENCHMARKS, "all"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="for api, scale, files, startup, memory")
    parser.add_argument("--pushes", type=int, default=10_000, help="for sizing")
    parser.add_argument("--setups", default=",".join(api.DEFAULT_SETUPS),
                        help=f"for api: our server setups, of {', '.join(api.SETUPS)}")
    parser.add_argument("--before", default=None,
                        help="for api: also run the server of another checkout (e.g. main), same run")
    parser.add_argument("--starts", type=int, default=10, help="for startup: timed starts, before and after")
    parser.add_argument("--restart-runs", type=int, default=3, help="for startup: runs of each restart under traffic")
    parser.add_argument("--fresh-runs", type=int, default=2, help="for startup: runs from a fresh clone")
    parser.add_argument("--reveals", type=int, default=50, help="for browser: timed reveals per server")
    parser.add_argument("--loads", type=int, default=10, help="for browser: cold page loads per server")
    parser.add_argument("--sessions", type=int, default=100, help="for memory: browser sessions held open")
    parser.add_argument("--page", choices=["reveal", "create"], default="reveal", help="for memory: the sessions' page")
    parser.add_argument("--ops", type=int, default=500, help="growth: creates and reveals timed per level")
    parser.add_argument("--no-http", action="store_true", help="growth: in-process only (no server)")
    parser.add_argument("--purge-runs", type=int, default=1, help="growth: purge rounds per purge level")
    parser.add_argument("--max-level", type=int, default=None, help="growth: stop after this many stored pushes")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite", help="growth: the database")
    parser.add_argument("--quick", action="store_true",
                        help="smoke runs: browser 5 reveals and 3 loads; memory 1 run of 20 sessions; "
                             "files 10 MiB only, 3 runs; startup 3 starts before and after, 1 run of each restart, no fresh clone; "
                             "growth levels 1k and 10k, purge of 10k")
    args = parser.parse_args()
    which = BENCHMARKS if "all" in args.which else args.which
    if "api" in which:
        print(api.table(api.run(args.seconds, args.runs, tuple(args.setups.split(",")), args.before)))
    if "browser" in which:
        reveals, loads = (5, 3) if args.quick else (args.reveals, args.loads)
        print(browser.table(browser.run(reveals, loads)))
    if "files" in which:
        print(files.table(files.run(runs=3, sizes=(10,)) if args.quick else files.run(args.runs)))
    if "memory" in which:
        runs, sessions = (1, 20) if args.quick else (args.runs, args.sessions)
        print(memory.table(memory.run(runs, sessions, args.page)))
    if "startup" in which:
        print(startup.table(startup.run(runs=3, fresh_runs=0, restart_runs=1) if args.quick
                            else startup.run(args.starts, args.fresh_runs, args.restart_runs)))
    if "growth" in which:
        print(growth.table(growth.run(args.quick, args.ops, not args.no_http, args.purge_runs, args.max_level, args.engine)))
    if "scale" in which:
        print(scale.table(scale.run(args.seconds, args.runs)))
    if "sizing" in which:
        print(sizing.table(sizing.run(args.pushes)))


if __name__ == "__main__":
    main()

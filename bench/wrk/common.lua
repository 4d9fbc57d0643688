-- Shared by the cycle scripts: per-thread counters and a JSON summary at the end.
-- Run with one connection per thread (-t N -c N): each connection alternates
-- create -> retrieve, so a "cycle" is two requests on one keep-alive connection.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cycles, failures, pending = 0, 0, nil
  script_args = args  -- what follows `--` on wrk's command line
end

function done(summary, latency, requests)
  local c, f = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("cycles")
    f = f + t:get("failures")
  end
  io.write(string.format(
    'RESULT {"cycles": %d, "failures": %d, "requests": %d, "duration_s": %.3f, ' ..
    '"socket_errors": %d, "non_2xx": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    c, f, summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end

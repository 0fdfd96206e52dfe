-- wrk script of bench/serve: POSTs one translate request after another, cycling through the
-- JSON bodies of a file (one per line; its path is the argument after --), counts non-200
-- answers, and prints one JSON line of results when done.
--   wrk -t1 -c8 -d10s -s bench/serve/translate.lua http://127.0.0.1:8080/v1/models/course/translate -- bodies.txt
local bodies = {}
local next_body = 1
non_200 = 0  -- a global: done() reads each thread's count with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    table.insert(bodies, line)
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non_200")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_200": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end

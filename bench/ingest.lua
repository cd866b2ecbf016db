-- wrk script for bench/ingest_bench.py: every request posts a new deal (a unique external_id per
-- thread and request) for a random rep; one in ten is split 60/40 with the next rep.
-- Arguments after "--": the API token, the number of reps, the seed.
local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  token, reps, seed = args[1], tonumber(args[2]), tonumber(args[3])
  math.randomseed(seed * 1000 + number)
  counter = 0
end

function request()
  counter = counter + 1
  local owner = math.random(0, reps - 1)
  local splits = ""
  if math.random() < 0.1 then
    splits = string.format(',"splits":[{"person":"rep%d@bench.test","share":"60"},{"person":"rep%d@bench.test","share":"40"}]',
                           owner, (owner + 1) % reps)
  end
  local body = string.format(
    '{"external_id":"L-%d-%d","name":"Load %d-%d","owner":"rep%d@bench.test","amount":"%d","currency":"USD",' ..
    '"closed_at":"2026-0%d-%02d","type":"new","product":"Pro","term_months":24%s}',
    number, counter, number, counter, owner, math.random(5000, 89999), math.random(1, 3), math.random(1, 27), splits)
  return wrk.format("POST", "/api/v1/deals",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50=%.1f p95=%.1f p99=%.1f max=%.1f " ..
                         "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end

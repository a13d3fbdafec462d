-- Replays pre-built HTTP requests from the file named by REPLAY_FILE, one request per line:
--   method TAB path TAB headers TAB body, headers as name US value pairs joined by RS
-- (US = \31, RS = \30). Thread i of n takes lines i, i+n, ...; with REPLAY_ONCE=1 each line
-- is sent at most once (webhooks must be unique) and running out is counted, not hidden.
-- done() prints one JSON line that bench/wrk.py parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function split(text, sep)
  local parts, start = {}, 1
  while true do
    local i = string.find(text, sep, start, true)
    if not i then
      table.insert(parts, string.sub(text, start))
      return parts
    end
    table.insert(parts, string.sub(text, start, i - 1))
    start = i + 1
  end
end

function init(args)
  local n = tonumber(os.getenv("REPLAY_THREADS")) or 1
  local mine = index
  once = os.getenv("REPLAY_ONCE") == "1"
  requests = {}
  local k = 0
  for line in io.lines(os.getenv("REPLAY_FILE")) do
    if k % n == mine then
      local f = split(line, "\t")
      local headers = {}
      if f[3] ~= "" then
        for _, pair in ipairs(split(f[3], "\30")) do
          local nv = split(pair, "\31")
          headers[nv[1]] = nv[2]
        end
      end
      table.insert(requests, wrk.format(f[1], f[2], headers, f[4]))
    end
    k = k + 1
  end
  position = 0
  overrun = 0
  statuses = {}
end

function request()
  position = position + 1
  if position > #requests then
    if once then
      overrun = overrun + 1
      position = #requests
    else
      position = 1
    end
  end
  return requests[position]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests_stats)
  local overruns, codes = 0, {}
  for _, thread in ipairs(threads) do
    overruns = overruns + (thread:get("overrun") or 0)
    local s = thread:get("statuses") or {}
    for code, count in pairs(s) do
      codes[code] = (codes[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(codes) do
    table.insert(parts, string.format('"%s":%d', code, count))
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"overrun":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, overruns, table.concat(parts, ",")))
end

-- wrk script: POST /v1/ai/jobs (echo) with keys rotated from $KEYS_FILE and a
-- fresh job_id per request, so every request creates and charges one job.
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local counter = 0
local prefix = tostring(math.random(1e9))
local i = math.random(#keys)
request = function()
  i = i % #keys + 1
  counter = counter + 1
  local body = '{"job_id":"' .. prefix .. "-" .. counter .. '","task":"echo","payload":{"n":' .. counter .. '}}'
  return wrk.format("POST", "/v1/ai/jobs",
    { ["Authorization"] = "Api-Key " .. keys[i], ["Content-Type"] = "application/json" }, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

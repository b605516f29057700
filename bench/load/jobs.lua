-- wrk script: POST an echo job to $JOBS_PATH (default /v1/ai/jobs; the queue
-- bench sets /v1/queue/jobs) with keys rotated from $KEYS_FILE and a fresh
-- job_id per request, so every request creates (and charges, or queues) one job.
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local path = os.getenv("JOBS_PATH") or "/v1/ai/jobs"
local counter = 0
local prefix = tostring(math.random(1e9))
local i = math.random(#keys)
request = function()
  i = i % #keys + 1
  counter = counter + 1
  local body = '{"job_id":"j' .. prefix .. "-" .. counter .. '","task":"echo","payload":{"n":' .. counter .. '}}'
  return wrk.format("POST", path,
    { ["Authorization"] = "Api-Key " .. keys[i], ["Content-Type"] = "application/json" }, body)
end
done = dofile("bench/load/report.lua")

-- wrk script: POST an echo job to $JOBS_PATH (default /v1/ai/jobs; the queue
-- bench sets /v1/queue/jobs) with keys rotated from $KEYS_FILE and a fresh
-- job_id per request, so every request creates (and charges, or queues) one job.
-- The job_id prefix comes from /dev/urandom: wrk's math.random is not seeded,
-- so a prefix drawn from it repeats in every run, and a second run would be
-- answered from the first run's jobs (idempotent replays, not new jobs).
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local path = os.getenv("JOBS_PATH") or "/v1/ai/jobs"
local counter = 0
local random = io.open("/dev/urandom", "rb")
local bytes = random:read(8)
random:close()
local prefix = bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)
local i = bytes:byte(1) * 256 + bytes:byte(2)
i = i % #keys + 1
request = function()
  i = i % #keys + 1
  counter = counter + 1
  local body = '{"job_id":"j' .. prefix .. "-" .. counter .. '","task":"echo","payload":{"n":' .. counter .. '}}'
  return wrk.format("POST", path,
    { ["Authorization"] = "Api-Key " .. keys[i], ["Content-Type"] = "application/json" }, body)
end
done = dofile("bench/load/report.lua")

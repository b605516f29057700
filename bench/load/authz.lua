-- wrk script: GET /v1/authz with keys rotated from $KEYS_FILE (one per line),
-- from a random one on, or from the first with KEYS_IN_ORDER set.
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local i = os.getenv("KEYS_IN_ORDER") and 0 or math.random(#keys)
request = function()
  i = i % #keys + 1
  return wrk.format("GET", "/v1/authz", { ["Authorization"] = "Api-Key " .. keys[i] })
end
done = dofile("bench/load/report.lua")

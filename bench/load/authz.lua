-- wrk script: GET /v1/authz with keys rotated from $KEYS_FILE (one per line).
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local i = math.random(#keys)
request = function()
  i = i % #keys + 1
  return wrk.format("GET", "/v1/authz", { ["Authorization"] = "Api-Key " .. keys[i] })
end
done = dofile("bench/load/report.lua")

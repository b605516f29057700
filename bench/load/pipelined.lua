-- wrk script: GET /v1/authz pipelined, DEPTH (default 8) requests per write, keys from
-- $KEYS_FILE; 64 ready-made batches in turn. The client does little per request, so
-- the server side sets the pace (the case where a second I/O thread pays, docs/performance.md).
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local depth = tonumber(os.getenv("DEPTH") or "8")
local batches = {}
for b = 1, 64 do
  local parts = {}
  for d = 1, depth do
    local k = keys[math.random(#keys)]
    parts[#parts + 1] = wrk.format("GET", "/v1/authz", { ["Authorization"] = "Api-Key " .. k })
  end
  batches[b] = table.concat(parts)
end
local n = 0
request = function() n = n % #batches + 1; return batches[n] end
done = dofile("bench/load/report.lua")

-- wrk script: GET /v1/authz with pre-signed requests from $SIGNED_FILE
-- (signed_requests.py), starting at line $SIGNED_FROM, as nginx would ask:
-- the original method and URI forwarded in X-Keyward-Original-*.
local reqs = {}
local from = tonumber(os.getenv("SIGNED_FROM") or "1")
local n = 0
for line in io.lines(os.getenv("SIGNED_FILE")) do
  n = n + 1
  if n >= from then
    local input, sig = line:match("^(.-)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("GET", "/v1/authz", {
      ["Signature-Input"] = input, ["Signature"] = sig,
      ["X-Keyward-Original-Method"] = "GET",
      ["X-Keyward-Original-Uri"] = "https://api.example.com/v1/orders" })
  end
end
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = dofile("bench/load/report.lua")

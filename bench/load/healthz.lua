-- wrk script: GET /healthz, no key work at all (the HTTP layer's own cost).
request = function()
  return wrk.format("GET", "/healthz")
end
done = dofile("bench/load/report.lua")

-- wrk script for the nginx ceiling: same header shape as authz.lua.
request = function()
  return wrk.format("GET", "/v1/authz", { ["Authorization"] = "Api-Key kw_live_000000000000000000000000000000000000" })
end
done = dofile("bench/load/report.lua")

-- wrk script for the nginx ceiling: same header shape as authz.lua.
request = function()
  return wrk.format("GET", "/v1/authz", { ["Authorization"] = "Api-Key kw_live_000000000000000000000000000000000000" })
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

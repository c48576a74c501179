-- wrk script: POST /updates with the same request mix as resolve.pgbench.
-- Set APPS and DEVICES_PER_APP in the environment to match the dataset.
local apps = tonumber(os.getenv("APPS") or "1000")
local per_app = tonumber(os.getenv("DEVICES_PER_APP") or "1000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local app = math.random(1, apps)
  local dev = math.random(0, per_app - 1) * apps + app - 1
  local platform = (dev % 2 == 0) and "ios" or "android"
  local name = (math.random(0, 1) == 1) and "1.0.99" or "builtin"
  local channel = (math.random(1, 5) == 1) and "beta" or ""
  local body = string.format('{"app_id":"com.bench.app%d","device_id":"00000000-0000-4000-8000-%012x",'
    .. '"platform":"%s","version_build":"1.0.0","version_name":"%s","plugin_version":"8.51.14",'
    .. '"is_emulator":false,"is_prod":true,"defaultChannel":"%s","version_os":"14","custom_id":""}',
    app, dev, platform, name, channel)
  return wrk.format(nil, "/updates", nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms; non-2xx: %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status))
end

-- wrk script: POST /stats, each request one device's batch of 50 events, as the plugin sends them.
-- Set APPS in the environment to match the dataset.
local apps = tonumber(os.getenv("APPS") or "1000")
local per_batch = 50
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local actions = { "app_moved_to_foreground", "app_moved_to_background", "app_launch_start",
  "app_launch_ready", "webview_page_loaded", "download_complete", "set", "download_50" }

local counter = 0
request = function()
  counter = counter + 1
  local app = math.random(1, apps)
  local device = string.format("%08x-0000-4000-8000-%012x", math.random(0, 0x7fffffff), counter)
  local events = {}
  for i = 1, per_batch do
    local action = actions[math.random(1, #actions)]
    local metadata = ""
    if action == "app_launch_ready" then
      metadata = string.format(',"metadata":{"duration_ms":"%d","source":"cold"}', math.random(200, 3000))
    end
    events[i] = string.format('{"app_id":"com.bench.app%d","device_id":"%s","platform":"android",'
      .. '"version_build":"1.0.0","version_code":"10","version_os":"14","version_name":"1.0.99",'
      .. '"old_version_name":"1.0.98","plugin_version":"8.51.14","is_emulator":false,"is_prod":true,'
      .. '"action":"%s","timestamp":1764200000000,"custom_id":"","defaultChannel":""%s}',
      app, device, action, metadata)
  end
  return wrk.format(nil, "/stats", nil, "[" .. table.concat(events, ",") .. "]")
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d, socket errors %d; p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

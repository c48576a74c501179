-- wrk script: /channel_self as devices call it. METHOD=GET lists channels (query string),
-- METHOD=PUT asks for the device's channel (JSON body). Set APPS to match the dataset.
local apps = tonumber(os.getenv("APPS") or "1000")
local method = os.getenv("METHOD") or "GET"
wrk.headers["Content-Type"] = "application/json"

local counter = 0
request = function()
  counter = counter + 1
  local app = math.random(1, apps)
  local device = string.format("%08x-0000-4000-8000-%012x", math.random(0, 0x7fffffff), counter)
  if method == "GET" then
    local path = string.format("/channel_self?app_id=com.bench.app%d&device_id=%s&platform=ios"
      .. "&is_emulator=false&is_prod=true&plugin_version=8.51.14&version_build=1.0.0&version_name=builtin", app, device)
    return wrk.format("GET", path)
  end
  local body = string.format('{"app_id":"com.bench.app%d","device_id":"%s","platform":"ios",'
    .. '"version_build":"1.0.0","version_name":"builtin","plugin_version":"8.51.14",'
    .. '"is_emulator":false,"is_prod":true,"defaultChannel":""}', app, device)
  return wrk.format("PUT", "/channel_self", nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d; p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

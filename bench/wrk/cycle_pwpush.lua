-- Create a 100-byte secret through our v2 API, then retrieve it (1 view): one cycle.
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

local body = '{"push": {"payload": "' .. string.rep("s", 100) .. '", "expire_after_views": 1}}'
local headers = {["Content-Type"] = "application/json"}

function request()
  if pending then
    local path = "/api/v2/pushes/" .. pending
    pending = "sent"
    return wrk.format("GET", path)
  end
  return wrk.format("POST", "/api/v2/pushes", headers, body)
end

function response(status, hdrs, resp)
  if pending == "sent" then
    pending = nil
    if status == 200 and resp:find(string.rep("s", 100), 1, true) then
      cycles = cycles + 1
    else
      failures = failures + 1
    end
    return
  end
  local token = resp:match('"url_token"%s*:%s*"([^"]+)"')
  if status == 201 and token then
    pending = token
  else
    failures = failures + 1
  end
end

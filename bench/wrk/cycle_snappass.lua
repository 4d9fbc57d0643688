-- The same job on SnapPass: POST / (form, JSON answer), then POST /<token> to reveal.
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

local body = "ttl=hour&password=" .. string.rep("s", 100)
local create_headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json"}

function request()
  if pending then
    local path = pending
    pending = "sent"
    return wrk.format("POST", path)
  end
  return wrk.format("POST", "/", create_headers, body)
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
  local path = resp:match('"link"%s*:%s*"https?://[^/]+(/[^"]+)"')
  if status == 200 and path then
    pending = path
  else
    failures = failures + 1
  end
end

-- A ceiling: a trivial endpoint on our own server, two requests per "cycle".
-- The path is the script's argument (wrk ... -s ceiling.lua URL -- /api/v2/version); /ping by default.
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

function request()
  return wrk.format("GET", script_args[1] or "/ping")
end

function response(status, hdrs, resp)
  if status == 200 then
    if pending then cycles = cycles + 1; pending = nil else pending = true end
  else
    failures = failures + 1
  end
end

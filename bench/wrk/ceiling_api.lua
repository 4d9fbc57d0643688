-- The API framework's ceiling: our trivial JSON endpoint (FastAPI routing, middleware, one thread hop), two requests per "cycle".
package.path = package.path .. ";" .. debug.getinfo(1).source:match("@?(.*/)") .. "?.lua"
require "common"

function request()
  return wrk.format("GET", "/api/v2/version")
end

function response(status, hdrs, resp)
  if status == 200 then
    if pending then cycles = cycles + 1; pending = nil else pending = true end
  else
    failures = failures + 1
  end
end

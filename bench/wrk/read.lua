-- GET a page of 50 check-ins as one of many partners, round robin (paths and tokens from env).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local next_target = dofile(here .. "targets.lua")("^(%S+)%s+(%S*)$", "path", "token")

request = function()
  local t = next_target()
  local headers = {}
  if t.token ~= "" and t.token ~= "-" then headers["Authorization"] = "Bearer " .. t.token end
  return wrk.format("GET", t.path, headers)
end

-- PUT a check-in as one of many partners, round robin (path, token and body from env file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local next_target = dofile(here .. "targets.lua")("^(%S+)%s+(%S+)%s+(.+)$", "path", "token", "body")

request = function()
  local t = next_target()
  local headers = {["Authorization"] = "Bearer " .. t.token, ["Content-Type"] = "application/json"}
  return wrk.format("PUT", t.path, headers, t.body)
end

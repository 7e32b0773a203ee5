-- PUT a check-in as one of many partners, round robin (path, token and body from env file).
local targets = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local path, token, body = line:match("^(%S+)%s+(%S+)%s+(.+)$")
  table.insert(targets, {path = path, token = token, body = body})
end
local counter = 0

request = function()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  local headers = {["Authorization"] = "Bearer " .. t.token, ["Content-Type"] = "application/json"}
  return wrk.format("PUT", t.path, headers, t.body)
end

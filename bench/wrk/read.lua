-- GET a page of 50 check-ins as one of many partners, round robin (paths and tokens from env).
local targets = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local path, token = line:match("^(%S+)%s+(%S*)$")
  table.insert(targets, {path = path, token = token})
end
local counter = 0

request = function()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  local headers = {}
  if t.token ~= "" and t.token ~= "-" then headers["Authorization"] = "Bearer " .. t.token end
  return wrk.format("GET", t.path, headers)
end

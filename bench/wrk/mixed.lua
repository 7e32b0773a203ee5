-- 100 simulated mobile users: mostly reading their check-ins, sometimes checking in.
-- Each line of BENCH_TARGETS: "<couple_id> <access_token> <date>".
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local next_user = dofile(here .. "targets.lua")("^(%S+)%s+(%S+)%s+(%S+)$", "couple", "token", "day")

request = function()
  local u, counter = next_user()
  local headers = {["Authorization"] = "Bearer " .. u.token}
  if counter % 10 < 3 then
    headers["Content-Type"] = "application/json"
    local body = string.format(
      '{"couple":"%s","visibility":"therapist","mood":%d,"effort":4,"note":"load test"}',
      u.couple, (counter % 5) + 1)
    return wrk.format("PUT", "/api/v1/checkins/" .. u.day .. "/", headers, body)
  end
  return wrk.format("GET", "/api/v1/checkins/?couple=" .. u.couple .. "&page_size=20", headers)
end

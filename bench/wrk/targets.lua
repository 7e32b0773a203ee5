-- The targets of a wrk script, shared by read.lua, write.lua and mixed.lua: each line of the
-- file BENCH_TARGETS names, matched by `pattern` into the fields named after it. Returns a
-- function giving them in turn (round robin), with how many requests it has given so far.
return function(pattern, ...)
  local names = {...}
  local targets = {}
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local values = {line:match(pattern)}
    local target = {}
    for i, name in ipairs(names) do target[name] = values[i] end
    table.insert(targets, target)
  end
  local counter = 0
  return function()
    counter = counter + 1
    return targets[(counter % #targets) + 1], counter
  end
end

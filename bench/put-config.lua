-- A write per request: upsert one system setting (and its audit row) with the bench admin's token.
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{"value": %d}', n))
end

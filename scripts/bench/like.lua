-- wrk: POST /api/tweets/{id}/likes on a tweet picked at random from
-- $TWEETS consecutive ids starting at $FIRST (one hot tweet when TWEETS=1).
local first = tonumber(os.getenv("FIRST") or "1")
local count = tonumber(os.getenv("TWEETS") or "1")
wrk.method = "POST"
request = function()
  local id = first + math.random(0, count - 1)
  return wrk.format(nil, "/api/tweets/" .. id .. "/likes")
end

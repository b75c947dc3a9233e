-- wrk: POST /api/tweets as the account whose token is in $TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"text":"benchmarking chirp #bench"}'

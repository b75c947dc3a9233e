"""Seeds a running chirp with an account and N tweets over keep-alive HTTP.

Prints the token and the first tweet id, space-separated.
usage: seed.py HOST:PORT N
"""
import http.client
import json
import sys

host, n = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host)


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status >= 300:
        sys.exit(f"{method} {path}: {resp.status} {data!r}")
    return json.loads(data) if data else None


creds = {"username": "bench", "password": "benchmark pass"}
conn.request("POST", "/api/accounts", json.dumps(creds), {"Content-Type": "application/json"})
conn.getresponse().read()  # 201, or 409 when seeded before
token = call("POST", "/api/sessions", creds)["token"]
first = None
for i in range(n):
    tweet = call("POST", "/api/tweets", {"text": f"seed tweet {i} #seed"}, token)
    first = first or tweet["id"]
print(token, first)

#!/usr/bin/env python3
"""Like storm for deploy/compose/check: CLIENTS threads each send EACH
anonymous POST /api/tweets/ID/likes to BASE, one at a time. Writes the
number of 202 answers so far to PROGRESS (if given) as it goes, and at the
end prints `acked=N other=M` (M: any other answer or a failed request)."""
import sys
import threading
import urllib.error
import urllib.request

base, tweet, clients, each = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
progress = sys.argv[5] if len(sys.argv) > 5 else None
lock = threading.Lock()
acked = other = 0


def worker():
    global acked, other
    for _ in range(each):
        req = urllib.request.Request(f"{base}/api/tweets/{tweet}/likes", data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                ok = resp.status == 202
        except (urllib.error.URLError, OSError):
            ok = False
        with lock:
            if ok:
                acked += 1
            else:
                other += 1
            if progress and acked % 20 == 0:
                with open(progress, "w") as f:
                    f.write(str(acked))


threads = [threading.Thread(target=worker) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"acked={acked} other={other}")

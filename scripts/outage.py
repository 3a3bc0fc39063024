#!/usr/bin/env python3
"""Call-off load through a database outage. Clients call off 5 credits at a time with a fresh
Idempotency-Key each and log every acknowledged answer; the caller stops and restarts PostgreSQL
meanwhile (see scripts/pg-outage). Then: every acknowledged call-off exists exactly once, answers
during the outage were 503 problem documents, and the server served again by itself afterwards.

A 503 leaves the outcome open: a COMMIT the database made just before it stopped may never have
been answered. So every key answered 503 is sent again with the same body once the server
serves again, as a client should; its answer (the kept 201, or a new decision) settles it. Only
then must the ledger hold exactly one call-off per acknowledged key.
"""
import argparse, http.client, json, sys, threading, time, uuid
from urllib.parse import urlparse

def request(base, token, method, path, body=None, key=None):
    url = urlparse(base)
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if key: headers["Idempotency-Key"] = key
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    except OSError as error:
        return 0, "", str(error)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--customer", required=True)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    call_off = {"customer": args.customer, "program": "PSC", "purchaseOrder": "PO-OUT", "sowReference": "SOW-OUT",
                "sowSignedOn": "2026-11-01", "plannedEndOn": "2026-12-31",
                "custom": {"title": "Outage", "kind": "design", "pricing": "fixed-scope", "deliverables": ["D"], "credits": 5}}
    lock = threading.Lock()
    acknowledged, statuses, bad, in_doubt = {}, {}, [], []
    deadline = time.time() + args.seconds

    def client():
        while time.time() < deadline:
            key = str(uuid.uuid4())
            status, content_type, body = request(args.server, args.token, "POST", "/v1/call-offs", call_off, key)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    acknowledged[key] = (json.loads(body)["id"], time.time())
                elif status == 503:
                    if not content_type.startswith("application/problem+json"): bad.append(f"503 as {content_type}")
                    in_doubt.append(key)
                elif status >= 500 or status == 0:
                    bad.append(f"{status} {body[:160]}")
            time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()

    failures = list(bad[:5])
    last_ok = max((t for _, t in acknowledged.values()), default=0)
    settled = settle(args, call_off, in_doubt, acknowledged, failures)
    ids = [engagement for engagement, _ in acknowledged.values()]
    if len(set(ids)) != len(ids): failures.append("two acknowledged keys share an engagement")
    for key, (engagement, _) in acknowledged.items():
        status, _, body = request(args.server, args.token, "GET", f"/v1/engagements/{engagement}")
        if status != 200: failures.append(f"acknowledged engagement {engagement} is missing: {status}")
    # Every page of the customer's ledger: a run that spends all its credits has more entries than one page.
    call_offs, after = [], None
    while True:
        status, _, body = request(args.server, args.token, "GET",
                                  f"/v1/ledger?customer={args.customer}&limit=1000" + (f"&after={after}" if after is not None else ""))
        if status != 200:
            failures.append(f"reading the ledger failed: {status}")
            break
        page = json.loads(body)
        call_offs += [e for e in page["entries"] if e["kind"] == "call-off"]
        after = page.get("nextAfter")
        if after is None: break
    if len(call_offs) != len(acknowledged): failures.append(f"{len(call_offs)} call-off entries for {len(acknowledged)} acknowledged")
    if statuses.get(503, 0) == 0: failures.append("no 503 seen: the outage was not observed")
    if last_ok < deadline - 4: failures.append("the server did not serve again after the database came back")
    print(f"outage: answers {dict(sorted(statuses.items()))}, 503s sent again: {dict(sorted(settled.items()))}, "
          f"{len(acknowledged)} acknowledged, all found once: {'yes' if not failures else 'no'}")
    for failure in failures: print("outage: FAIL " + failure, file=sys.stderr)
    sys.exit(1 if failures else 0)

def settle(args, call_off, keys, acknowledged, failures):
    """Sends each key answered 503 again, same body, until it gets another answer (up to 30 s in
    all); a 201 joins the acknowledged. Gives the count of each final answer."""
    settled, give_up = {}, time.time() + 30
    for key in keys:
        while True:
            status, _, body = request(args.server, args.token, "POST", "/v1/call-offs", call_off, key)
            if status != 503 or time.time() > give_up: break
            time.sleep(0.5)
        settled[status] = settled.get(status, 0) + 1
        if status == 201: acknowledged[key] = (json.loads(body)["id"], 0)
        elif status not in (422,): failures.append(f"a 503'd key sent again got {status} {body[:160]}")
    return settled

if __name__ == "__main__":
    main()

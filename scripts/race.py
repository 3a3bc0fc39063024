#!/usr/bin/env python3
"""A double-spend race against running `credits serve` processes.

64 clients, spread over the given servers, call off 5 credits at a time from one customer until
they are told `insufficient-credits`. Every call-off carries its own Idempotency-Key and is sent
twice (a retry after a lost answer), so duplicates would show. Afterwards: exactly the credits
that existed are held, every successful key got one engagement, and retries got the same answer.
Loopback only; bounded by the credits available and a deadline.
"""
import argparse, http.client, json, sys, threading, time, uuid
from urllib.parse import urlparse

def post(base, token, path, body, key):
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", path, json.dumps(body), {
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
    response = conn.getresponse()
    payload = response.read().decode()
    conn.close()
    return response.status, payload

def get(base, token, path):
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    payload = response.read().decode()
    conn.close()
    return response.status, json.loads(payload)

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", action="append", required=True, help="base URL; repeat for several")
    parser.add_argument("--token", required=True)
    parser.add_argument("--customer", required=True)
    parser.add_argument("--credits", type=int, required=True, help="credits the customer has")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--deadline", type=float, default=300)
    args = parser.parse_args()

    call_off = {"customer": args.customer, "program": "PSC", "purchaseOrder": "PO-RACE", "sowReference": "SOW-RACE",
                "sowSignedOn": "2026-11-01", "plannedEndOn": "2026-12-31",
                "custom": {"title": "Race", "kind": "design", "pricing": "fixed-scope", "deliverables": ["D"], "credits": 5}}
    lock = threading.Lock()
    accepted, problems = {}, []
    deadline = time.time() + args.deadline

    def client(index):
        base = args.server[index % len(args.server)]
        while time.time() < deadline:
            key = f"race-{index}-{uuid.uuid4()}"
            status, body = post(base, args.token, "/v1/call-offs", call_off, key)
            # The retry goes to another server when there is one: keys are shared through the database.
            retry_base = args.server[(index + 1) % len(args.server)]
            retry_status, retry_body = post(retry_base, args.token, "/v1/call-offs", call_off, key)
            with lock:
                if status == 201:
                    if retry_status != 201 or json.loads(retry_body) != json.loads(body):
                        problems.append(f"retry of {key} answered {retry_status} {retry_body[:120]}")
                    accepted[key] = json.loads(body)["id"]
                elif status == 422 and json.loads(body).get("type") == "insufficient-credits":
                    return
                else:
                    problems.append(f"{key}: {status} {body[:200]}")
                    return

    started = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    elapsed = time.time() - started

    _, balances = get(args.server[0], args.token, f"/v1/customers/{args.customer}/balances")
    _, lots = get(args.server[0], args.token, f"/v1/customers/{args.customer}/lots")
    _, verification = get(args.server[0], args.token, "/v1/verification")
    held = sum(b["creditsHeld"] for b in balances)
    engagements = set(accepted.values())
    print(f"race: {len(args.server)} server(s), {args.clients} clients, {len(accepted)} call-offs accepted "
          f"in {elapsed:.1f}s, {held} of {args.credits} credits held, {len(problems)} problems, "
          f"verify {'clean' if verification['clean'] else 'FAILED: ' + str(verification.get('failure'))}")
    failures = list(problems[:5])
    if held != args.credits: failures.append(f"{held} credits held, {args.credits} existed")
    if len(engagements) != len(accepted) or len(accepted) * 5 != args.credits:
        failures.append(f"{len(accepted)} keys accepted, {len(engagements)} distinct engagements")
    if any(lot["creditsAvailable"] < 0 or lot["creditsHeld"] < 0 for lot in lots): failures.append("a lot went below zero")
    if not verification["clean"]: failures.append("verify failed")
    for failure in failures: print("race: FAIL " + failure, file=sys.stderr)
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Crash test: `kill -9` the server at random moments under call-off load, restart it, retry what
was in flight with the same Idempotency-Keys, then check that nothing acknowledged was lost or
applied twice. Loopback only; bounded by --kills and --deadline.
"""
import argparse, http.client, json, os, random, signal, sqlite3, subprocess, sys, threading, time, uuid

def call(port, token, method, path, body=None, key=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key: headers["Idempotency-Key"] = key
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    payload = response.read().decode()
    conn.close()
    return response.status, payload

class Server:
    def __init__(self, credits, database, port, log):
        self.command = [credits, "serve", "--database", database, "--port", str(port), "--as-of", "2026-11-29"]
        self.port, self.log, self.process = port, log, None

    def start(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health"); conn.getresponse().read(); conn.close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("crash-test: the server did not come up")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--credits-binary", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--customer", required=True)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=600)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    random.seed(args.seed)
    body = {"customer": args.customer, "program": "PSC", "purchaseOrder": "PO-CRASH", "sowReference": "SOW-CRASH",
            "sowSignedOn": "2026-11-01", "plannedEndOn": "2026-12-31",
            "custom": {"title": "Crash", "kind": "design", "pricing": "fixed-scope", "deliverables": ["D"], "credits": 5}}
    log = open(os.path.join(os.path.dirname(args.database), "serve.log"), "ab")
    server = Server(args.credits_binary, args.database, args.port, log)
    server.start()

    lock = threading.Lock()
    acknowledged, in_flight, refused = {}, set(), []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            key = str(uuid.uuid4())
            with lock: in_flight.add(key)
            try:
                status, payload = call(args.port, args.token, "POST", "/v1/call-offs", body, key)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue  # the server died (perhaps mid-answer): the key stays in flight, retried after the kills
            with lock:
                in_flight.discard(key)
                if status == 201: acknowledged[key] = json.loads(payload)["id"]
                else: refused.append((status, payload[:160]))

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads: thread.start()
    started = time.time()
    for kill in range(args.kills):
        if time.time() - started > args.deadline: break
        time.sleep(random.uniform(0.2, 1.2))
        server.kill()
        server.start()
    stop.set()
    for thread in threads: thread.join()

    # Retry everything that was sent without an answer, with its own key: a write that committed
    # before the kill is answered from the idempotency record, one that didn't is made now.
    retried = {}
    for key in sorted(in_flight):
        status, payload = call(args.port, args.token, "POST", "/v1/call-offs", body, key)
        if status == 201: retried[key] = json.loads(payload)["id"]
        else: refused.append((status, payload[:160]))
    failures = [f"refused: {status} {text}" for status, text in refused[:5]]
    accepted = {**acknowledged, **retried}
    for key, engagement in acknowledged.items():
        status, payload = call(args.port, args.token, "POST", "/v1/call-offs", body, key)
        if status != 201 or json.loads(payload)["id"] != engagement:
            failures.append(f"acknowledged key {key} now answers {status}")
    ids = list(accepted.values())
    if len(set(ids)) != len(ids): failures.append("two keys share an engagement")
    status, payload = call(args.port, args.token, "GET", f"/v1/customers/{args.customer}/balances")
    held = sum(b["creditsHeld"] for b in json.loads(payload))
    if held != 5 * len(ids): failures.append(f"{held} credits held for {len(ids)} call-offs of 5")
    status, payload = call(args.port, args.token, "GET", "/v1/verification")
    report = json.loads(payload)
    if not report["clean"]: failures.append(f"verify: {report.get('failure')}")
    server.kill()
    integrity = sqlite3.connect(args.database).execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok": failures.append(f"integrity_check: {integrity}")
    entries = sqlite3.connect(args.database).execute("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'call-off'").fetchone()[0]
    if entries != len(ids): failures.append(f"{entries} call-off entries for {len(ids)} accepted call-offs")
    print(f"crash-test: {args.kills} kills, {len(acknowledged)} acknowledged, {len(in_flight)} in flight at a kill "
          f"({len(retried)} had committed or were made on retry), lost 0 of {len(acknowledged)}: "
          f"{'yes' if not any('acknowledged' in f for f in failures) else 'NO'}, duplicated: {len(ids) - len(set(ids))}, "
          f"verify {'clean' if report['clean'] else 'FAILED'}, integrity_check {integrity}")
    for failure in failures: print("crash-test: FAIL " + failure, file=sys.stderr)
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""HTTP benchmark of `credits serve` against the physical limit of the same disk.

Anchor (a): the raw SQLite transaction a call-off needs at least — a guarded UPDATE of a lot and
an INSERT of a ledger row, WAL, synchronous=FULL, one commit each — done directly, one writer.
Then, on a desk of N customers and M ledger entries (generated directly, with a valid hash chain):
(b) call-offs per second over HTTP at 1 and 16 clients with p50/p99, (c) balance reads at 16
clients with p50/p99, (d) issuing all statements of one quarter, time and peak RSS.
Every figure line names measure, engine and clients and ends with its ratio to (a).
"""
import argparse, hashlib, http.client, json, os, random, resource, sqlite3, statistics, subprocess, sys, tempfile, threading, time, uuid

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0

def raw_sqlite_rate(path, seconds):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE lots (id INTEGER PRIMARY KEY, available INTEGER NOT NULL CHECK (available >= 0), held INTEGER NOT NULL)")
    db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, lot INTEGER NOT NULL, delta INTEGER NOT NULL, note TEXT NOT NULL)")
    db.execute("INSERT INTO lots VALUES (1, 1000000000, 0)")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE lots SET available = available - 5, held = held + 5 WHERE id = 1 AND available >= 5")
        db.execute("INSERT INTO entries (lot, delta, note) VALUES (1, -5, 'call-off')")
        db.execute("COMMIT")
        count += 1
    return count / (time.perf_counter() - started)

def chain_hash(seq, kind, lot, customer, program, available, held, effective, recorded, actor, reason, document, prev):
    fields = [str(seq), kind, str(lot), customer, program, str(available), str(held), effective, recorded, actor, reason, document, prev]
    canonical = "|".join(f"{len(f.encode())}:{f}" for f in fields)
    return hashlib.sha256(canonical.encode()).hexdigest()

def load_history(path, customers, entries):
    """Customers, one lot each per purchase, and call-off/delivery pairs up to `entries` rows."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    db.execute("INSERT INTO entities VALUES ('B', 'Bench entity', 'EUR', 2)")
    db.execute("INSERT INTO list_prices VALUES ('B', 'PSC', '2020-01-01', 100000)")
    db.executemany("INSERT INTO customers VALUES (?, ?, 'B')", [(f"c{i:05d}", f"Customer {i}") for i in range(customers)])
    per_customer = max(3, entries // customers)
    seq, prev, lot_id, rows, lots = 0, "0" * 64, 0, [], []
    recorded = "2026-11-01T00:00:00.000Z"
    for i in range(customers):
        customer = f"c{i:05d}"
        lot_id += 1
        calls = (per_customer - 1) // 2
        granted = 5 * calls + 1000
        lots.append((lot_id, customer, "PSC", "order", "2026-06-01", "2027-06-01", granted, granted - 5 * calls, 0))
        history = [("purchase", granted, 0, "2026-06-01", f"order/{lot_id}")]
        for call in range(calls):
            day = f"2026-{7 + call % 5:02d}-{1 + call % 28:02d}"
            history += [("call-off", -5, 5, day, f"engagement/{i}-{call}"), ("delivery", 0, -5, day, f"engagement/{i}-{call}")]
        for kind, available, held, day, document in history:
            seq += 1
            digest = chain_hash(seq, kind, lot_id, customer, "PSC", available, held, day, recorded, "bench", "generated", document, prev)
            rows.append((seq, kind, lot_id, customer, "PSC", available, held, day, recorded, "bench", "generated", document, prev, digest))
            prev = digest
    db.executemany("INSERT INTO lots VALUES (?,?,?,?,?,?,?,?,?)", lots)
    db.executemany("INSERT INTO ledger_entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
    db.execute("UPDATE id_counters SET next_value = ? WHERE name = 'lot'", (lot_id + 1,))
    db.execute("COMMIT")
    return seq

def timed_requests(port, token, clients, seconds, make_request):
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.perf_counter() + seconds
    def worker(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < deadline:
            method, path, body = make_request(index, n)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            started = time.perf_counter()
            conn.request(method, path, json.dumps(body) if body else None, headers)
            response = conn.getresponse(); response.read()
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if response.status < 300 else errors).append(elapsed if response.status < 300 else response.status)
            n += 1
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--credits-binary", required=True)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="credits-bench-")
    figures = []

    anchor = raw_sqlite_rate(os.path.join(work, "raw.sqlite"), args.seconds)
    def figure(measure, engine, clients, value, unit, extra=""):
        line = f"{measure} engine={engine} clients={clients}: {value:.1f} {unit}{extra}  {value / anchor:.2f}x"
        figures.append(line); print(line, flush=True)
    figure("raw-commit-rate", "sqlite", 1, anchor, "tx/s")

    desk = os.path.join(work, "desk.sqlite")
    env = dict(os.environ, CREDITS_DATABASE=desk)
    subprocess.run([args.credits_binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    total = load_history(desk, args.customers, args.entries)
    print(f"# desk: {args.customers} customers, {total} ledger entries, generated in {time.perf_counter() - started:.1f}s", flush=True)
    token = subprocess.run([args.credits_binary, "token", "create", "--name", "bench", "--role", "operations"],
                           env=env, check=True, capture_output=True, text=True).stdout.splitlines()[0]
    port = 20000 + random.randint(0, 20000)
    server = subprocess.Popen([args.credits_binary, "serve", "--port", str(port), "--as-of", "2026-11-29"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1); c.request("GET", "/health"); c.getresponse().read(); break
            except OSError: time.sleep(0.05)
        def call_off(index, n):
            return ("POST", "/v1/call-offs", {"customer": f"c{(index * 7919 + n) % args.customers:05d}", "program": "PSC",
                    "purchaseOrder": "PO-B", "sowReference": "SOW-B", "sowSignedOn": "2026-11-01", "plannedEndOn": "2027-01-31",
                    "custom": {"title": "Bench", "kind": "design", "pricing": "fixed-scope", "deliverables": ["D"], "credits": 5}})
        for clients in (1, 16):
            rate, latencies, errors = timed_requests(port, token, clients, args.seconds, call_off)
            figure("call-offs-http", "sqlite", clients, rate, "call-offs/s",
                   f" p50={percentile(latencies, .5) * 1000:.1f}ms p99={percentile(latencies, .99) * 1000:.1f}ms errors={len(errors)}")
        def balance(index, n):
            return ("GET", f"/v1/customers/c{(index * 104729 + n) % args.customers:05d}/balances", None)
        rate, latencies, errors = timed_requests(port, token, 16, args.seconds, balance)
        figure("balance-reads-http", "sqlite", 16, rate, "reads/s",
               f" p50={percentile(latencies, .5) * 1000:.2f}ms p99={percentile(latencies, .99) * 1000:.2f}ms errors={len(errors)}")
    finally:
        server.terminate(); server.wait()
    started = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-f", "%M", args.credits_binary, "statement", "issue", "--quarter", "2026Q3",
                          "--as-of", "2026-11-29"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_kib = int(run.stderr.strip().splitlines()[-1]) if run.returncode == 0 else -1
    figure("statements-issue", "sqlite", 1, args.customers / elapsed, "statements/s",
           f" total={elapsed:.1f}s peak_rss={peak_kib / 1024:.0f}MB")

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""HTTP benchmark of `credits serve` against the physical limit of the same disk.

Anchor (a): the raw SQLite transaction a call-off needs at least — a guarded UPDATE of a lot and
an INSERT of a ledger row, WAL, synchronous=FULL, one commit each — done directly, one writer.
Then, on a desk of N customers and M ledger entries (generated directly, with a valid hash chain):
the floor, the rows of one keyed call-off written directly, one commit each; (b) call-offs per second over HTTP at 1 and 16 clients with p50/p99, (c) balance reads at 16
clients with p50/p99, on this desk and on one with a tenth of the history, (d) issuing all
statements of one quarter, time and peak RSS. With --postgres URL, the desk is copied there
(`credits migrate-data`) and call-offs are measured against pgbench running the same transaction
at the same client count.

The load comes from wrk (C, one connection per client) with a Lua script, so the client is not
what limits the figures. Each figure is the median of --repeat runs. Every figure line names the
measure, the engine and the clients and ends with its ratio to its anchor.
"""
import argparse, hashlib, http.client, json, os, random, re, shutil, sqlite3, statistics, subprocess, sys, tempfile, time

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

def raw_call_off_rate(path, customers, seconds):
    """The writes of one keyed call-off, done directly with valid chain hashes, one commit each.

    The same rows the server writes for a call-off over HTTP (the engagement, its draw, the lot's
    guarded update, the ledger entry, the idempotency key with its answer, the chain head and the
    id counter), without HTTP, JSON, the core or a batch: the floor for one client on this disk.
    The head and the counter are kept in memory between commits, as the server keeps them.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL"); db.execute("PRAGMA foreign_keys=ON")
    seq, prev = db.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
    engagement = db.execute("SELECT next_value FROM id_counters WHERE name = 'engagement'").fetchone()[0]
    recorded = "2026-11-29T12:00:00.000Z"
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        index = (count * 7919) % customers
        customer, lot = f"c{index:05d}", index + 1
        answer = json.dumps({"id": engagement, "customer": customer, "program": "PSC", "purchaseOrder": "PO-F",
                             "sowReference": "SOW-F", "sowSignedOn": "2026-11-01", "title": "Floor", "kind": "design",
                             "deliverables": ["D"], "credits": 5, "calledOffOn": "2026-11-29", "plannedEndOn": "2027-01-31",
                             "status": "scheduled", "statusChangedOn": "2026-11-29", "draws": [{"lot": lot, "credits": 5}]},
                            sort_keys=True, separators=(",", ":"))
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO engagements VALUES (?, ?, 'PSC', 'PO-F', 'SOW-F', '2026-11-01', NULL, 'Floor', 'design', "
                   "'[\"D\"]', 5, '2026-11-29', '2027-01-31', 'scheduled', '2026-11-29')", (engagement, customer))
        db.execute("INSERT INTO draws VALUES (?, ?, 5)", (engagement, lot))
        db.execute("UPDATE lots SET credits_available = credits_available - 5, credits_held = credits_held + 5 "
                   "WHERE id = ? AND credits_available >= 5", (lot,))
        seq += 1
        digest = chain_hash(seq, "call-off", lot, customer, "PSC", -5, 5, "2026-11-29", recorded, "floor", "call-off",
                            f"engagement/{engagement}", prev)
        db.execute("INSERT INTO ledger_entries VALUES (?, 'call-off', ?, ?, 'PSC', -5, 5, '2026-11-29', ?, 'floor', 'call-off', ?, ?, ?)",
                   (seq, lot, customer, recorded, f"engagement/{engagement}", prev, digest))
        db.execute("INSERT INTO idempotency_keys VALUES ('floor', ?, ?, 201, ?, ?)",
                   (f"floor-{engagement}", hashlib.sha256(answer.encode()).hexdigest(), answer, recorded))
        db.execute("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))
        engagement += 1
        db.execute("UPDATE id_counters SET next_value = ? WHERE name = 'engagement'", (engagement,))
        db.execute("COMMIT")
        prev, count = digest, count + 1
    rate = count / (time.perf_counter() - started)
    db.close()
    return rate

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
    # Into the database file and onto the disk now: left in the WAL, the first checkpoint under
    # load copied the whole generated history and stalled one request for half a second.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.sync()
    return seq


WRK_SCRIPT = r"""
local token, customers = os.getenv("BENCH_TOKEN"), tonumber(os.getenv("BENCH_CUSTOMERS"))
local mode = os.getenv("BENCH_MODE")
local threads, counter = 0, 0
local run = os.getenv("BENCH_RUN")
function setup(thread) thread:set("offset", threads * 1000003); threads = threads + 1 end
function request()
  counter = counter + 1
  local customer = string.format("c%05d", ((offset or 0) + counter * 7919) % customers)
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if mode == "balance" then return wrk.format("GET", "/v1/customers/" .. customer .. "/balances", headers) end
  -- A key per call-off, as a careful client sends: the server stores it and the answer with the write.
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, offset or 0, counter)
  local body = '{"customer":"' .. customer .. '","program":"PSC","purchaseOrder":"PO-B","sowReference":"SOW-B",' ..
    '"sowSignedOn":"2026-11-01","plannedEndOn":"2027-01-31","custom":{"title":"Bench","kind":"design",' ..
    '"pricing":"fixed-scope","deliverables":["D"],"credits":5}}'
  return wrk.format("POST", "/v1/call-offs", headers, body)
end
"""

def wrk(port, token, customers, mode, clients, seconds, work):
    """Requests/s, p50 and p99 in ms, and the count of non-2xx answers."""
    script = os.path.join(work, "bench.lua")
    with open(script, "w") as f: f.write(WRK_SCRIPT)
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_CUSTOMERS=str(customers), BENCH_MODE=mode, BENCH_RUN=str(time.time_ns()))
    out = subprocess.run(["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s", "--latency",
                          "-s", script, f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True, check=True).stdout
    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, latency(50), latency(99), int(errors.group(1)) if errors else 0

def median_of(repeat, measure):
    """Runs `measure` `repeat` times; each of its figures is the median of its own values, but the
    last (the count of non-2xx answers), which is the largest: one bad run must show."""
    runs = [measure() for _ in range(repeat)]
    if len(runs[0]) == 1:
        return (statistics.median(run[0] for run in runs),)
    columns = list(zip(*runs))
    return tuple(statistics.median(column) for column in columns[:-1]) + (max(columns[-1]),)

class Server:
    def __init__(self, binary, database, work, name):
        self.port = 20000 + random.randint(0, 20000)
        self.process = subprocess.Popen([binary, "serve", "--port", str(self.port), "--as-of", "2026-11-29"],
                                        env=dict(os.environ, CREDITS_DATABASE=database), stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(work, f"serve-{name}.log"), "w"))
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1); c.request("GET", "/health"); c.getresponse().read()
                return
            except OSError: time.sleep(0.05)
        raise SystemExit("bench-http: the server did not start")

    def stop(self):
        self.process.terminate(); self.process.wait()

def make_desk(binary, path, customers, entries):
    env = dict(os.environ, CREDITS_DATABASE=path)
    subprocess.run([binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    total = load_history(path, customers, entries)
    print(f"# desk {os.path.basename(path)}: {customers} customers, {total} ledger entries, generated in {time.perf_counter() - started:.1f}s", flush=True)
    token = subprocess.run([binary, "token", "create", "--name", "bench", "--role", "operations"],
                           env=env, check=True, capture_output=True, text=True).stdout.splitlines()[0]
    return token

def pgbench_rate(url, clients, seconds, work):
    """pgbench running the anchor transaction (guarded UPDATE + INSERT, one commit) on PostgreSQL."""
    setup = ("DROP TABLE IF EXISTS bench_lots, bench_entries; "
             "CREATE TABLE bench_lots (id BIGINT PRIMARY KEY, available BIGINT NOT NULL CHECK (available >= 0), held BIGINT NOT NULL); "
             "CREATE TABLE bench_entries (seq BIGSERIAL PRIMARY KEY, lot BIGINT NOT NULL, delta BIGINT NOT NULL, note TEXT NOT NULL); "
             "INSERT INTO bench_lots VALUES (1, 1000000000, 0);")
    subprocess.run(["psql", "-q", "-d", url, "-c", setup], check=True, capture_output=True)
    script = os.path.join(work, "anchor.sql")
    with open(script, "w") as f:
        f.write("BEGIN;\nUPDATE bench_lots SET available = available - 5, held = held + 5 WHERE id = 1 AND available >= 5;\n"
                "INSERT INTO bench_entries (lot, delta, note) VALUES (1, -5, 'call-off');\nEND;\n")
    out = subprocess.run(["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(int(seconds)), "-f", script, url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--credits-binary", required=True)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="also measure on this (empty) PostgreSQL database")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="credits-bench-")
    seconds = int(max(args.seconds, 1))

    anchor = median_of(args.repeat, lambda: (raw_sqlite_rate(os.path.join(work, f"raw-{time.time_ns()}.sqlite"), seconds),))[0]
    def figure(measure, engine, clients, value, unit, base, extra=""):
        print(f"{measure} engine={engine} clients={clients}: {value:.1f} {unit}{extra}  {value / base:.2f}x", flush=True)
    figure("raw-commit-rate", "sqlite", 1, anchor, "tx/s", anchor, f" (median of {args.repeat})")

    desk = os.path.join(work, "desk.sqlite")
    token = make_desk(args.credits_binary, desk, args.customers, args.entries)
    small = os.path.join(work, "small.sqlite")
    small_token = make_desk(args.credits_binary, small, args.customers, args.entries // 10)
    # On a copy of the desk, so the desk the server is measured on keeps exactly the history it
    # was generated with (the floor's runs add about 120,000 entries at full size).
    floor_desk = os.path.join(work, "floor.sqlite")
    shutil.copy(desk, floor_desk)
    floor = median_of(args.repeat, lambda: (raw_call_off_rate(floor_desk, args.customers, seconds),))[0]
    os.remove(floor_desk)
    figure("raw-call-off-rate", "sqlite", 1, floor, "tx/s", anchor, " (a call-off's own writes, done directly)")

    def http_figures(engine, database, token, base_for, label=""):
        server = Server(args.credits_binary, database, work, engine + label)
        try:
            for clients in (1, 16):
                rate, p50, p99, errors = median_of(args.repeat, lambda: wrk(server.port, token, args.customers, "call-off", clients, seconds, work))
                figure("call-offs-http", engine, clients, rate, "call-offs/s", base_for(clients),
                       f" p50={p50:.2f}ms p99={p99:.2f}ms non2xx={errors}")
            balance = median_of(args.repeat, lambda: wrk(server.port, token, args.customers, "balance", 16, seconds, work))
            figure("balance-reads-http", engine, 16, balance[0], "reads/s", anchor,
                   f" p50={balance[1]:.2f}ms p99={balance[2]:.2f}ms non2xx={balance[3]} entries={args.entries}")
            return balance
        finally:
            server.stop()

    big = http_figures("sqlite", desk, token, lambda clients: anchor)
    server = Server(args.credits_binary, small, work, "small")
    try:
        rate, p50, p99, errors = median_of(args.repeat, lambda: wrk(server.port, small_token, args.customers, "balance", 16, seconds, work))
    finally:
        server.stop()
    figure("balance-reads-http", "sqlite", 16, rate, "reads/s", anchor,
           f" p50={p50:.2f}ms p99={p99:.2f}ms non2xx={errors} entries={args.entries // 10}"
           f" (p99 at {args.entries} entries is {big[2] / p99:.2f}x this)")

    env = dict(os.environ, CREDITS_DATABASE=desk)
    started = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-f", "%M", args.credits_binary, "statement", "issue", "--quarter", "2026Q3",
                          "--as-of", "2026-11-29"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_kib = int(run.stderr.strip().splitlines()[-1]) if run.returncode == 0 else -1
    figure("statements-issue", "sqlite", 1, args.customers / elapsed, "statements/s", anchor,
           f" customers={args.customers} total={elapsed:.1f}s peak_rss={peak_kib / 1024:.0f}MB")

    if args.postgres:
        copied = subprocess.run([args.credits_binary, "migrate-data", "--from", desk, "--to", args.postgres],
                                capture_output=True, text=True)
        if copied.returncode != 0:
            raise SystemExit(f"bench-http: copying the desk to PostgreSQL failed:\n{copied.stdout}{copied.stderr}")
        # Settle the bulk copy first, as after any load: otherwise autovacuum's pass over a
        # million new rows, or the checkpoint writing them out, lands inside a measured run.
        subprocess.run(["psql", "-q", "-d", args.postgres, "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
        subprocess.run(["psql", "-q", "-d", args.postgres, "-c", "CHECKPOINT"], capture_output=True)
        rates = {clients: median_of(args.repeat, lambda: (pgbench_rate(args.postgres, clients, seconds, work),))[0] for clients in (1, 16)}
        for clients, rate in rates.items():
            figure("pgbench-anchor", "postgresql", clients, rate, "tx/s", rate)
        http_figures("postgresql", args.postgres, token, lambda clients: rates[clients])

if __name__ == "__main__":
    main()

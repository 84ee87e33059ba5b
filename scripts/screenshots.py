"""Take the README screenshots from the demo database (run `make demo-db` first).

    .venv/bin/python scripts/screenshots.py [--db shop_crm_demo] [--lang zh_CN] [--pos]

Starts Odoo on a free local port, logs in as the shop manager, and drives headless Chromium through the
DevTools protocol (websocket-client) to capture a few screens into static/description/: the list views,
the owner's dashboard (the whole page) and the first page of the monthly customer report (the PDF as Odoo
prints it, turned into a PNG by pdftoppm). ``--only NAME`` (repeatable) takes only those files.
With --pos it takes the Point of Sale shots instead: the demo shop's till with a member picked (the
customer card at checkout) and the receipt of that member's paid order (a real sale: it is synced and
earns points in the demo database).
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "description"
SHOTS = (
    ("screenshot_customers.png", "/odoo/action-shop_crm.res_partner_action_shop_customers"),
    ("screenshot_churn_warnings.png", "/odoo/action-shop_crm.res_partner_action_churn_warnings"),
    ("screenshot_rfm_analysis.png", "/odoo/action-shop_crm.res_partner_action_rfm_analysis"),
    ("screenshot_member_tiers.png", "/odoo/action-shop_crm.shop_crm_tier_action"),
    ("screenshot_points_ledger.png", "/odoo/action-shop_crm.loyalty_history_action_shop_crm"),
    ("screenshot_feedback.png", "/odoo/action-shop_crm.shop_crm_feedback_action?view_type=kanban"),
    ("screenshot_visits.png", "/odoo/action-shop_crm.shop_crm_visit_action?view_type=calendar"),
    ("screenshot_dashboard.png", "/odoo/action-shop_crm.shop_crm_dashboard_action"),
)
FULL_PAGE = {"screenshot_dashboard.png"}  # captured whole: the page scrolls
MONTHLY_REPORT = "screenshot_monthly_report.png"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def login(base, db, user):
    payload = json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": user}}).encode()
    request = urllib.request.Request(
        f"{base}/web/session/authenticate", payload, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        cookie = response.headers.get("Set-Cookie", "")
    session = cookie.split("session_id=", 1)[1].split(";", 1)[0]
    if not session:
        raise SystemExit("login failed")
    return session


class Chrome:
    def __init__(self, port):
        self.profile = tempfile.mkdtemp(prefix="shop_crm_chrome_")
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}", "--window-size=1366,768", "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{port}/json/version", 30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            page = next(target for target in json.load(response) if target["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=400)
        self.ids = 0

    def call(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                return message.get("result", {})

    def evaluate(self, expression, timeout=60):
        """Run ``expression`` (may be a promise) in the page and return its value; raise on a JS error."""
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            timeout=timeout * 1000,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise SystemExit(f"in the page: {details.get('exception', {}).get('description') or details}")
        return result.get("result", {}).get("value")

    def screenshot(self, path):
        image = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(image))
        print(f"wrote {path}")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def monthly_report_page(base, session, target):
    """The first page of the monthly customer report (last month) of the main company, as a PNG."""
    request = urllib.request.Request(
        f"{base}/report/pdf/shop_crm.report_monthly/1", headers={"Cookie": f"session_id={session}"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        pdf = response.read()
    if not pdf.startswith(b"%PDF"):
        raise SystemExit("the monthly report did not come back as a PDF")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "monthly.pdf").write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", "monthly.pdf", "page"],
            cwd=folder,
            check=True,
        )
        shutil.copyfile(Path(folder) / "page.png", target)
    print(f"wrote {target}")


# In the till's page: wait for a selector; pick the demo member whose card says the most; sell and pay.
POS_HELPERS = r"""
window.shopCrmShots = {
    async waitFor(selector, seconds = 60) {
        for (let i = 0; i < seconds * 10; i++) {
            const element = document.querySelector(selector);
            if (element) {
                return element;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`${selector} did not appear`);
    },
    member() {
        const score = (partner) => {
            const card = partner.shop_crm_pos_card;
            return (card.tier ? 4 : 0) + card.flags.length * 2 + (card.points_expiring ? 1 : 0) +
                (card.preferences ? 1 : 0) + (card.flags.includes("do_not_contact") ? -6 : 0);
        };
        const members = window.posmodel.models["res.partner"]
            .getAll()
            .filter((partner) => partner.shop_crm_pos_card?.member_code);
        members.sort((a, b) => score(b) - score(a));
        if (!members.length) {
            throw new Error("no member is loaded in the till");
        }
        return members[0];
    },
};
"""


def pos_shots(chrome, base, call):
    config = call("pos.config", "search_read", [[["active", "=", True]]], {"fields": ["id"], "limit": 1})
    if not config:
        raise SystemExit("the demo database has no Point of Sale")
    chrome.call("Page.navigate", url=f"{base}/pos/ui?config_id={config[0]['id']}")
    time.sleep(5)
    chrome.evaluate(POS_HELPERS)
    chrome.evaluate(
        "shopCrmShots.waitFor('.pos .product-screen, .pos .modal, .screen-login', 360).then(() => true)", 380
    )
    # the cashier opens the register (and confirms the opening cash) when the session is new
    chrome.evaluate(
        """(async () => {
            const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            await pause(1500);
            document.querySelector('.screen-login .open-register-btn')?.click();
            for (let i = 0; i < 100 && !document.querySelector('.modal .modal-footer .btn-primary'); i++) {
                await pause(100);
            }
            document.querySelector('.modal .modal-footer .btn-primary')?.click();
            for (let i = 0; i < 100 && document.querySelector('.modal'); i++) {
                await pause(100);
            }
            await shopCrmShots.waitFor('.pos .product-screen');
            return true;
        })()"""
    )
    chrome.evaluate(
        """(async () => {
            const pos = window.posmodel;
            const products = pos.models["product.product"].getAll().filter(
                (product) => product.available_in_pos && product.lst_price > 0 && product.type !== "combo"
            );
            products.sort((a, b) => b.lst_price - a.lst_price);
            const picks = [products[Math.min(2, products.length - 1)], products[products.length - 1]];
            for (const product of picks) {
                await pos.addLineToCurrentOrder({ product_id: product }, {}, false);
            }
            pos.get_order().set_partner(shopCrmShots.member());
            await shopCrmShots.waitFor('.o_shop_crm_customer_card');
            await new Promise((resolve) => setTimeout(resolve, 1500));
            // the once-per-order popup about the customer: closed, the card stays in the order panel
            document.querySelector('.o_shop_crm_alert_popup .o_shop_crm_alert_close')?.click();
            await new Promise((resolve) => setTimeout(resolve, 1000));
            return true;
        })()"""
    )
    chrome.screenshot(OUT / "screenshot_pos_customer_card.png")
    chrome.evaluate(
        """(async () => {
            (await shopCrmShots.waitFor('.product-screen .pay-order-button')).click();
            (await shopCrmShots.waitFor('.paymentmethods .paymentmethod')).click();
            await new Promise((resolve) => setTimeout(resolve, 1000));
            (await shopCrmShots.waitFor('.payment-screen .button.next.highlight')).click();
            await shopCrmShots.waitFor('.receipt-screen .pos-receipt .o_shop_crm_receipt_balance', 120);
            await shopCrmShots.waitFor('.receipt-screen .pos-receipt img.o_shop_crm_feedback_qr', 60);
            await new Promise((resolve) => setTimeout(resolve, 2000));
            return true;
        })()""",
        200,
    )
    # tall enough for the whole receipt (member block and QR code at its foot)
    height = chrome.evaluate(
        "Math.ceil(document.querySelector('.receipt-screen .pos-receipt').getBoundingClientRect().bottom)"
        " + 120"
    )
    chrome.call(
        "Emulation.setDeviceMetricsOverride",
        width=1366,
        height=max(768, height),
        deviceScaleFactor=1,
        mobile=False,
    )
    time.sleep(2)
    chrome.screenshot(OUT / "screenshot_pos_receipt.png")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="shop_crm_demo")
    parser.add_argument("--user", default="shop.manager")
    parser.add_argument(
        "--lang", default="", help="e.g. zh_CN (must be installed: DEMO_LANG=zh_CN make demo)"
    )
    parser.add_argument("--pos", action="store_true", help="the Point of Sale shots (a real sale in --db)")
    parser.add_argument("--only", action="append", help="take only this file (repeatable)")
    args = parser.parse_args()
    shots = [shot for shot in SHOTS if not args.only or shot[0] in args.only]
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / "scripts" / "odoo"), "-d", args.db, f"--db-filter=^{args.db}$", f"--http-port={port}",
         "--log-level=warn", "--max-cron-threads=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    chrome = None
    try:
        wait_http(f"{base}/web/login")
        session = login(base, args.db, args.user)
        chrome = Chrome(free_port())
        chrome.call("Network.enable")
        chrome.call("Network.setCookie", name="session_id", value=session, domain="127.0.0.1", path="/")
        chrome.call("Page.enable")
        if args.pos:

            def call(model, method, args_, kwargs):
                payload = json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "params": {"model": model, "method": method, "args": args_, "kwargs": kwargs},
                    }
                ).encode()
                request = urllib.request.Request(
                    f"{base}/web/dataset/call_kw",
                    payload,
                    {"Content-Type": "application/json", "Cookie": f"session_id={session}"},
                )
                with urllib.request.urlopen(request) as response:
                    answer = json.load(response)
                if "error" in answer:
                    raise SystemExit(answer["error"]["data"]["message"])
                return answer["result"]

            try:
                pos_shots(chrome, base, call)
            except SystemExit:
                chrome.screenshot(Path(tempfile.gettempdir()) / "shop_crm_pos_screenshot_failed.png")
                raise
            return 0
        chrome.call("Page.navigate", url=base + SHOTS[0][1])
        time.sleep(25)  # the first visit builds the web client's assets
        for name, path in shots:
            url = base + path + (f"?lang={args.lang}" if args.lang else "")
            chrome.call("Page.navigate", url=url)
            time.sleep(8)  # the web client loads its assets and data
            if name in FULL_PAGE:
                height = chrome.call(
                    "Runtime.evaluate",
                    expression="document.querySelector('.o_action_manager > .o_action')?.scrollHeight || 768",
                    returnByValue=True,
                )["result"]["value"]
                chrome.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=1366,
                    height=int(height) + 60,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                time.sleep(2)
            image = chrome.call("Page.captureScreenshot", format="png")["data"]
            chrome.call("Emulation.clearDeviceMetricsOverride")
            (OUT / name).write_bytes(base64.b64decode(image))
            print(f"wrote {OUT / name}")
        if not args.only or MONTHLY_REPORT in args.only:
            monthly_report_page(base, session, OUT / MONTHLY_REPORT)
    finally:
        if chrome:
            chrome.close()
        server.terminate()
        server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())

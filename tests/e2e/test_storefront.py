"""The storefront page (web/) in real Chromium against the local stack, as a user drives it.

Debian's chromium, driven by Playwright's Python package; `make test` installs the browser when it
is missing and apt-get can (see the Makefile's `browser` step), and these tests skip with the reason
only where no browser can be had. The stack runs on free ports with sandbox orders moving only on
command, so each test decides when an order is paid. Screenshots of the main states go to
tests/e2e/screenshots/ (git-ignored); two of them are committed under web/screenshots/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.runtime import REPO_ROOT

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (make install)"
)
Browser = playwright_api.Browser
Page = playwright_api.Page
Route = playwright_api.Route
expect = playwright_api.expect

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "tests" / "e2e" / "screenshots"
READY_TIMEOUT = 60
# Sandbox orders move only when a test sends an event.
MANUAL_SANDBOX = "--sandbox-step-seconds=0"
# The poller every half second where a test waits for statuses (the JWT stack's test does not).
FAST_POLLER = "--poll-every=0.5"
ETH_DESTINATION = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XRP_DESTINATION = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"
BTC_REFUND = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
WAIT_MS = 30_000  # a bound, not a pause: generous for a loaded CI machine

if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium where apt-get can; "
        "elsewhere set CHROMIUM to a Chromium binary",
        allow_module_level=True,
    )


class StackProcess:
    """`python -m local.stack` on free ports, started at once and awaited only when first needed, so
    the module's two stacks (auth NONE and JWT) boot side by side."""

    def __init__(self, state_dir: Path, *options: str) -> None:
        ports = [f"--{name}-port=0" for name in ("api", "sandbox", "moto", "dynamodb")]
        self.state_dir = state_dir
        self.log = state_dir / "stack.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.stack",
                *ports,
                MANUAL_SANDBOX,
                "--state-dir",
                str(state_dir),
                *options,
            ],
            cwd=REPO_ROOT,
            # A file, not a pipe: nobody reads a pipe after "ready", and a full one would stall the stack.
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.state: dict[str, Any] | None = None

    def ready(self) -> dict[str, Any]:
        if self.state is None:
            deadline = time.monotonic() + READY_TIMEOUT
            while not any(line.startswith("ready: ") for line in self.output().splitlines()):
                if self.process.poll() is not None:
                    pytest.fail("the stack exited before it was ready:\n" + self.output())
                assert time.monotonic() < deadline, self.output()
                time.sleep(0.2)
            self.state = json.loads((self.state_dir / "stack.json").read_text())
        return self.state

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        # SIGTERM: the stack stops its workers and DynamoDB Local itself (SIGKILL would orphan them).
        self.process.terminate()

    def wait(self) -> None:
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StackProcess]]:
    """The local stack as `make run` starts it (AuthMode NONE), and one in JWT mode (moto's DynamoDB)."""
    started = {
        "none": StackProcess(tmp_path_factory.mktemp("storefront-stack"), FAST_POLLER),
        "jwt": StackProcess(
            tmp_path_factory.mktemp("storefront-jwt"), "--auth-mode=JWT", "--no-dynamodb-local"
        ),
    }
    yield started
    for process in started.values():
        process.stop()
    for process in started.values():
        process.wait()


@pytest.fixture(scope="module")
def stack(stacks: dict[str, StackProcess]) -> dict[str, Any]:
    return stacks["none"].ready()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _fast_polling(route: Route) -> None:
    """The page's own config.js with a lower polling ceiling: a test waits seconds, not minutes."""
    answer = route.fetch()
    route.fulfill(response=answer, body=answer.text().replace("pollMaxMs: 15000", "pollMaxMs: 2000"))


@contextlib.contextmanager
def open_page(browser: Browser, api: str) -> Iterator[Page]:
    """A fresh profile (its own storage), 360 px wide: the narrowest phone we support."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        base_url=api,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.route("**/config.js", _fast_polling)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser, stack: dict[str, Any]) -> Iterator[Page]:
    with open_page(browser, stack["api"]) as opened:
        yield opened


@pytest.fixture
def jwt_page(browser: Browser, stacks: dict[str, StackProcess]) -> Iterator[tuple[Page, dict[str, Any]]]:
    state = stacks["jwt"].ready()
    with open_page(browser, state["api"]) as opened:
        yield opened, state


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def instrument_value(stack: dict[str, Any], currency: str, network: str) -> str:
    """The <option> value of an instrument: its position in the API's list."""
    listed = requests.get(f"{stack['api']}/instruments", timeout=10).json()["instruments"]
    return str(next(n for n, i in enumerate(listed) if (i["currency"], i["network"]) == (currency, network)))


def open_form(page: Page) -> None:
    page.goto("/")
    expect(page.locator("#quote-details")).to_be_visible(timeout=WAIT_MS)


def fill_eth_destination(page: Page) -> None:
    page.fill("#destination", ETH_DESTINATION)
    expect(page.locator("#destination-state")).to_have_text(
        re.compile("Valid ERC20 address"), timeout=WAIT_MS
    )
    expect(page.locator("#submit")).to_be_enabled()


def orders_of(page: Page, stack: dict[str, Any]) -> list[dict[str, Any]]:
    user = page.evaluate("localStorage.getItem('storefront.anonymousUser')")
    assert user, "the page should have made itself an anonymous user id"
    answer = requests.get(f"{stack['api']}/orders", params={"userId": user}, timeout=10)
    assert answer.status_code == 200, answer.text
    orders: list[dict[str, Any]] = answer.json()["orders"]
    return orders


def sandbox_event(stack: dict[str, Any], exchange_order_id: int, kind: str) -> None:
    answer = requests.post(
        f"{stack['sandbox']}/_sandbox/orders/{exchange_order_id}/events", json={"kind": kind}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def lose_first_create_answer(page: Page) -> list[dict[str, Any]]:
    """The first POST /orders reaches the API and creates the order, but its answer never reaches
    the page (a dropped connection): the case an Idempotency-Key exists for."""
    lost: list[dict[str, Any]] = []

    def handle(route: Route) -> None:
        if route.request.method != "POST" or lost:
            route.continue_()
            return
        answer = route.fetch()
        lost.append(
            {"status": answer.status, "body": answer.json(), "key": route.request.headers["idempotency-key"]}
        )
        route.abort("connectionreset")

    page.route("**/orders", handle)
    return lost


def test_happy_path_from_quote_to_completed_with_transaction_ids(page: Page, stack: dict[str, Any]) -> None:
    answers: list[playwright_api.Response] = []
    page.on("response", lambda answer: answers.append(answer))
    open_form(page)
    # A fixed rate is quoted with its expiry counting down.
    page.get_by_label("Fixed (locked for a few minutes)").check()
    expect(page.locator("#quote-expiry")).to_have_text(re.compile(r"^\d+:\d\d$"), timeout=WAIT_MS)
    page.get_by_label("Floating (market rate at deposit)").check()
    expect(page.locator("#quote-expiry-row")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#quote-receive")).to_have_text(re.compile(r"^\d+(\.\d+)? ETH$"))
    fill_eth_destination(page)
    shot(page, "1-form-ready")

    page.click("#submit")

    expect(page.locator("#order-heading")).to_be_focused(timeout=WAIT_MS)
    assert "order=ord_" in page.url
    order = orders_of(page, stack)[0]
    deposit = order["deposit"]
    expect(page.locator("#deposit-address")).to_have_text(deposit["address"])
    expect(page.locator("#deposit-amount")).to_contain_text("0.05 BTC")
    expect(page.locator("#qr-code svg[role=img]")).to_be_visible()
    assert page.get_attribute("#qr-code", "data-text") == deposit["address"]
    page.get_by_role("button", name="Copy address").click()
    expect(page.locator("#copy-status")).to_have_text("address copied.")
    assert page.evaluate("navigator.clipboard.readText()") == deposit["address"]
    expect(page.locator("#status-now")).to_have_attribute("data-status", "awaiting_deposit")
    shot(page, "2-deposit-instructions")

    sandbox_event(stack, order["exchangeOrderId"], "INCOMING_FUNDS_DETECTED")
    expect(page.locator("#status-now")).to_have_attribute("data-status", "confirming", timeout=WAIT_MS)
    sandbox_event(stack, order["exchangeOrderId"], "WITHDRAWAL_COMPLETED")
    expect(page.locator("#status-now")).to_have_attribute("data-status", "completed", timeout=WAIT_MS)

    final = requests.get(f"{stack['api']}/orders/{order['id']}", timeout=10).json()
    tx_ids = [d["txId"] for d in final["deposits"]] + [w["txId"] for w in final["withdrawals"]]
    assert len(tx_ids) == 2
    for tx_id in tx_ids:
        expect(page.locator("#txid-list")).to_contain_text(tx_id)
    steps = page.locator("#timeline li")
    expect(steps.last).to_have_attribute("data-status", "completed")
    expect(page.locator('#timeline li[data-state="upcoming"]')).to_have_count(0)
    expect(page.locator("#qr")).to_be_hidden()
    expect(page.locator("#poll-state")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "3-completed")
    # Nothing of the exchange's credentials ever reached the browser: no key, no signature header.
    seen = [(dict(answer.headers), answer.text()) for answer in answers if "/assets/" not in answer.url]
    assert len(seen) > 5
    for headers, text in seen:
        assert not {"x-api-public-key", "x-api-signature", "x-api-timestamp"} & set(headers)
        assert "sandbox-secret-key" not in text
        assert "sandbox-public-key" not in text


def test_a_refund_ends_the_timeline_as_refunded_with_the_refund_transaction(
    page: Page, stack: dict[str, Any]
) -> None:
    open_form(page)
    page.fill("#refund", BTC_REFUND)
    expect(page.locator("#refund-state")).to_have_text(re.compile("Valid BTC address"), timeout=WAIT_MS)
    fill_eth_destination(page)
    page.click("#submit")
    expect(page.locator("#deposit-address")).not_to_be_empty(timeout=WAIT_MS)
    order = orders_of(page, stack)[0]
    assert order["refund"]["address"] == BTC_REFUND

    sandbox_event(stack, order["exchangeOrderId"], "REFUND_COMPLETED")

    expect(page.locator("#status-now")).to_have_attribute("data-status", "refunded", timeout=WAIT_MS)
    expect(page.locator("#status-now")).to_contain_text("Refunded")
    expect(page.locator("#timeline li").last).to_have_attribute("aria-current", "step")
    expect(page.locator('#timeline li[data-state="upcoming"]')).to_have_count(0)
    expect(page.locator("#txid-list")).to_contain_text("Refund of 0.05 BTC")
    shot(page, "6-refunded")


def test_a_field_error_from_create_is_shown_beside_that_field(page: Page) -> None:
    """The create's own 422 (here: the exchange-side check refusing what reached it) lands on the
    field the API names, and the button waits for a new valid value."""
    open_form(page)
    fill_eth_destination(page)

    def send_a_bad_address(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        body["destination"]["address"] = "0x1234"
        route.continue_(post_data=json.dumps(body))

    page.route("**/orders", send_a_bad_address)
    page.click("#submit")

    expect(page.locator("#destination-error")).to_have_text(
        re.compile("not a valid ERC20 address"), timeout=WAIT_MS
    )
    expect(page.locator("#destination")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).to_contain_text("correct the fields")
    expect(page.locator("#submit")).to_be_disabled()
    page.unroute("**/orders")
    page.fill("#destination", ETH_DESTINATION.lower())
    expect(page.locator("#submit")).to_be_enabled(timeout=WAIT_MS)


def test_fiat_and_the_sent_instrument_are_listed_but_unavailable(page: Page, stack: dict[str, Any]) -> None:
    open_form(page)
    usd = page.locator(f'#from option[value="{instrument_value(stack, "USD", "USD")}"]')
    expect(usd).to_be_disabled()
    expect(usd).to_contain_text("unavailable")
    same = page.locator(f'#to option[value="{instrument_value(stack, "BTC", "BTC")}"]')
    expect(same).to_be_disabled()
    expect(same).to_contain_text("same as you send")
    total = len(requests.get(f"{stack['api']}/instruments", timeout=10).json()["instruments"])
    expect(page.locator("#from option")).to_have_count(total)
    # A pair the exchange does only at a floating rate: the reason is on the rate, not the pair.
    page.select_option("#to", instrument_value(stack, "XMR", "XMR"))
    page.get_by_label("Fixed (locked for a few minutes)").check()
    expect(page.locator("#rate-mode-error")).to_have_text(
        re.compile("fixed rate is not available"), timeout=WAIT_MS
    )
    expect(page.locator("#to-error")).to_be_hidden()
    expect(page.locator("#submit")).to_be_disabled()
    page.get_by_label("Floating (market rate at deposit)").check()
    expect(page.locator("#quote-details")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#rate-mode-error")).to_be_hidden()


def test_an_invalid_address_keeps_submit_disabled_with_the_reason_beside_it(page: Page) -> None:
    open_form(page)
    page.fill("#destination", "0x1234")

    error = page.locator("#destination-error")
    expect(error).to_have_text(re.compile("not a valid ERC20 address"), timeout=WAIT_MS)
    expect(page.locator("#destination")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#submit")).to_be_disabled()
    # An amount the exchange refuses gets the API's reason next to the amount, and stays disabled.
    page.fill("#amount", "0.00000001")
    expect(page.locator("#amount-error")).to_have_text(re.compile("below the minimum"), timeout=WAIT_MS)
    page.fill("#destination", ETH_DESTINATION)
    expect(page.locator("#destination-state")).to_have_text(re.compile("Valid"), timeout=WAIT_MS)
    expect(page.locator("#submit")).to_be_disabled()
    shot(page, "4-invalid-fields")


def test_a_missing_xrp_tag_shows_the_tag_field_and_keeps_submit_disabled(
    page: Page, stack: dict[str, Any]
) -> None:
    open_form(page)
    expect(page.locator("#memo-field")).to_be_hidden()
    page.select_option("#to", instrument_value(stack, "XRP", "XRP"))
    expect(page.locator("#memo-field")).to_be_visible()
    page.fill("#destination", XRP_DESTINATION)

    expect(page.locator("#memo-error")).to_have_text(
        re.compile("destination tag is required"), timeout=WAIT_MS
    )
    expect(page.locator("#submit")).to_be_disabled()
    page.fill("#memo", "abc")
    expect(page.locator("#memo-error")).to_have_text(re.compile("whole number"), timeout=WAIT_MS)
    expect(page.locator("#destination-error")).to_be_hidden()
    expect(page.locator("#submit")).to_be_disabled()
    shot(page, "5-missing-tag")
    page.fill("#memo", "12345")
    expect(page.locator("#submit")).to_be_enabled(timeout=WAIT_MS)
    page.click("#submit")
    expect(page.locator("#deposit-address")).not_to_be_empty(timeout=WAIT_MS)
    expect(page.locator("#order-destination")).to_have_text(f"{XRP_DESTINATION} (tag 12345)")


def test_a_double_click_creates_one_order(page: Page, stack: dict[str, Any]) -> None:
    open_form(page)
    fill_eth_destination(page)
    keys: list[str] = []

    def record(request: playwright_api.Request) -> None:
        if request.method == "POST" and request.url.endswith("/orders"):
            keys.append(request.headers["idempotency-key"])

    page.on("request", record)

    page.dblclick("#submit")

    expect(page.locator("#deposit-address")).not_to_be_empty(timeout=WAIT_MS)
    assert len(orders_of(page, stack)) == 1
    assert len(set(keys)) == 1

    # "Start a new exchange" is a new intent: the same details now make a second order, new key.
    page.get_by_role("button", name="Start a new exchange").click()
    expect(page.locator("#exchange-form")).to_be_visible()
    assert "order=" not in page.url
    expect(page.locator("#submit")).to_be_enabled(timeout=WAIT_MS)
    page.click("#submit")
    expect(page.locator("#order-heading")).to_be_focused(timeout=WAIT_MS)
    assert len(orders_of(page, stack)) == 2
    assert len(set(keys)) == 2


def test_a_lost_answer_then_a_second_click_returns_the_same_order(page: Page, stack: dict[str, Any]) -> None:
    open_form(page)
    fill_eth_destination(page)
    lost = lose_first_create_answer(page)

    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("click again", timeout=WAIT_MS)
    assert lost, "the first create should have reached the API"
    assert lost[0]["status"] == 201
    page.click("#submit")

    expect(page.locator("#order-id")).to_have_text(lost[0]["body"]["id"], timeout=WAIT_MS)
    assert [o["id"] for o in orders_of(page, stack)] == [lost[0]["body"]["id"]]


def test_a_reload_brings_the_same_order_back(page: Page, stack: dict[str, Any]) -> None:
    open_form(page)
    fill_eth_destination(page)
    page.keyboard.press("Enter")  # the form submits from the keyboard
    expect(page.locator("#deposit-address")).not_to_be_empty(timeout=WAIT_MS)
    order_id = page.locator("#order-id").inner_text()
    address = page.locator("#deposit-address").inner_text()

    page.reload()

    expect(page.locator("#order-id")).to_have_text(order_id, timeout=WAIT_MS)
    expect(page.locator("#deposit-address")).to_have_text(address)
    expect(page.locator("#exchange-form")).to_be_hidden()
    assert len(orders_of(page, stack)) == 1


def test_a_reload_during_create_finishes_that_order_instead_of_placing_another(
    page: Page, stack: dict[str, Any]
) -> None:
    open_form(page)
    fill_eth_destination(page)
    lost = lose_first_create_answer(page)
    page.click("#submit")
    expect(page.locator("#form-error")).to_be_visible(timeout=WAIT_MS)

    page.unroute("**/orders")
    page.reload()

    created = lost[0]["body"]["id"]
    expect(page.locator("#order-id")).to_have_text(created, timeout=WAIT_MS)
    assert f"order={created}" in page.url
    assert [o["id"] for o in orders_of(page, stack)] == [created]


def test_every_control_has_a_label_and_the_page_fits_360_px(page: Page) -> None:
    open_form(page)
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, button')]
            .filter(el => !el.closest('[hidden]'))
            .filter(el => el.tagName === 'BUTTON' ? !(el.getAttribute('aria-label') || el.textContent.trim())
                                                 : el.labels.length === 0)
            .map(el => el.id || el.name)"""
    )
    assert unlabelled == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Keyboard only: Tab reaches the address field from the top of the page.
    page.keyboard.press("Tab")
    for _ in range(15):
        if page.evaluate("document.activeElement.id") == "destination":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "destination"


def _unsigned_jwt(subject: str) -> str:
    """A token of the right shape: the local gateway reads its claims but, unlike API Gateway, does
    not verify the signature, which is all this test needs (the page treats the token as opaque)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': subject})}.signature"


def test_in_jwt_mode_the_page_sends_the_token_and_the_user_comes_from_it(
    jwt_page: tuple[Page, dict[str, Any]],
) -> None:
    page, jwt_stack = jwt_page
    token = _unsigned_jwt("alice")
    bodies: list[dict[str, Any]] = []
    headers: list[str] = []

    def record(request: playwright_api.Request) -> None:
        if request.url.startswith(jwt_stack["api"]) and "/assets/" not in request.url:
            headers.append(request.headers.get("authorization", ""))
        if request.method == "POST" and request.url.endswith("/orders"):
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    page.goto("/")
    # Without a token the API refuses, and the page says to sign in rather than failing silently.
    expect(page.locator("#page-status")).to_contain_text("sign in", timeout=WAIT_MS)
    expect(page.locator("#api-token")).to_be_visible()  # the Connection panel opened by itself
    page.locator("#api-token").focus()
    page.keyboard.type(token)
    page.keyboard.press("Enter")

    expect(page.locator("#quote-details")).to_be_visible(timeout=WAIT_MS)
    fill_eth_destination(page)
    page.click("#submit")
    expect(page.locator("#deposit-address")).not_to_be_empty(timeout=WAIT_MS)

    order_id = page.locator("#order-id").inner_text()
    stored = requests.get(
        f"{jwt_stack['api']}/orders/{order_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert stored["userId"] == "alice"
    assert len(bodies) == 1
    assert "userId" not in bodies[0]
    api_calls = [h for h in headers if h]
    assert api_calls
    assert set(api_calls) == {f"Bearer {token}"}
    assert token not in page.url
    assert token not in page.evaluate("JSON.stringify(localStorage)")

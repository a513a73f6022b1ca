// @ts-check
// After the order exists: the deposit instructions (amount, address, memo, QR code, copy buttons)
// and a status timeline kept current by polling GET /orders/{id}, quickly at first, backing off
// while nothing changes, retrying transient failures, stopping at a final status.

import { ApiError } from "./api.js";
import { $, readable, show, sleep } from "./ui.js";
import qrcode from "./vendor/qrcode.mjs";

/** @typedef {import("./api.js").Api} Api */
/** @typedef {import("./api-types.js").OrderOut} OrderOut */

/** The happy path, in order; every other status is a branch off it. */
const HAPPY = ["awaiting_deposit", "confirming", "exchanging", "sending", "completed"];
export const FINAL = new Set(["completed", "refunded", "expired", "failed"]);
const LABELS = {
  pending_create: "Placing the order with the exchange",
  awaiting_deposit: "Waiting for your deposit",
  confirming: "Deposit seen, waiting for confirmations",
  exchanging: "Exchanging",
  sending: "Sending to your address",
  completed: "Completed",
  on_hold: "On hold: the exchange is reviewing this order",
  refunding: "Refunding your deposit",
  refunded: "Refunded to your refund address",
  expired: "Expired: no deposit arrived in time",
  failed: "Failed",
};

/** @param {string} status */
const label = (status) => LABELS[/** @type {keyof typeof LABELS} */ (status)] || status;

export class OrderView {
  /**
   * @param {object} options
   * @param {Api} options.api
   * @param {{pollInitialMs: number, pollFactor: number, pollMaxMs: number}} options.polling
   */
  constructor({ api, polling }) {
    this.api = api;
    this.polling = polling;
    /** @type {AbortController | null} */
    this.running = null;
    /** @type {(() => void) | null} */
    this.wake = null;
    for (const button of document.querySelectorAll("button[data-copy]")) {
      button.addEventListener("click", () => void copy(/** @type {HTMLButtonElement} */ (button)));
    }
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.wake?.();
    });
  }

  /**
   * Show this order and keep it current until it is final or stop() is called.
   * @param {OrderOut} order
   */
  show(order) {
    this.stop();
    $("order").hidden = false;
    this.render(order);
    if (!FINAL.has(order.status)) void this.poll(order);
  }

  stop() {
    this.running?.abort();
    this.running = null;
  }

  /** @param {OrderOut} first */
  async poll(first) {
    const controller = new AbortController();
    this.running = controller;
    const { pollInitialMs, pollFactor, pollMaxMs } = this.polling;
    let delay = pollInitialMs;
    let last = first;
    const pollState = $("poll-state");
    while (!controller.signal.aborted) {
      show(pollState, `Checking for updates every ${Math.round(delay / 1000) || 1} s.`);
      const woken = new AbortController();
      this.wake = () => woken.abort();
      await sleep(delay, AbortSignal.any([controller.signal, woken.signal]));
      if (controller.signal.aborted) return;
      try {
        const order = await this.api.order(last.id);
        if (controller.signal.aborted) return;
        const changed = order.status !== last.status || order.updatedAt !== last.updatedAt;
        last = order;
        this.render(order);
        if (FINAL.has(order.status)) {
          show(pollState, "");
          return;
        }
        delay = changed ? pollInitialMs : Math.min(delay * pollFactor, pollMaxMs);
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient) {
          const message = error instanceof ApiError ? error.message : "The order could not be read.";
          show(pollState, `${message} Reload the page to try again.`);
          return;
        }
        delay = Math.min(Math.max(delay * 2, (error.retryAfterSeconds || 0) * 1000), pollMaxMs);
        show(pollState, `${error.message} Trying again in ${Math.round(delay / 1000)} s.`);
        await sleep(delay, controller.signal);
        delay = Math.min(delay * pollFactor, pollMaxMs);
      }
    }
  }

  /** @param {OrderOut} order */
  render(order) {
    $("order-id").textContent = order.id;
    this.renderDeposit(order);
    this.renderTimeline(order);
    this.renderTransactions(order);
  }

  /** @param {OrderOut} order */
  renderDeposit(order) {
    const { deposit } = order;
    const ready = Boolean(deposit.address);
    $("deposit-pending").hidden = ready;
    $("deposit-details").hidden = !ready;
    $("deposit-amount").textContent = `${deposit.amount} ${deposit.currency} (${deposit.network} network)`;
    $("deposit-amount-raw").textContent = deposit.amount;
    $("deposit-address").textContent = deposit.address || "";
    $("deposit-memo").textContent = deposit.memo || "";
    $("deposit-memo-row").hidden = !deposit.memo;
    $("order-receive").textContent = `${readable(order.amountToReceive)} ${order.to.currency} (${order.to.network} network)`;
    const memo = order.destination.memo ? ` (tag ${order.destination.memo})` : "";
    $("order-destination").textContent = order.destination.address + memo;
    // Once the deposit has arrived, the instructions are history: say so instead of inviting a second one.
    const waiting = order.status === "awaiting_deposit" || order.status === "pending_create";
    $("order-heading").textContent = waiting ? "Send your deposit" : "Your exchange";
    $("deposit-amount-label").textContent = waiting ? "Send exactly" : "Deposit";
    $("deposit-address-label").textContent = waiting ? "To this address" : "Deposit address";
    $("deposit").dataset.waiting = String(waiting);
    renderQr(ready && waiting ? deposit.address || "" : "");
  }

  /** @param {OrderOut} order */
  renderTimeline(order) {
    const list = $("timeline");
    const seen = new Map(order.statusHistory.map((change) => [change.status, change.at]));
    const current = order.status;
    const at = HAPPY.indexOf(current);
    /** @type {string[]} */
    let steps;
    if (at >= 0) {
      // Steps the poller did not see (a fast exchange) were still passed: shown done, without a time.
      steps = [...order.statusHistory.map((c) => c.status).filter((s) => !HAPPY.includes(s)), ...HAPPY];
    } else {
      steps = order.statusHistory.map((c) => c.status);
      if (!steps.includes(current)) steps.push(current);
    }
    list.replaceChildren(
      ...[...new Set(steps)].map((status) => {
        const item = document.createElement("li");
        const position = HAPPY.indexOf(status);
        const done = status === current ? FINAL.has(status) : seen.has(status) || (at >= 0 && position >= 0 && position < at);
        item.dataset.status = status;
        item.dataset.state = status === current ? "current" : done ? "done" : "upcoming";
        if (status === current) item.setAttribute("aria-current", "step");
        const title = document.createElement("span");
        title.className = "step";
        title.textContent = label(status);
        item.append(title);
        const when = seen.get(status);
        const note = document.createElement("span");
        note.className = "when";
        note.textContent = when
          ? new Date(when).toLocaleString()
          : item.dataset.state === "upcoming" ? "not yet" : "";
        item.append(note);
        return item;
      }),
    );
    const reason = order.statusHistory.at(-1)?.reason;
    const final = FINAL.has(current) ? " (final)" : "";
    show($("status-now"), `Status: ${label(current)}${final}.`);
    $("status-now").dataset.status = current;
    if (current === "failed" && reason) $("status-now").textContent += ` ${reason}`;
  }

  /** @param {OrderOut} order */
  renderTransactions(order) {
    // A withdrawal is the payout, or on the refund path the deposit going back (in the sent currency).
    const refunded = order.status === "refunding" || order.status === "refunded";
    const [kind, currency] = refunded ? ["Refund", order.from.currency] : ["Payout", order.to.currency];
    const items = [
      ...order.deposits.filter((d) => d.txId).map((d) => [`Your deposit of ${d.amount ?? "?"} ${order.deposit.currency}`, d.txId]),
      ...order.withdrawals.filter((w) => w.txId).map((w) => [`${kind} of ${readable(w.amount)} ${currency}`, w.txId]),
    ];
    $("txids").hidden = items.length === 0;
    $("txid-list").replaceChildren(
      ...items.map(([what, txId]) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = `${what}: `;
        const code = document.createElement("code");
        code.className = "mono wrap";
        code.textContent = txId || "";
        item.append(name, code);
        return item;
      }),
    );
  }
}

/**
 * The QR code of the deposit address, drawn as one SVG path from the library's module matrix (DOM
 * calls only: no HTML strings, nothing the page's Content-Security-Policy has to allow).
 * @param {string} text
 */
function renderQr(text) {
  const figure = $("qr");
  const holder = $("qr-code");
  if (!text) {
    figure.hidden = true;
    holder.replaceChildren();
    return;
  }
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const margin = 4;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) path += `M${col + margin} ${row + margin}h1v1h-1z`;
    }
  }
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const size = count + margin * 2;
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `QR code of the deposit address ${text}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(ns, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(ns, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  holder.replaceChildren(svg);
  holder.dataset.text = text;
  figure.hidden = false;
}

/** @param {HTMLButtonElement} button */
async function copy(button) {
  const source = $(button.dataset.copy || "");
  const text = source.textContent || "";
  const status = $("copy-status");
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = `${button.getAttribute("aria-label")?.replace(/^Copy /, "") || "Text"} copied.`;
  } catch {
    // No clipboard permission (an insecure origin, a locked-down browser): select it for a manual copy.
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
  }
  const was = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = was), 1500);
}

// @ts-check
// The storefront: pick a pair, see a live quote, give a validated destination, create the order
// once (Idempotency-Key kept across clicks and reloads), then follow it. Everything the page knows
// comes from the public API; it never holds an exchange key or signs anything.

import { Api, ApiError } from "./api.js";
import { AddressField } from "./address.js";
import { OrderView } from "./order.js";
import { Quote } from "./quote.js";
import {
  anonymousUserId,
  clearPendingCreate,
  connectionOverrides,
  idempotencyKeyFor,
  orderIdFromUrl,
  pendingCreate,
  saveConnectionOverrides,
  setOrderIdInUrl,
} from "./store.js";
import { $, setFieldError, show, sleep } from "./ui.js";

/** @typedef {import("./api-types.js").InstrumentOut} InstrumentOut */
/** @typedef {import("./api-types.js").CreateOrderBody} CreateOrderBody */
/** @typedef {import("./api-types.js").OrderOut} OrderOut */

const config = /** @type {any} */ (window).STOREFRONT_CONFIG || {};
const overrides = connectionOverrides();
const auth = overrides.token || config.auth === "jwt" ? "jwt" : "none";
const api = new Api({
  apiBaseUrl: overrides.apiBaseUrl ?? config.apiBaseUrl ?? "",
  auth,
  token: () => (typeof config.getToken === "function" ? config.getToken() : overrides.token || null),
});

/** @type {InstrumentOut[]} */
let instruments = [];
let creating = false;

/** @type {HTMLFormElement} */
const form = $("exchange-form");
/** @type {HTMLSelectElement} */
const fromSelect = $("from");
/** @type {HTMLSelectElement} */
const toSelect = $("to");
/** @type {HTMLInputElement} */
const amountInput = $("amount");
/** @type {HTMLButtonElement} */
const submit = $("submit");

/** @param {HTMLSelectElement} select */
const selected = (select) => instruments[Number(select.value)] ?? null;
const rateMode = () =>
  /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="rateMode"]:checked'))?.value || "FLOATING";

const quote = new Quote({
  api,
  read: () => ({ from: selected(fromSelect), to: selected(toSelect), amount: amountInput.value.trim(), rateMode: rateMode() }),
  onChange: () => updateSubmit(),
});
const destination = new AddressField({
  api,
  id: "destination",
  memoId: "memo",
  memoFieldId: "memo-field",
  optional: false,
  instrument: () => selected(toSelect),
  onChange: () => updateSubmit(),
});
const refund = new AddressField({
  api,
  id: "refund",
  memoId: "refund-memo",
  memoFieldId: "refund-memo-field",
  optional: true,
  instrument: () => selected(fromSelect),
  onChange: () => updateSubmit(),
});
const orderView = new OrderView({
  api,
  polling: {
    pollInitialMs: Number(config.pollInitialMs) || 1000,
    pollFactor: Number(config.pollFactor) || 1.5,
    pollMaxMs: Number(config.pollMaxMs) || 15000,
  },
});

/** Why the button is disabled, in words (read out with it), or "" when it is enabled. */
function blocker() {
  if (creating) return "Creating your order...";
  if (!quote.ok) return "Waiting for a valid quote.";
  if (destination.state === "empty") return "Enter the address that receives the funds.";
  if (destination.state === "checking" || refund.state === "checking") return "Checking the address...";
  if (!destination.valid) return "Fix the receiving address (or its tag) to continue.";
  if (!refund.valid) return "Fix the refund address, or leave it empty.";
  return "";
}

function updateSubmit() {
  const reason = blocker();
  submit.disabled = reason !== "";
  $("submit-hint").textContent = reason || "Ready: the order is created only once, however often you click.";
}

/** @param {InstrumentOut} i */
function optionText(i) {
  const network = i.network === i.currency ? "" : ` on ${i.network}`;
  return `${i.name} (${i.currency}${network})`;
}

/**
 * Both selects list every instrument the API lists, grouped by kind. Legs an order cannot use are
 * there but disabled and say why: fiat (the exchange takes crypto deposits and pays out crypto) and,
 * for "receive", the very instrument being sent.
 * @param {HTMLSelectElement} select
 * @param {InstrumentOut | null} exclude
 */
function fillSelect(select, exclude) {
  const keep = select.value;
  const groups = [
    ["Crypto", instruments.map((i, n) => [i, n]).filter(([i]) => /** @type {InstrumentOut} */ (i).kind === "crypto")],
    ["Fiat (not available for orders)", instruments.map((i, n) => [i, n]).filter(([i]) => /** @type {InstrumentOut} */ (i).kind === "fiat")],
  ];
  select.replaceChildren(
    ...groups
      .filter(([, items]) => items.length)
      .map(([title, items]) => {
        const group = document.createElement("optgroup");
        group.label = /** @type {string} */ (title);
        for (const [item, index] of /** @type {[InstrumentOut, number][]} */ (items)) {
          const option = document.createElement("option");
          option.value = String(index);
          option.textContent = optionText(item);
          if (item.kind === "fiat") {
            option.disabled = true;
            option.textContent += " - unavailable";
          } else if (item === exclude) {
            option.disabled = true;
            option.textContent += " - same as you send";
          }
          group.append(option);
        }
        return group;
      }),
  );
  if (keep) select.value = keep;
}

/**
 * @param {HTMLSelectElement} select
 * @param {string} currency
 * @param {string} network
 */
function choose(select, currency, network) {
  const index = instruments.findIndex((i) => i.currency === currency && i.network === network);
  if (index >= 0) select.value = String(index);
  return index >= 0;
}

function pairChanged() {
  const from = selected(fromSelect);
  fillSelect(toSelect, from);
  if (selected(toSelect) === from || !selected(toSelect)) {
    const other = instruments.findIndex((i) => i.kind === "crypto" && i !== from);
    toSelect.value = String(other);
  }
  for (const span of document.querySelectorAll(".to-name")) span.textContent = selected(toSelect)?.currency || "receiving";
  for (const span of document.querySelectorAll(".from-name")) span.textContent = selected(fromSelect)?.currency || "sending";
}

function wireForm() {
  fromSelect.addEventListener("change", () => {
    pairChanged();
    quote.schedule(0);
    refund.networkChanged();
    destination.networkChanged();
  });
  toSelect.addEventListener("change", () => {
    pairChanged();
    quote.schedule(0);
    destination.networkChanged();
  });
  amountInput.addEventListener("input", () => quote.schedule());
  for (const radio of form.querySelectorAll('input[name="rateMode"]')) radio.addEventListener("change", () => quote.schedule(0));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!submit.disabled && !creating) void create(orderBody());
  });
  $("new-order").addEventListener("click", () => {
    orderView.stop();
    setOrderIdInUrl(null);
    void route();
  });
  window.addEventListener("popstate", () => void route());
}

/** @returns {CreateOrderBody} */
function orderBody() {
  const from = /** @type {InstrumentOut} */ (selected(fromSelect));
  const to = /** @type {InstrumentOut} */ (selected(toSelect));
  /** @type {CreateOrderBody} */
  const body = {
    from: { currency: from.currency, network: from.network },
    to: { currency: to.currency, network: to.network },
    amount: amountInput.value.trim(),
    rateMode: rateMode() === "FIXED" ? "FIXED" : "FLOATING",
    destination: /** @type {{address: string, memo?: string}} */ (destination.value()),
  };
  const refundParty = refund.value();
  if (refundParty) body.refund = refundParty;
  if (auth === "none") body.userId = anonymousUserId();
  return body;
}

/**
 * Create the order. The key is stored (with the body) before the request leaves; the same body gets
 * the same key, so a second click, a retry after a lost answer or a reload returns the same order.
 * @param {CreateOrderBody} body
 */
async function create(body) {
  creating = true;
  updateSubmit();
  submit.textContent = "Creating...";
  show($("form-error"), "");
  const key = idempotencyKeyFor(body);
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const order = await api.createOrder(body, key);
        clearPendingCreate();
        setOrderIdInUrl(order.id);
        showOrder(order);
        return;
      } catch (error) {
        // 409: the same key is being placed by another request right now; its order is coming.
        if (error instanceof ApiError && error.status === 409 && attempt < 6) {
          await sleep(500 * attempt);
          continue;
        }
        throw error;
      }
    }
  } catch (error) {
    if (error instanceof ApiError && !error.transient && error.status !== 409) clearPendingCreate();
    showCreateError(error);
  } finally {
    creating = false;
    submit.textContent = "Create order";
    updateSubmit();
  }
}

/** @param {unknown} error */
function showCreateError(error) {
  if (!(error instanceof ApiError)) {
    show($("form-error"), "The order could not be created.");
    return;
  }
  /** @type {string[]} */
  const unplaced = [];
  for (const { field, reason } of error.fields) {
    const [party, part] = field.split(".");
    if (party === "destination" || party === "refund") {
      (party === "destination" ? destination : refund).showApiError(part === "memo" ? "memo" : "address", reason);
    } else if (field === "rateMode") setFieldError("rate-mode-error", reason);
    else if (["from", "to", "amount"].includes(field)) setFieldError(`${field}-error`, reason, $(field));
    else unplaced.push(`${field}: ${reason}`);
  }
  const safe = error.transient ? " Nothing was charged twice: click again and the same order is used." : "";
  const summary = error.fields.length ? "Please correct the fields marked below." : error.message;
  show($("form-error"), [summary + safe, ...unplaced].join(" "));
}

/** @param {OrderOut} order */
function showOrder(order) {
  form.hidden = true;
  quote.stop();
  show($("page-status"), "");
  orderView.show(order);
  $("order-heading").focus();
}

/** Put a pending create's body back into the form (after a reload). @param {CreateOrderBody} body */
function restoreForm(body) {
  choose(fromSelect, body.from.currency, body.from.network);
  pairChanged();
  choose(toSelect, body.to.currency, body.to.network);
  pairChanged();
  amountInput.value = body.amount;
  const radio = /** @type {HTMLInputElement | null} */ (form.querySelector(`input[name="rateMode"][value="${body.rateMode}"]`));
  if (radio) radio.checked = true;
  /** @type {HTMLInputElement} */ ($("destination")).value = body.destination.address;
  /** @type {HTMLInputElement} */ ($("memo")).value = body.destination.memo || "";
  /** @type {HTMLInputElement} */ ($("refund")).value = body.refund?.address || "";
  /** @type {HTMLInputElement} */ ($("refund-memo")).value = body.refund?.memo || "";
}

/** Show what the URL names: an order, or the form (finishing an interrupted create first). */
async function route() {
  const orderId = orderIdFromUrl();
  orderView.stop();
  if (orderId) {
    form.hidden = true;
    show($("page-status"), "Loading your order...");
    try {
      showOrder(await api.order(orderId));
    } catch (error) {
      $("order").hidden = true;
      const missing = error instanceof ApiError && error.status === 404;
      show($("page-status"), missing ? `No order ${orderId} was found.` : `The order could not be loaded: ${error instanceof ApiError ? error.message : error}`);
      form.hidden = false;
    }
    return;
  }
  $("order").hidden = true;
  form.hidden = false;
  show($("page-status"), "");
  const pending = pendingCreate();
  if (pending) {
    // The tab was closed or reloaded while an order was being created, so its outcome is unknown:
    // placing it again with the same key returns that order, or creates it once if it never arrived.
    restoreForm(pending.body);
    show($("page-status"), "Finishing the order you were creating...");
    await create(pending.body);
    if (orderIdFromUrl()) return;
    show($("page-status"), "");
  }
  quote.schedule(0);
  destination.schedule(0);
  refund.schedule(0);
}

function wireConnection() {
  /** @type {HTMLInputElement} */
  const url = $("api-url");
  /** @type {HTMLInputElement} */
  const token = $("api-token");
  url.value = overrides.apiBaseUrl ?? config.apiBaseUrl ?? "";
  token.value = overrides.token || "";
  $("token-field").hidden = typeof config.getToken === "function";
  $("connection-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveConnectionOverrides({ apiBaseUrl: url.value.trim(), token: token.value.trim() });
    location.reload();
  });
  show($("connection-state"), `Talking to ${api.connection.apiBaseUrl || location.origin} (${auth === "jwt" ? "JWT" : "no auth"}).`);
}

async function start() {
  wireConnection();
  wireForm();
  show($("page-status"), "Loading the currencies...");
  try {
    instruments = (await api.instruments()).instruments;
  } catch (error) {
    show($("page-status"), `The currencies could not be loaded: ${error instanceof ApiError ? error.message : error}`);
    // Refused for want of a token: open the panel where a developer can give one.
    if (error instanceof ApiError && error.status === 401) /** @type {HTMLDetailsElement} */ ($("connection")).open = true;
    return;
  }
  fillSelect(fromSelect, null);
  if (!choose(fromSelect, "BTC", "BTC")) fromSelect.value = String(instruments.findIndex((i) => i.kind === "crypto"));
  pairChanged();
  choose(toSelect, "ETH", "ERC20");
  pairChanged();
  show($("page-status"), "");
  updateSubmit();
  await route();
}

void start();

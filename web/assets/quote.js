// @ts-check
// The live quote: GET /rates for the pair, amount and rate mode, debounced while typing, refreshed
// every REFRESH_MS (a floating rate moves) and as soon as a fixed rate's expiry passes, with the
// remaining time shown as a countdown. Its field errors (amount limits, unsupported route) go next
// to the field they name.

import { ApiError } from "./api.js";
import { $, clock, readable, setFieldError, show } from "./ui.js";

/** @typedef {import("./api.js").Api} Api */
/** @typedef {import("./api-types.js").InstrumentOut} InstrumentOut */
/** @typedef {import("./api-types.js").RateOut} RateOut */

const DEBOUNCE_MS = 400;
const REFRESH_MS = 30000;
const DECIMAL = /^(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?$/;

/**
 * @param {string} id
 * @param {string} text
 */
function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) element.textContent = text;
}

/** The quote's field names as the API reports them, and where each one's error is shown. */
const FIELD_ERRORS = { from: "from-error", to: "to-error", amount: "amount-error", rateMode: "rate-mode-error" };

export class Quote {
  /**
   * @param {object} options
   * @param {Api} options.api
   * @param {() => {from: InstrumentOut | null, to: InstrumentOut | null, amount: string, rateMode: string}} options.read
   * @param {() => void} options.onChange
   */
  constructor({ api, read, onChange }) {
    this.api = api;
    this.read = read;
    this.onChange = onChange;
    /** @type {RateOut | null} */
    this.current = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.ticker = undefined;
    /** @type {AbortController | null} */
    this.inflight = null;
    this.state = $("quote-state");
    this.details = $("quote-details");
  }

  /** A quote for exactly what the form says now (the submit button waits for one). */
  get ok() {
    return this.current !== null;
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.inflight?.abort();
  }

  schedule(delay = DEBOUNCE_MS) {
    this.stop();
    this.current = null;
    const { from, to, amount } = this.read();
    this.clearErrors();
    if (!from || !to) return this.idle("Pick what you send and what you receive.");
    if (!amount) return this.idle("Enter an amount to see a quote.");
    if (!DECIMAL.test(amount)) {
      this.showError("amount", 'Write the amount as a plain number, like "0.05".');
      return this.idle("");
    }
    show(this.state, "Getting a quote...");
    this.onChange();
    this.timer = setTimeout(() => void this.fetch(), delay);
  }

  /** @param {string} text */
  idle(text) {
    show(this.state, text);
    this.details.hidden = true;
    this.onChange();
  }

  async fetch() {
    const { from, to, amount, rateMode } = this.read();
    if (!from || !to) return;
    const controller = new AbortController();
    this.inflight = controller;
    const query = {
      from: from.currency,
      fromNetwork: from.network,
      to: to.currency,
      toNetwork: to.network,
      amount,
      rateMode,
    };
    try {
      const rate = await this.api.rate(query, controller.signal);
      if (controller.signal.aborted) return;
      this.current = rate;
      this.render(rate, from, to);
      this.plan(rate);
    } catch (error) {
      if (controller.signal.aborted) return;
      this.current = null;
      this.details.hidden = true;
      if (error instanceof ApiError && error.transient) {
        const wait = (error.retryAfterSeconds || 5) * 1000;
        show(this.state, `${error.message} Retrying in ${Math.round(wait / 1000)} s.`);
        this.timer = setTimeout(() => void this.fetch(), wait);
      } else if (error instanceof ApiError && error.code === "unsupported_route" && rateMode === "FIXED") {
        show(this.state, "");
        await this.explainFixed(query, error, controller.signal);
      } else if (error instanceof ApiError) {
        show(this.state, "");
        this.showApiErrors(error);
      } else {
        show(this.state, "The quote could not be read.");
      }
    }
    this.onChange();
  }

  /**
   * The exchange refuses some pairs only at a fixed rate; the API reports both as an unsupported
   * route. One floating quote tells which, so the reason lands on the field that can fix it.
   * @param {Record<string, string>} query
   * @param {ApiError} error
   * @param {AbortSignal} signal
   */
  async explainFixed(query, error, signal) {
    try {
      await this.api.rate({ ...query, rateMode: "FLOATING" }, signal);
      if (!signal.aborted) this.showError("rateMode", "A fixed rate is not available for this pair: choose Floating.");
    } catch {
      if (!signal.aborted) this.showApiErrors(error);
    }
  }

  /** @param {ApiError} error */
  showApiErrors(error) {
    const placed = error.fields.filter((f) => f.field in FIELD_ERRORS);
    for (const { field, reason } of placed) this.showError(field, reason);
    if (!placed.length) this.showError(error.code === "unsupported_route" ? "to" : "amount", error.message);
  }

  /**
   * @param {string} field
   * @param {string} reason
   */
  showError(field, reason) {
    const errorId = FIELD_ERRORS[/** @type {keyof typeof FIELD_ERRORS} */ (field)] || "amount-error";
    const control = errorId === "rate-mode-error" ? null : document.getElementById(errorId.replace(/-error$/, ""));
    setFieldError(errorId, reason, control);
  }

  clearErrors() {
    for (const errorId of Object.values(FIELD_ERRORS)) {
      const control = errorId === "rate-mode-error" ? null : document.getElementById(errorId.replace(/-error$/, ""));
      setFieldError(errorId, null, control);
    }
  }

  /**
   * @param {RateOut} rate
   * @param {InstrumentOut} from
   * @param {InstrumentOut} to
   */
  render(rate, from, to) {
    show(this.state, "");
    // Only what changed is rewritten: the quote is a live region, and a refresh that moved nothing
    // should not be read out again every 30 s.
    const max = rate.max ? `${readable(rate.max)} ${from.currency}` : "no maximum";
    setText("quote-receive", `${readable(rate.amountToReceive)} ${to.currency}`);
    setText("quote-rate", `1 ${from.currency} = ${readable(rate.rate)} ${to.currency}`);
    setText("quote-fee", `${readable(rate.networkFee)} ${to.currency} (included)`);
    setText("quote-limits", `${readable(rate.min)} to ${max}`);
    setText("amount-hint", `Between ${readable(rate.min)} and ${max}.`);
    this.details.hidden = false;
  }

  /** Refresh a floating quote now and then; count a fixed one down and refresh it when it lapses. @param {RateOut} rate */
  plan(rate) {
    const row = $("quote-expiry-row");
    const expiry = rate.expiresAt ? Date.parse(rate.expiresAt) : NaN;
    if (Number.isNaN(expiry)) {
      row.hidden = true;
      this.timer = setTimeout(() => void this.fetch(), REFRESH_MS);
      return;
    }
    row.hidden = false;
    const tick = () => {
      const left = (expiry - Date.now()) / 1000;
      $("quote-expiry").textContent = left > 0 ? clock(left) : "expired, refreshing...";
      if (left <= 0) {
        clearInterval(this.ticker);
        this.current = null;
        this.onChange();
        void this.fetch();
      }
    };
    tick();
    this.ticker = setInterval(tick, 1000);
  }
}

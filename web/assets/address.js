// @ts-check
// One address (+ memo/tag) input validated as it is typed: debounced, the previous check aborted,
// POST /addresses/validate answering {valid, memoRequired, reason}. The memo field appears when the
// network needs one (the catalogue says so up front; the verdict confirms it).

import { ApiError } from "./api.js";
import { $, setFieldError, show } from "./ui.js";

/** @typedef {import("./api.js").Api} Api */
/** @typedef {import("./api-types.js").InstrumentOut} InstrumentOut */
/** @typedef {import("./api-types.js").AddressVerdictOut} AddressVerdictOut */
/** @typedef {"empty" | "checking" | "valid" | "invalid" | "unknown"} AddressState */

const DEBOUNCE_MS = 350;

export class AddressField {
  /**
   * @param {object} options
   * @param {Api} options.api
   * @param {string} options.id the address input's id; its memo parts are found by convention
   * @param {string} options.memoId
   * @param {string} options.memoFieldId
   * @param {boolean} options.optional an empty optional address counts as valid
   * @param {() => InstrumentOut | null} options.instrument the network the address is on
   * @param {() => void} options.onChange
   */
  constructor({ api, id, memoId, memoFieldId, optional, instrument, onChange }) {
    this.api = api;
    this.id = id;
    this.memoId = memoId;
    this.optional = optional;
    this.instrument = instrument;
    this.onChange = onChange;
    /** @type {HTMLInputElement} */
    this.input = $(id);
    /** @type {HTMLInputElement} */
    this.memo = $(memoId);
    this.memoField = $(memoFieldId);
    this.stateText = $(`${id}-state`);
    /** @type {AddressState} */
    this.state = optional ? "valid" : "empty";
    this.memoRequired = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {AbortController | null} */
    this.inflight = null;
    this.input.addEventListener("input", () => this.schedule());
    this.memo.addEventListener("input", () => this.schedule());
  }

  get valid() {
    return this.state === "valid";
  }

  /** @returns {{address: string, memo?: string} | null} */
  value() {
    const address = this.input.value.trim();
    if (!address) return null;
    const memo = this.memo.value.trim();
    return memo && this.needsMemo() ? { address, memo } : { address };
  }

  needsMemo() {
    return Boolean(this.instrument()?.requiresMemo) || this.memoRequired;
  }

  /** The network changed: the memo rule and the verdict may change with it. */
  networkChanged() {
    this.memoRequired = false;
    this.schedule(0);
  }

  /**
   * An error the API gave for this field when the order was created.
   * @param {"address" | "memo"} part
   * @param {string} reason
   */
  showApiError(part, reason) {
    this.state = "invalid";
    if (part === "memo") this.memoField.hidden = false;
    setFieldError(part === "memo" ? `${this.memoId}-error` : `${this.id}-error`, reason, part === "memo" ? this.memo : this.input);
    this.onChange();
  }

  schedule(delay = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    this.inflight?.abort();
    this.memoField.hidden = !this.needsMemo();
    const address = this.input.value.trim();
    if (!address) {
      this.render(this.optional ? "valid" : "empty", "", null, null);
      return;
    }
    this.render("checking", "Checking the address...", null, null);
    this.timer = setTimeout(() => void this.check(), delay);
  }

  async check() {
    const instrument = this.instrument();
    const value = this.value();
    if (!instrument || !value) return;
    const controller = new AbortController();
    this.inflight = controller;
    const body = { currency: instrument.currency, network: instrument.network, ...value };
    try {
      const verdict = await this.api.validateAddress(body, controller.signal);
      if (controller.signal.aborted) return;
      this.memoRequired = verdict.memoRequired;
      this.memoField.hidden = !this.needsMemo();
      this.apply(verdict, value.memo);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && !error.transient) {
        const reason = error.fields.find((f) => f.field === "memo")?.reason;
        if (reason) this.render("invalid", "", null, reason);
        else this.render("invalid", "", error.fields[0]?.reason || error.message, null);
      } else {
        const message = error instanceof ApiError ? error.message : "The address could not be checked.";
        this.render("unknown", "", `${message} Edit the address to check again.`, null);
      }
    }
  }

  /**
   * Place the verdict's reason on the part it concerns. The API checks the address first, so a
   * reason with a tag typed is about the memo when the address alone fails only for the missing tag.
   * @param {AddressVerdictOut} verdict
   * @param {string | undefined} memo
   */
  apply(verdict, memo) {
    const label = this.instrument()?.network || "";
    if (verdict.valid) {
      this.render("valid", `Valid ${label} address${memo ? " and tag" : ""}.`, null, null);
      return;
    }
    const reason = verdict.reason || "This address is not valid.";
    if (verdict.memoRequired && !memo && / is required$/.test(reason)) {
      // The address passed; only the tag is missing (the API's reason says exactly that).
      this.render("invalid", `Valid ${label} address; it needs its tag.`, null, reason);
    } else if (verdict.memoRequired && memo) {
      void this.attribute(reason);
    } else {
      this.render("invalid", "", reason, null);
    }
  }

  /**
   * With a memo typed and the pair refused: ask once more without the memo. A different answer means
   * the address itself passed, so the reason belongs to the memo.
   * @param {string} reason
   */
  async attribute(reason) {
    const instrument = this.instrument();
    const address = this.input.value.trim();
    if (!instrument) return;
    const controller = new AbortController();
    this.inflight = controller;
    try {
      const alone = await this.api.validateAddress(
        { currency: instrument.currency, network: instrument.network, address },
        controller.signal,
      );
      if (controller.signal.aborted) return;
      if (alone.reason !== reason) this.render("invalid", "", null, reason);
      else this.render("invalid", "", reason, null);
    } catch {
      if (!controller.signal.aborted) this.render("invalid", "", reason, null);
    }
  }

  /**
   * @param {AddressState} state
   * @param {string} note
   * @param {string | null} addressError
   * @param {string | null} memoError
   */
  render(state, note, addressError, memoError) {
    this.state = state;
    show(this.stateText, note);
    this.stateText.dataset.state = state;
    setFieldError(`${this.id}-error`, addressError, this.input);
    setFieldError(`${this.memoId}-error`, memoError, this.memo);
    this.onChange();
  }
}

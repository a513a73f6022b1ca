// @ts-check
// Small DOM helpers: element lookup that fails loudly, field errors wired to aria-invalid, money text.

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing element #${id}`);
  return /** @type {T} */ (element);
}

/**
 * Show (or clear, with null) the error of one field: the text next to it, and aria-invalid on the
 * control so a screen reader announces it with the field.
 * @param {string} errorId the id of the <p class="field-error">
 * @param {string | null} message
 * @param {HTMLElement | null} [control]
 */
export function setFieldError(errorId, message, control = null) {
  const element = $(errorId);
  element.textContent = message || "";
  element.hidden = !message;
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

/**
 * @param {HTMLElement} element
 * @param {string} text
 */
export function show(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

/**
 * A decimal string shortened for reading (the API's strings carry up to 18 places); never parsed
 * into a float, so nothing is rounded the wrong way.
 * @param {string | null | undefined} value
 * @param {number} [places]
 */
export function readable(value, places = 8) {
  if (!value) return "-";
  const [whole, fraction = ""] = value.split(".");
  const cut = fraction.slice(0, places).replace(/0+$/, "");
  return cut ? `${whole}.${cut}` : whole;
}

/** @param {number} seconds */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Resolves after `ms`, or at once when the signal aborts.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

// @ts-check
// The one place that talks HTTP: base URL and token from the configuration, the API's error shape
// turned into ApiError (code, message, per-field reasons, Retry-After), nothing else.

/** @typedef {import("./api-types.js").FieldReason} FieldReason */
/** @typedef {import("./api-types.js").InstrumentsOut} InstrumentsOut */
/** @typedef {import("./api-types.js").RateOut} RateOut */
/** @typedef {import("./api-types.js").AddressVerdictOut} AddressVerdictOut */
/** @typedef {import("./api-types.js").AddressValidateBody} AddressValidateBody */
/** @typedef {import("./api-types.js").CreateOrderBody} CreateOrderBody */
/** @typedef {import("./api-types.js").OrderOut} OrderOut */

/**
 * @typedef {object} Connection
 * @property {string} apiBaseUrl
 * @property {"none" | "jwt"} auth
 * @property {() => (string | null | Promise<string | null>)} token
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the network failed before any answer
   * @param {string} code
   * @param {string} message
   * @param {FieldReason[]} fields
   * @param {number | null} retryAfterSeconds
   */
  constructor(status, code, message, fields = [], retryAfterSeconds = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A failure worth retrying later with the same request (network, throttling, outage). */
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Words for the statuses API Gateway answers itself, with no error body of ours. */
const GATEWAY_MESSAGES = {
  401: "You are signed out: sign in again.",
  403: "This page is not allowed to call the API.",
  404: "Not found.",
  413: "The request is too large.",
  500: "The service failed. Try again in a moment.",
  503: "The service is unavailable. Try again in a moment.",
};

export class Api {
  /** @param {Connection} connection */
  constructor(connection) {
    this.connection = connection;
  }

  /** @returns {Promise<InstrumentsOut>} */
  instruments() {
    return this.request("GET", "/instruments");
  }

  /**
   * @param {Record<string, string>} query
   * @param {AbortSignal} [signal]
   * @returns {Promise<RateOut>}
   */
  rate(query, signal) {
    return this.request("GET", `/rates?${new URLSearchParams(query)}`, { signal });
  }

  /**
   * @param {AddressValidateBody} body
   * @param {AbortSignal} [signal]
   * @returns {Promise<AddressVerdictOut>}
   */
  validateAddress(body, signal) {
    return this.request("POST", "/addresses/validate", { body, signal });
  }

  /**
   * @param {CreateOrderBody} body
   * @param {string} idempotencyKey
   * @returns {Promise<OrderOut>}
   */
  createOrder(body, idempotencyKey) {
    return this.request("POST", "/orders", { body, headers: { "Idempotency-Key": idempotencyKey } });
  }

  /**
   * @param {string} orderId
   * @returns {Promise<OrderOut>}
   */
  order(orderId) {
    return this.request("GET", `/orders/${encodeURIComponent(orderId)}`);
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{body?: unknown, headers?: Record<string, string>, signal?: AbortSignal}} [options]
   */
  async request(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (this.connection.auth === "jwt") {
      const token = await this.connection.token();
      if (!token) throw new ApiError(401, "no_token", "Sign in first: this API needs a token (see Connection).");
      headers.Authorization = `Bearer ${token}`;
    }
    let response;
    try {
      response = await fetch(this.connection.apiBaseUrl.replace(/\/+$/, "") + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network", "Cannot reach the service. Check your connection; retrying is safe.");
    }
    const payload = await response.json().catch(() => null);
    if (response.ok) return payload;
    throw toApiError(response, payload);
  }
}

/**
 * @param {Response} response
 * @param {any} payload
 */
function toApiError(response, payload) {
  const retryAfter = Number(response.headers.get("Retry-After"));
  const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;
  const detail = payload && typeof payload === "object" ? payload.error : null;
  if (detail && typeof detail.message === "string") {
    const fields = Array.isArray(detail.fields) ? detail.fields : [];
    return new ApiError(response.status, String(detail.code || "error"), detail.message, fields, seconds);
  }
  const status = /** @type {keyof typeof GATEWAY_MESSAGES} */ (response.status);
  const message = GATEWAY_MESSAGES[status] || `The service answered ${response.status}.`;
  return new ApiError(response.status, "http_" + response.status, message, [], seconds);
}

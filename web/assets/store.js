// @ts-check
// What the page keeps between clicks and reloads: the order id in the URL (shareable, reload-safe),
// the pending create (body + Idempotency-Key) in sessionStorage so a double click, a lost answer or a
// reload replays the same key instead of placing a second order, and the developer's connection
// overrides for this tab. Never a secret of the backend: only the user's own token, and only here.

/** @typedef {import("./api-types.js").CreateOrderBody} CreateOrderBody */

const PENDING_KEY = "storefront.pendingCreate";
const USER_KEY = "storefront.anonymousUser";
const CONNECTION_KEY = "storefront.connection";

/** A random id from the platform's CSPRNG (crypto.randomUUID needs a secure context). */
export function randomId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {unknown} value */
function canonical(value) {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * The Idempotency-Key for this body: the stored one when the same body is being placed again (a
 * second click, a retry after a lost answer, a reload), a fresh one when anything in it changed.
 * Stored before the request leaves, so the key exists even if the tab dies mid-request.
 * @param {CreateOrderBody} body
 * @returns {string}
 */
export function idempotencyKeyFor(body) {
  const pending = pendingCreate();
  if (pending && canonical(pending.body) === canonical(body)) return pending.key;
  const key = randomId();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ key, body }));
  return key;
}

/** @returns {{key: string, body: CreateOrderBody} | null} */
export function pendingCreate() {
  try {
    const value = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
    return value && typeof value.key === "string" && value.body ? value : null;
  } catch {
    return null;
  }
}

export function clearPendingCreate() {
  sessionStorage.removeItem(PENDING_KEY);
}

/** AuthMode NONE needs a userId in the body; an anonymous one per browser stands in for a login. */
export function anonymousUserId() {
  let id = localStorage.getItem(USER_KEY);
  if (!id) {
    id = `web-${randomId()}`;
    localStorage.setItem(USER_KEY, id);
  }
  return id;
}

/** @returns {string | null} */
export function orderIdFromUrl() {
  return new URL(location.href).searchParams.get("order");
}

/** @param {string | null} orderId */
export function setOrderIdInUrl(orderId) {
  const url = new URL(location.href);
  if (orderId) url.searchParams.set("order", orderId);
  else url.searchParams.delete("order");
  history.pushState(null, "", url);
}

/** @returns {{apiBaseUrl?: string, token?: string}} */
export function connectionOverrides() {
  try {
    return JSON.parse(sessionStorage.getItem(CONNECTION_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

/** @param {{apiBaseUrl: string, token: string}} value */
export function saveConnectionOverrides(value) {
  sessionStorage.setItem(CONNECTION_KEY, JSON.stringify(value));
}

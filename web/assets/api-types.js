// @ts-check
// The API's JSON shapes, by the schema names of openapi.json. They are not written here: api.gen.d.ts
// is generated from the committed openapi.json by openapi-typescript (`make web-types`, also run by
// `make openapi`; `make openapi-check` fails when it is stale), and these typedefs only name its
// schemas so the page's modules import short names from one place. A property renamed or removed in
// the API therefore fails `tsc -p web` (`make typecheck`) wherever the page still reads it.

/** @typedef {import("./api.gen").components["schemas"]} Schemas */

/** @typedef {Schemas["InstrumentOut"]} InstrumentOut */
/** @typedef {Schemas["InstrumentsOut"]} InstrumentsOut */
/** @typedef {Schemas["LegOut"]} LegOut */
/** @typedef {Schemas["RateOut"]} RateOut */
/** @typedef {Schemas["AddressVerdictOut"]} AddressVerdictOut */
/** @typedef {Schemas["DepositOut"]} DepositOut */
/** @typedef {Schemas["PartyOut"]} PartyOut */
/** @typedef {Schemas["StatusChangeOut"]} StatusChangeOut */
/** @typedef {Schemas["DepositSeenOut"]} DepositSeenOut */
/** @typedef {Schemas["WithdrawalOut"]} WithdrawalOut */
/** @typedef {Schemas["OrderOut"]} OrderOut */
/** @typedef {Schemas["OrderStatus"]} OrderStatus */
/** @typedef {Schemas["LegIn"]} LegIn */
/** @typedef {Schemas["PartyIn"]} PartyIn */
/** @typedef {Schemas["CreateOrderBody"]} CreateOrderBody */
/** @typedef {Schemas["AddressValidateBody"]} AddressValidateBody */
/** @typedef {Schemas["FieldReason"]} FieldReason */
/** @typedef {Schemas["ErrorDetail"]} ErrorDetail */

/** GET /rates' query parameters, from the operation (they are not a schema). */
/** @typedef {import("./api.gen").operations["getRate"]["parameters"]["query"]} RateQuery */

export {};

// @ts-check
// The API's JSON shapes as the page uses them, written as JSDoc typedefs so plain JavaScript gets
// editor checking without a build step. They mirror the schemas of the committed openapi.json
// (tests/unit/test_storefront_types.py fails when a property here is missing from a schema there).
// When the project generates client types from openapi.json, replace this file with the generated
// one and keep these typedef names (the modules import them from here).

/**
 * @typedef {object} InstrumentOut
 * @property {string} currency
 * @property {string} network
 * @property {string} name
 * @property {"crypto" | "fiat"} kind
 * @property {boolean} requiresMemo
 * @property {number | null} precision
 * @property {string | null} slug
 */

/**
 * @typedef {object} InstrumentsOut
 * @property {InstrumentOut[]} instruments
 */

/**
 * @typedef {object} LegOut
 * @property {string} currency
 * @property {string} network
 */

/**
 * @typedef {object} RateOut
 * @property {LegOut} from
 * @property {LegOut} to
 * @property {string | null} amount
 * @property {string | null} amountToReceive
 * @property {string | null} rate
 * @property {string | null} networkFee
 * @property {string | null} min
 * @property {string | null} max
 * @property {string} rateMode
 * @property {string | null} expiresAt
 */

/**
 * @typedef {object} AddressVerdictOut
 * @property {boolean} valid
 * @property {boolean} memoRequired
 * @property {string | null} reason
 */

/**
 * @typedef {object} DepositOut
 * @property {string | null} address
 * @property {string | null} memo
 * @property {string} amount
 * @property {string} currency
 * @property {string} network
 */

/**
 * @typedef {object} PartyOut
 * @property {string} address
 * @property {string | null} memo
 */

/**
 * @typedef {object} StatusChangeOut
 * @property {string} status
 * @property {string} at
 * @property {string | null} reason
 */

/**
 * @typedef {object} DepositSeenOut
 * @property {string | null} amount
 * @property {string | null} txId
 * @property {number | null} confirmations
 */

/**
 * @typedef {object} WithdrawalOut
 * @property {string | null} amount
 * @property {string | null} networkFee
 * @property {string | null} txId
 */

/**
 * @typedef {object} OrderOut
 * @property {string} id
 * @property {number | null} exchangeOrderId
 * @property {string} status
 * @property {DepositOut} deposit
 * @property {string | null} amountToReceive
 * @property {string} rateMode
 * @property {LegOut} from
 * @property {LegOut} to
 * @property {PartyOut} destination
 * @property {PartyOut | null} refund
 * @property {string} createdAt
 * @property {string} updatedAt
 * @property {StatusChangeOut[]} statusHistory
 * @property {DepositSeenOut[]} deposits
 * @property {WithdrawalOut[]} withdrawals
 */

/**
 * @typedef {object} LegIn
 * @property {string} currency
 * @property {string} network
 */

/**
 * @typedef {object} PartyIn
 * @property {string} address
 * @property {string} [memo]
 */

/**
 * @typedef {object} CreateOrderBody
 * @property {LegIn} from
 * @property {LegIn} to
 * @property {string} amount
 * @property {"FLOATING" | "FIXED"} rateMode
 * @property {PartyIn} destination
 * @property {PartyIn} [refund]
 * @property {string} [userId]
 */

/**
 * @typedef {object} AddressValidateBody
 * @property {string} currency
 * @property {string} network
 * @property {string} address
 * @property {string} [memo]
 */

/**
 * @typedef {object} FieldReason
 * @property {string} field
 * @property {string} reason
 */

/**
 * @typedef {object} ErrorDetail
 * @property {string} code
 * @property {string} message
 * @property {FieldReason[] | null} [fields]
 * @property {string | null} requestId
 */

export {};

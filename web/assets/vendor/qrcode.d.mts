// Types of the one vendored library, for `tsc -p web` only (the browser never loads this file).
// assets/vendor/qrcode.mjs itself is the npm package qrcode-generator's dist/qrcode.mjs, served from
// local/node_modules locally and copied by `python -m local.storefront dist`; these are the parts
// of its API the page uses, as its own dist/qrcode.d.ts declares them.
export interface QRCode {
  addData(data: string, mode?: "Numeric" | "Alphanumeric" | "Byte" | "Kanji"): void;
  make(): void;
  getModuleCount(): number;
  isDark(row: number, col: number): boolean;
}

export default function qrcode(typeNumber: number, errorCorrectionLevel: "L" | "M" | "Q" | "H"): QRCode;

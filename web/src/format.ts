// Amounts in whole units with their symbol (uusdc → USDC, 6 decimals), percentages, times.

interface DenomInfo {
  symbol: string;
  decimals: number;
}

const KNOWN: Record<string, DenomInfo> = {
  usure: { symbol: "SURE", decimals: 6 },
  uusdc: { symbol: "USDC", decimals: 6 },
};

export function denomInfo(denom: string): DenomInfo {
  if (KNOWN[denom]) return KNOWN[denom];
  if (/^u[a-z]{2,}$/.test(denom)) return { symbol: denom.slice(1).toUpperCase(), decimals: 6 };
  return { symbol: denom, decimals: 0 };
}

function toBig(amount: string | bigint | number): bigint {
  if (typeof amount === "bigint") return amount;
  if (typeof amount === "number") return BigInt(Math.round(amount));
  const digits = amount.trim().match(/^-?\d+/);
  return digits ? BigInt(digits[0]) : 0n;
}

/** Base units → whole units with thousands separators, at most `maxDecimals` decimals. */
export function units(amount: string | bigint | number, denom: string, maxDecimals = 2): string {
  const { decimals } = denomInfo(denom);
  const value = toBig(amount);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  let frac = (abs % scale).toString().padStart(decimals, "0").slice(0, maxDecimals).replace(/0+$/, "");
  if (!frac && abs !== 0n && whole === 0n) frac = (abs % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  const grouped = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  return (negative ? "−" : "") + grouped + (frac ? `.${frac}` : "");
}

/** `12 345.67 USDC`. */
export function amount(value: string | bigint | number, denom: string, maxDecimals = 2): string {
  return `${units(value, denom, maxDecimals)} ${denomInfo(denom).symbol}`;
}

/** A coin string from the node, `12345uusdc`, or a `{denom, amount}` coin. */
export function coin(c: string | { denom: string; amount: string } | null | undefined, maxDecimals = 2): string {
  if (!c) return "—";
  if (typeof c !== "string") return amount(c.amount, c.denom, maxDecimals);
  const m = c.match(/^(\d+)([a-zA-Z][a-zA-Z0-9/:._-]*)$/);
  return m ? amount(m[1], m[2], maxDecimals) : c;
}

/** A number of whole units the user typed (`10.5`) → base units (`10500000`), or null. */
export function toBase(input: string, denom: string): string | null {
  const { decimals } = denomInfo(denom);
  const s = input.trim().replace(/[\s,_]/g, "");
  const m = s.match(/^(\d*)(?:\.(\d*))?$/);
  if (!m || (!m[1] && !m[2])) return null;
  const frac = m[2] ?? "";
  if (frac.length > decimals) return null;
  const base = BigInt((m[1] || "0") + frac.padEnd(decimals, "0"));
  return base.toString();
}

/** Basis points → `12.5%`. */
export function bps(value: number | string): string {
  const n = Number(value) / 100;
  return `${Number.isInteger(n) ? n : n.toFixed(2).replace(/0+$/, "")}%`;
}

/** A ratio of two base-unit amounts as a percentage. */
export function ratio(part: string, whole: string): string {
  const w = Number(whole);
  return w > 0 ? `${((Number(part) / w) * 100).toFixed(1)}%` : "—";
}

/** Unix seconds → local date and time. */
export function time(unixSecs: string | number): string {
  const n = Number(unixSecs);
  if (!n) return "—";
  return new Date(n * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Seconds → `1 h 30 min`, `60 s`, `90 days`. */
export function duration(secs: string | number): string {
  const s = Number(secs);
  if (s >= 86400 && s % 86400 === 0) return `${s / 86400} days`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h${s % 3600 ? ` ${Math.round((s % 3600) / 60)} min` : ""}`;
  if (s >= 60) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  return `${s} s`;
}

/** `surety1abcd…wxyz`. */
export function short(address: string): string {
  return address.length > 20 ? `${address.slice(0, 10)}…${address.slice(-6)}` : address;
}

/** `CLAIM_STATUS_VOTING` → `voting`. */
export function enumName(value: string, prefix: string): string {
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase().replace(/_/g, " ") : value;
}

// A product's terms (also a policy's frozen terms).
import type { Product } from "../api/types";
import { amount, bps, duration, enumName } from "../format";

export function coverType(p: Product): string {
  return enumName(p.cover_type, "COVER_TYPE_");
}

export function claimMode(p: Product): string {
  return enumName(p.claim_mode, "CLAIM_MODE_");
}

export function isParametric(p: Product): boolean {
  return p.claim_mode === "CLAIM_MODE_PARAMETRIC";
}

/** What triggers a parametric payout, in words. */
export function triggerText(p: Product): string | null {
  const t = p.trigger;
  if (!t) return null;
  const parts: string[] = [];
  if (t.feed && t.threshold) parts.push(`${t.feed} below ${t.threshold} for ${duration(t.duration_secs)}`);
  if (t.floor && t.floor !== "0" && t.floor !== "") parts.push(`paid down to ${t.floor}`);
  if (t.il_threshold_bps)
    parts.push(`${t.feed} impermanent loss over ${bps(t.il_threshold_bps)} (cap ${bps(t.il_cap_bps)})`);
  if (!parts.length && t.feed) parts.push(`feed ${t.feed}`);
  return parts.length ? parts.join("; ") : null;
}

function claimsText(p: Product): string {
  if (!isParametric(p)) return "assessed: decided by staked assessors' votes";
  if (!triggerText(p)) return `parametric: paid when validators confirm an oracle incident for ${p.protocol}`;
  return "parametric: paid automatically when the trigger holds";
}

export function ProductTerms({ product: p }: { product: Product }) {
  const trigger = triggerText(p);
  return (
    <dl class="terms">
      <dt>Protocol</dt>
      <dd>{p.protocol}</dd>
      <dt>Cover type</dt>
      <dd>{coverType(p)}</dd>
      <dt>Base rate</dt>
      <dd>{bps(p.annual_base_rate_bps)} a year</dd>
      <dt>Term</dt>
      <dd>
        {p.min_term_days}–{p.max_term_days} days
      </dd>
      <dt>Max cover</dt>
      <dd>{amount(p.max_cover, p.denom, 0)}</dd>
      <dt>Deductible</dt>
      <dd>{bps(p.deductible_bps)}</dd>
      <dt>Claims</dt>
      <dd>{claimsText(p)}</dd>
      {trigger && (
        <>
          <dt>Trigger</dt>
          <dd>{trigger}</dd>
        </>
      )}
      {Number(p.grace_period_secs) > 0 && (
        <>
          <dt>Grace period</dt>
          <dd>{duration(p.grace_period_secs)}</dd>
        </>
      )}
    </dl>
  );
}

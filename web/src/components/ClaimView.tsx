// A claim through its life: voting (weights, deadline), paid, rejected (appeal window), appealed.
import type { ComponentChildren } from "preact";
import type { Claim, ClaimStatus } from "../api/types";
import { coin, enumName, short, time } from "../format";
import { Badge, type Tone } from "./ui";

const TONE: Record<ClaimStatus, Tone> = {
  CLAIM_STATUS_UNSPECIFIED: "neutral",
  CLAIM_STATUS_VOTING: "info",
  CLAIM_STATUS_PAID: "good",
  CLAIM_STATUS_REJECTED: "bad",
  CLAIM_STATUS_APPEALED: "warn",
};

export function ClaimStatusBadge({ status }: { status: ClaimStatus }) {
  return <Badge tone={TONE[status] ?? "neutral"}>{enumName(status, "CLAIM_STATUS_")}</Badge>;
}

const nowSecs = () => Date.now() / 1000;

export function canAppeal(c: Claim): boolean {
  return c.status === "CLAIM_STATUS_REJECTED" && Number(c.appeal_deadline) > nowSecs();
}

/** `denom` is the policy's (loss and payout are plain amounts in it); votes weigh assessors' stake in `weightDenom`. */
export function ClaimView(props: { claim: Claim; denom: string; weightDenom?: string; children?: ComponentChildren }) {
  const wd = props.weightDenom ?? "usure";
  const c = props.claim;
  const approve = BigInt(c.approve_weight || "0");
  const reject = BigInt(c.reject_weight || "0");
  const total = approve + reject;
  const approvePct = total > 0n ? Number((approve * 1000n) / total) / 10 : 0;
  const withDenom = (a: string) => (a && a !== "0" ? coin(/^\d+$/.test(a) ? `${a}${props.denom}` : a) : "—");

  return (
    <div class="claim" data-testid={`claim-${c.id}`} data-status={c.status}>
      <div class="claim-head">
        <strong>Claim #{c.id}</strong>
        <span class="muted">on policy #{c.policy_id}</span>
        <ClaimStatusBadge status={c.status} />
      </div>
      <dl class="terms">
        <dt>Claimant</dt>
        <dd title={c.claimant}>{short(c.claimant)}</dd>
        {c.incident && (
          <>
            <dt>Incident</dt>
            <dd>{c.incident}</dd>
          </>
        )}
        {c.evidence && (
          <>
            <dt>Evidence</dt>
            <dd class="break">{c.evidence}</dd>
          </>
        )}
        <dt>Loss claimed</dt>
        <dd>{withDenom(c.loss)}</dd>
        <dt>Filed</dt>
        <dd>{time(c.filed_at)}</dd>
        {c.status === "CLAIM_STATUS_VOTING" && (
          <>
            <dt>Voting ends</dt>
            <dd>{time(c.voting_ends)}</dd>
          </>
        )}
        {total > 0n && (
          <>
            <dt>Votes</dt>
            <dd>
              <div class="bar votes" title={`${approvePct}% approve by weight`}>
                <div class="bar-fill good" style={{ width: `${approvePct}%` }} />
              </div>
              approve {coin(`${approve}${wd}`)} · reject {coin(`${reject}${wd}`)}
            </dd>
          </>
        )}
        {c.status === "CLAIM_STATUS_PAID" && (
          <>
            <dt>Payout</dt>
            <dd data-testid="claim-payout">{withDenom(c.payout)}</dd>
          </>
        )}
        {c.status === "CLAIM_STATUS_REJECTED" && Number(c.appeal_deadline) > 0 && (
          <>
            <dt>Appeal until</dt>
            <dd>
              {time(c.appeal_deadline)}
              {canAppeal(c) ? "" : " (closed)"}
            </dd>
          </>
        )}
        {c.status === "CLAIM_STATUS_APPEALED" && (
          <>
            <dt>Appeal</dt>
            <dd>governance decides (bond {coin(c.appeal_bond)})</dd>
          </>
        )}
        {c.deposit && (
          <>
            <dt>Deposit / fee</dt>
            <dd>
              {coin(c.deposit)} / {coin(c.fee)}
            </dd>
          </>
        )}
      </dl>
      {props.children}
    </div>
  );
}

// The signed-in account's policies: transfer one, file a claim, follow each claim through voting,
// appeal and payout.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import { eventAttribute, msg } from "../api/msgs";
import type { Claim, ClaimsParams, Policy } from "../api/types";
import { canAppeal, ClaimView } from "../components/ClaimView";
import { isParametric, triggerText } from "../components/ProductTerms";
import { TxAction } from "../components/TxAction";
import { Badge, Card, Empty, Field, Show } from "../components/ui";
import { amount, coin, denomInfo, time, toBase } from "../format";
import { REFRESH_MS, useAsync } from "../hooks";
import { useSession } from "../session";

export function MyCover() {
  const { wallet, txCount } = useSession();
  const address = wallet?.address;
  const mine = useAsync(
    async () => {
      if (!address) return null;
      const [policies, params] = await Promise.all([chain.policies(address), chain.claimsParams()]);
      const claims = await Promise.all(policies.map((p) => chain.claims(p.id)));
      return { policies, params, claims: new Map(policies.map((p, i) => [p.id, claims[i]])) };
    },
    [address, txCount],
    REFRESH_MS,
  );

  if (!wallet) return <SignInFirst what="see your cover" />;
  return (
    <>
      <h1>My cover</h1>
      <p class="lead">
        Policies owned by <code>{wallet.address}</code>.
      </p>
      <Show state={mine} what="your policies">
        {(data) =>
          !data || data.policies.length === 0 ? (
            <Empty>
              No policies yet: buy cover on the <a href="#/products">Products</a> page.
            </Empty>
          ) : (
            <div class="grid">
              {[...data.policies]
                .sort((a, b) => Number(b.id) - Number(a.id))
                .map((p) => (
                  <PolicyCard key={p.id} policy={p} claims={data.claims.get(p.id) ?? []} params={data.params} />
                ))}
            </div>
          )
        }
      </Show>
    </>
  );
}

export function SignInFirst({ what }: { what: string }) {
  return (
    <Card title="Sign in">
      <p>Choose a demo key or connect Keplr (top right) to {what}.</p>
    </Card>
  );
}

/** Cover a policy still has for new claims. */
function remaining(p: Policy): string {
  return (BigInt(p.cover) - BigInt(p.claimed_cover || "0")).toString();
}

function policyState(
  p: Policy,
  claims: Claim[],
): { label: string; tone: "good" | "bad" | "warn" | "neutral" | "info" } {
  const now = Date.now() / 1000;
  if (claims.some((c) => c.status === "CLAIM_STATUS_APPEALED")) return { label: "under appeal", tone: "warn" };
  if (claims.some((c) => c.status === "CLAIM_STATUS_VOTING")) return { label: "claim being voted", tone: "info" };
  if (p.claimed) return { label: "paid out in full", tone: "good" };
  if (claims.some((c) => c.status === "CLAIM_STATUS_PAID"))
    return Number(p.end) < now
      ? { label: "paid, expired", tone: "neutral" }
      : { label: "paid, rest in force", tone: "good" };
  if (Number(p.end) < now) return { label: "expired", tone: "neutral" };
  if (Number(p.start) > now) return { label: "not started", tone: "warn" };
  return { label: "active", tone: "good" };
}

function PolicyCard({ policy: p, claims, params }: { policy: Policy; claims: Claim[]; params: ClaimsParams }) {
  const state = policyState(p, claims);
  const terms = p.terms;
  const open = claims.some((c) => c.status === "CLAIM_STATUS_VOTING" || c.status === "CLAIM_STATUS_APPEALED");
  const claimable = !p.claimed && !open && Number(p.end) > Date.now() / 1000 - Number(terms?.grace_period_secs ?? 0);

  return (
    <Card
      testid={`policy-${p.id}`}
      title={
        <>
          <span class="muted">Policy #{p.id}</span> {terms?.name ?? `product ${p.product_id}`}
        </>
      }
      actions={<Badge tone={state.tone}>{state.label}</Badge>}
    >
      <dl class="terms">
        <dt>Cover</dt>
        <dd data-testid="policy-cover">{amount(p.cover, p.denom, 2)}</dd>
        {p.claimed_cover && p.claimed_cover !== "0" && (
          <>
            <dt>Used by paid claims</dt>
            <dd>
              {amount(p.claimed_cover, p.denom, 2)}; {amount(remaining(p), p.denom, 2)} remain
            </dd>
          </>
        )}
        {p.validator && (
          <>
            <dt>Insured validator</dt>
            <dd>{p.validator}</dd>
          </>
        )}
        <dt>Premium paid</dt>
        <dd>{amount(p.premium, p.denom, 6)}</dd>
        <dt>Period</dt>
        <dd>
          {time(p.start)} → {time(p.end)}
        </dd>
        {terms && triggerText(terms) && (
          <>
            <dt>Trigger</dt>
            <dd>{triggerText(terms)}</dd>
          </>
        )}
        {p.entry_price && p.entry_price !== "0" && (
          <>
            <dt>Entry price</dt>
            <dd>{p.entry_price}</dd>
          </>
        )}
        <dt>Underwritten by</dt>
        <dd>{p.allocations.map((a) => `pool #${a.pool_id} (${amount(a.cover, p.denom, 0)})`).join(", ")}</dd>
      </dl>
      {claims.map((c) => (
        <ClaimView key={c.id} claim={c} denom={p.denom} weightDenom={params.assessor_denom}>
          {canAppeal(c) && (
            <TxAction
              testid={`appeal-${c.id}`}
              tone="secondary"
              label={`Appeal (bond ${coin(params.appeal_bond)})`}
              build={(w) => [msg("/surety.claims.v1.MsgAppealClaim", { claimant: w.address, claim_id: c.id })]}
              onDone={() => "appealed: governance decides"}
            />
          )}
        </ClaimView>
      ))}
      <div class="actions">
        {terms && <FileClaim policy={p} claimable={claimable} parametric={isParametric(terms)} params={params} />}
        {!open && <Transfer policy={p} />}
      </div>
    </Card>
  );
}

/** The claim form; once opened it stays (with its tx's outcome) after the claim makes the policy unclaimable. */
function FileClaim(props: { policy: Policy; claimable: boolean; parametric: boolean; params: ClaimsParams }) {
  const { policy, parametric, params } = props;
  const [show, setShow] = useState(false);
  const [loss, setLoss] = useState("");
  const [incident, setIncident] = useState("");
  const [evidence, setEvidence] = useState("");
  // Once filed, the form folds to its outcome line (the claim itself shows above).
  const [filed, setFiled] = useState(false);
  const symbol = denomInfo(policy.denom).symbol;
  if (!show && !props.claimable) return null;
  if (!show)
    return (
      <button
        type="button"
        class="btn btn-secondary"
        data-testid={`file-claim-${policy.id}`}
        onClick={() => setShow(true)}
      >
        File a claim
      </button>
    );
  return (
    <div class="subform" data-testid={`claim-form-${policy.id}`}>
      <div class="subform-head">
        <h3>File a claim</h3>
        <button type="button" class="btn btn-link" onClick={() => setShow(false)}>
          close
        </button>
      </div>
      {!filed && (
        <p class="muted small">
          {parametric
            ? "Parametric cover: decided in the filing transaction from the oracle (protocol cover names a confirmed oracle incident id)."
            : `Assessed cover: staked assessors vote. Filing posts a deposit of ${coin(params.claim_deposit)} and a fee of ${coin(params.claim_fee)}.`}
        </p>
      )}
      {!filed && (
        <div class="form">
          {!parametric && (
            <Field label={`Loss (${symbol})`}>
              <input
                data-testid="claim-loss"
                inputMode="decimal"
                value={loss}
                onInput={(e) => setLoss((e.target as HTMLInputElement).value)}
              />
            </Field>
          )}
          <Field label={parametric ? "Oracle incident id (protocol cover)" : "Incident"}>
            <input
              data-testid="claim-incident"
              value={incident}
              onInput={(e) => setIncident((e.target as HTMLInputElement).value)}
            />
          </Field>
          {!parametric && (
            <Field label="Evidence (link or text)">
              <input
                data-testid="claim-evidence"
                value={evidence}
                onInput={(e) => setEvidence((e.target as HTMLInputElement).value)}
              />
            </Field>
          )}
        </div>
      )}
      <TxAction
        testid={`claim-action-${policy.id}`}
        label="File claim"
        disabled={filed}
        build={(w) => {
          const lossBase = parametric ? "0" : toBase(loss, policy.denom);
          if (lossBase === null || (!parametric && lossBase === "0")) throw new Error(`Enter the loss in ${symbol}`);
          return [
            msg("/surety.claims.v1.MsgFileClaim", {
              claimant: w.address,
              policy_id: policy.id,
              incident,
              loss: lossBase,
              evidence,
            }),
          ];
        }}
        onDone={(tx) => {
          setFiled(true);
          const status = eventAttribute(tx, "claim_filed", "status");
          return `claim #${eventAttribute(tx, "claim_filed", "claim_id") ?? "?"}${status ? ` (${status.replace("CLAIM_STATUS_", "").toLowerCase()})` : ""}`;
        }}
      />
    </div>
  );
}

function Transfer({ policy }: { policy: Policy }) {
  const [show, setShow] = useState(false);
  const [to, setTo] = useState("");
  if (!show)
    return (
      <button
        type="button"
        class="btn btn-secondary"
        data-testid={`transfer-${policy.id}`}
        onClick={() => setShow(true)}
      >
        Transfer
      </button>
    );
  return (
    <div class="subform">
      <div class="subform-head">
        <h3>Transfer policy #{policy.id}</h3>
        <button type="button" class="btn btn-link" onClick={() => setShow(false)}>
          close
        </button>
      </div>
      <p class="muted small">The recipient owns the cover and any claim from then on.</p>
      <div class="form">
        <Field label="Recipient address">
          <input
            data-testid={`transfer-to-${policy.id}`}
            placeholder="surety1…"
            value={to}
            onInput={(e) => setTo((e.target as HTMLInputElement).value.trim())}
          />
        </Field>
      </div>
      <TxAction
        testid={`transfer-action-${policy.id}`}
        label="Transfer"
        build={(w) => {
          if (!/^surety1[02-9ac-hj-np-z]{38,}$/.test(to)) throw new Error("Enter a surety1… address");
          return [
            msg("/surety.policy.v1.MsgTransferPolicy", { owner: w.address, policy_id: policy.id, recipient: to }),
          ];
        }}
      />
    </div>
  );
}

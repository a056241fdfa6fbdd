// Assessors stake to vote on assessed claims: open claims with their votes, stake and unstake,
// approve or reject.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import { msg } from "../api/msgs";
import type { Assessor, Claim, ClaimsParams, ClaimVote } from "../api/types";
import { ClaimStatusBadge, ClaimView } from "../components/ClaimView";
import { TxAction } from "../components/TxAction";
import { Card, Empty, Field, Show, Stat } from "../components/ui";
import { amount, bps, denomInfo, duration, short, time, toBase } from "../format";
import { REFRESH_MS, useAsync } from "../hooks";
import { useSession } from "../session";

interface OpenClaim {
  claim: Claim;
  votes: ClaimVote[];
  denom: string;
}

export function Assessors() {
  const { wallet, txCount } = useSession();
  const address = wallet?.address;
  const state = useAsync(
    async () => {
      const [params, all, appeals, me] = await Promise.all([
        chain.claimsParams(),
        chain.claims(),
        chain.appeals(),
        address ? chain.assessor(address) : Promise.resolve(null),
      ]);
      // Loss and payout are amounts in the policy's denom.
      const denoms = new Map<string, Promise<string>>();
      const denomOf = (c: Claim) => {
        if (!denoms.has(c.policy_id))
          denoms.set(
            c.policy_id,
            chain.policy(c.policy_id).then(
              (p) => p.denom,
              () => "",
            ),
          );
        return denoms.get(c.policy_id)!;
      };
      const open = await Promise.all(
        all
          .filter((c) => c.status === "CLAIM_STATUS_VOTING")
          .map(async (c): Promise<OpenClaim> => {
            const [{ votes }, denom] = await Promise.all([chain.claim(c.id), denomOf(c)]);
            return { claim: c, votes, denom };
          }),
      );
      const withDenom = (c: Claim) => denomOf(c).then((denom) => ({ claim: c, denom }));
      const underAppeal = await Promise.all(appeals.map(withDenom));
      const decided = await Promise.all(
        all
          .filter((c) => c.status === "CLAIM_STATUS_PAID" || c.status === "CLAIM_STATUS_REJECTED")
          .slice(-10)
          .reverse()
          .map(withDenom),
      );
      return { params, open, appeals: underAppeal, me, decided };
    },
    [address, txCount],
    REFRESH_MS,
  );

  return (
    <>
      <h1>Assessors</h1>
      <Show state={state} what="claims">
        {({ params, open, appeals, me, decided }) => (
          <>
            <div class="grid">
              <Card title="How assessment works">
                <div class="stats">
                  <Stat label="Stake denom" value={denomInfo(params.assessor_denom).symbol} />
                  <Stat label="Voting period" value={duration(params.voting_period_secs)} />
                  <Stat label="Quorum" value={bps(params.quorum_bps)} hint="of staked weight" />
                  <Stat label="Approval threshold" value={bps(params.threshold_bps)} />
                  <Stat label="Appeal window" value={duration(params.appeal_window_secs)} />
                </div>
              </Card>
              {wallet && <MyStake params={params} me={me} />}
            </div>
            <h2 class="section">Open claims</h2>
            {open.length === 0 ? (
              <Empty>No claim is being voted on.</Empty>
            ) : (
              <div class="grid">
                {open.map((o) => (
                  <Card key={o.claim.id} testid={`open-claim-${o.claim.id}`}>
                    <ClaimView claim={o.claim} denom={o.denom} weightDenom={params.assessor_denom}>
                      <Votes votes={o.votes} denom={params.assessor_denom} />
                      <VoteButtons claim={o.claim} votes={o.votes} me={me} />
                    </ClaimView>
                  </Card>
                ))}
              </div>
            )}
            {appeals.length > 0 && (
              <>
                <h2 class="section">Under appeal</h2>
                <div class="grid">
                  {appeals.map(({ claim: c, denom }) => (
                    <Card key={c.id}>
                      <ClaimView claim={c} denom={denom} weightDenom={params.assessor_denom} />
                    </Card>
                  ))}
                </div>
              </>
            )}
            {decided.length > 0 && (
              <>
                <h2 class="section">Recently decided</h2>
                <table class="table">
                  <thead>
                    <tr>
                      <th>Claim</th>
                      <th>Policy</th>
                      <th>Status</th>
                      <th>Filed</th>
                      <th class="num">Payout</th>
                    </tr>
                  </thead>
                  <tbody>
                    {decided.map(({ claim: c, denom }) => (
                      <tr key={c.id}>
                        <td>#{c.id}</td>
                        <td>#{c.policy_id}</td>
                        <td>
                          <ClaimStatusBadge status={c.status} />
                        </td>
                        <td>{time(c.filed_at)}</td>
                        <td class="num">{c.payout && c.payout !== "0" && denom ? amount(c.payout, denom) : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </>
        )}
      </Show>
    </>
  );
}

function MyStake({ params, me }: { params: ClaimsParams; me: Assessor | null }) {
  const denom = params.assessor_denom;
  const symbol = denomInfo(denom).symbol;
  const [stake, setStake] = useState("1000");
  const [unstake, setUnstake] = useState("");
  const locked = me && Number(me.locked_until) > Date.now() / 1000;
  const parsed = (s: string) => {
    const base = toBase(s, denom);
    if (!base || base === "0") throw new Error(`Enter an amount in ${symbol}`);
    return base;
  };
  return (
    <Card title="My assessor stake" testid="my-stake">
      <div class="stats">
        <Stat label="Staked" value={<span data-testid="my-stake-amount">{amount(me?.stake ?? "0", denom)}</span>} />
        {me && locked && (
          <Stat
            label="Locked until"
            value={time(me.locked_until)}
            hint="votes lock the stake until the claim is decided"
          />
        )}
      </div>
      <div class="form inline">
        <Field label={`Stake (${symbol})`}>
          <input
            data-testid="stake-amount"
            inputMode="decimal"
            value={stake}
            onInput={(e) => setStake((e.target as HTMLInputElement).value)}
          />
        </Field>
        <TxAction
          testid="stake-action"
          label="Stake"
          build={(w) => [msg("/surety.claims.v1.MsgStakeAssessor", { assessor: w.address, amount: parsed(stake) })]}
        />
      </div>
      {me && (
        <div class="form inline">
          <Field label={`Unstake (${symbol})`}>
            <input
              inputMode="decimal"
              value={unstake}
              onInput={(e) => setUnstake((e.target as HTMLInputElement).value)}
            />
          </Field>
          <TxAction
            tone="secondary"
            label="Unstake"
            build={(w) => [
              msg("/surety.claims.v1.MsgUnstakeAssessor", { assessor: w.address, amount: parsed(unstake) }),
            ]}
          />
        </div>
      )}
    </Card>
  );
}

function Votes({ votes, denom }: { votes: ClaimVote[]; denom: string }) {
  if (votes.length === 0) return <p class="muted small">No votes yet.</p>;
  return (
    <table class="table compact">
      <thead>
        <tr>
          <th>Assessor</th>
          <th>Vote</th>
          <th class="num">Weight</th>
        </tr>
      </thead>
      <tbody>
        {votes.map((v) => (
          <tr key={v.assessor}>
            <td title={v.assessor}>{short(v.assessor)}</td>
            <td>{v.approve ? "approve" : "reject"}</td>
            <td class="num">{amount(v.weight, denom)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function VoteButtons({ claim, votes, me }: { claim: Claim; votes: ClaimVote[]; me: Assessor | null }) {
  const { wallet } = useSession();
  const mine = wallet && votes.find((v) => v.assessor === wallet.address);
  if (!wallet) return <p class="muted small">Sign in to vote.</p>;
  if (mine) return <p class="small">You voted to {mine.approve ? "approve" : "reject"}.</p>;
  if (!me || me.stake === "0") return <p class="muted small">Stake as an assessor to vote.</p>;
  if (wallet.address === claim.claimant) return <p class="muted small">You filed this claim.</p>;
  const vote = (approve: boolean) => () => [
    msg("/surety.claims.v1.MsgVoteClaim", { assessor: wallet.address, claim_id: claim.id, approve }),
  ];
  return (
    <div class="actions">
      <TxAction testid={`vote-approve-${claim.id}`} label="Approve" build={vote(true)} />
      <TxAction testid={`vote-reject-${claim.id}`} tone="danger" label="Reject" build={vote(false)} />
    </div>
  );
}

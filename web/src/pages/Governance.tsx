// Governance proposals: their messages, status and tally, and a vote (cosmos.gov.v1.MsgVote).
import * as chain from "../api/chain";
import { msg } from "../api/msgs";
import type { Proposal, TallyParams, TallyResult } from "../api/types";
import { TxAction } from "../components/TxAction";
import { Badge, Card, Empty, Show } from "../components/ui";
import { coin, enumName, short } from "../format";
import { REFRESH_MS, useAsync } from "../hooks";
import { useSession } from "../session";

const STATUS_TONE: Record<string, "info" | "good" | "bad" | "warn" | "neutral"> = {
  PROPOSAL_STATUS_DEPOSIT_PERIOD: "warn",
  PROPOSAL_STATUS_VOTING_PERIOD: "info",
  PROPOSAL_STATUS_PASSED: "good",
  PROPOSAL_STATUS_REJECTED: "bad",
  PROPOSAL_STATUS_FAILED: "bad",
};

export function Governance() {
  const { txCount } = useSession();
  const state = useAsync(
    async () => {
      const [proposals, params] = await Promise.all([chain.proposals(), chain.tallyParams().catch(() => null)]);
      const tallies = await Promise.all(
        proposals.map((p) =>
          p.status === "PROPOSAL_STATUS_VOTING_PERIOD"
            ? chain.tally(p.id).catch(() => null)
            : Promise.resolve(p.final_tally_result ?? null),
        ),
      );
      return { proposals, params, tallies };
    },
    [txCount],
    REFRESH_MS,
  );

  return (
    <>
      <h1>Governance</h1>
      <p class="lead">
        The insurance modules' governance messages (new pools and products, pausing, appeals, parameters) run through
        proposals.
      </p>
      <Show state={state} what="proposals">
        {({ proposals, params, tallies }) => (
          <>
            {params && (
              <p class="muted">
                To pass: quorum {pct(params.quorum)} of bonded stake, threshold {pct(params.threshold)} yes, veto below{" "}
                {pct(params.veto_threshold)}.
              </p>
            )}
            {proposals.length === 0 ? (
              <Empty>No proposals.</Empty>
            ) : (
              <div class="grid">
                {proposals.map((p, i) => (
                  <ProposalCard key={p.id} proposal={p} tally={tallies[i]} params={params} />
                ))}
              </div>
            )}
          </>
        )}
      </Show>
    </>
  );
}

/** A message's own fields (not its type or the gov authority), briefly: `product_id 4, paused true`. */
function messageFields(m: Record<string, unknown>): string {
  return Object.entries(m)
    .filter(([k]) => k !== "@type" && k !== "authority")
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(", ")
    .slice(0, 200);
}

/** `0.334000000000000000` → `33.4%`. */
function pct(dec: string): string {
  return `${Number((Number(dec) * 100).toFixed(2))}%`;
}

function ProposalCard({
  proposal: p,
  tally,
  params,
}: {
  proposal: Proposal;
  tally: TallyResult | null;
  params: TallyParams | null;
}) {
  const voting = p.status === "PROPOSAL_STATUS_VOTING_PERIOD";
  return (
    <Card
      testid={`proposal-${p.id}`}
      title={
        <>
          <span class="muted">#{p.id}</span> {p.title || "(untitled)"}
        </>
      }
      actions={
        <>
          {p.expedited && <Badge tone="warn">expedited</Badge>}
          <Badge tone={STATUS_TONE[p.status] ?? "neutral"}>{enumName(p.status, "PROPOSAL_STATUS_")}</Badge>
        </>
      }
    >
      {p.summary && <p>{p.summary}</p>}
      <dl class="terms">
        <dt>Messages</dt>
        <dd>
          {p.messages.length === 0
            ? "none (a text proposal)"
            : p.messages.map((m, i) => (
                <div key={i}>
                  <code>{m["@type"]}</code> <span class="muted small">{messageFields(m)}</span>
                </div>
              ))}
        </dd>
        <dt>Proposer</dt>
        <dd title={p.proposer}>{short(p.proposer)}</dd>
        <dt>Deposit</dt>
        <dd>{p.total_deposit.map((c) => coin(c)).join(", ") || "—"}</dd>
        {p.voting_end_time && (
          <>
            <dt>{voting ? "Voting ends" : "Voting ended"}</dt>
            <dd>{new Date(p.voting_end_time).toLocaleString()}</dd>
          </>
        )}
        {p.failed_reason && (
          <>
            <dt>Failed</dt>
            <dd class="error">{p.failed_reason}</dd>
          </>
        )}
      </dl>
      {tally && <Tally tally={tally} params={params} />}
      {voting && <VoteButtons proposalId={p.id} />}
    </Card>
  );
}

function Tally({ tally, params }: { tally: TallyResult; params: TallyParams | null }) {
  const rows: [string, string, string][] = [
    ["Yes", tally.yes_count, "good"],
    ["No", tally.no_count, "bad"],
    ["No with veto", tally.no_with_veto_count, "veto"],
    ["Abstain", tally.abstain_count, "neutral"],
  ];
  const total = rows.reduce((s, [, v]) => s + BigInt(v || "0"), 0n);
  return (
    <div class="tally" data-testid="tally">
      <div class="bar stacked">
        {rows.map(([label, v, tone]) => {
          const w = total > 0n ? Number((BigInt(v || "0") * 1000n) / total) / 10 : 0;
          return w > 0 ? (
            <div key={label} class={`bar-fill ${tone}`} style={{ width: `${w}%` }} title={`${label} ${w}%`} />
          ) : null;
        })}
      </div>
      <div class="tally-legend">
        {rows.map(([label, v]) => (
          <span key={label}>
            {label}: {coin(`${v || "0"}usure`, 0)}
          </span>
        ))}
        {params && <span class="muted">threshold {pct(params.threshold)}</span>}
      </div>
    </div>
  );
}

/** cosmos.gov.v1.VoteOption values (YES = 1, ABSTAIN = 2, NO = 3, NO_WITH_VETO = 4). */
const OPTIONS: [string, number, "primary" | "secondary" | "danger"][] = [
  ["Yes", 1, "primary"],
  ["No", 3, "secondary"],
  ["Abstain", 2, "secondary"],
  ["No with veto", 4, "danger"],
];

function VoteButtons({ proposalId }: { proposalId: string }) {
  return (
    <div class="actions">
      {OPTIONS.map(([label, option, tone]) => (
        <TxAction
          key={label}
          tone={tone}
          label={label}
          testid={`gov-vote-${proposalId}-${label.toLowerCase().replace(/ /g, "-")}`}
          build={(w) => [
            msg("/cosmos.gov.v1.MsgVote", { proposalId: BigInt(proposalId), voter: w.address, option, metadata: "" }),
          ]}
        />
      ))}
    </div>
  );
}

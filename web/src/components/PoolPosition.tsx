// The signed-in account's capital in a pool: shares and their value, a deposit, and the two-step
// withdrawal (request, then complete after the cooldown).
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import { msg } from "../api/msgs";
import type { Pool } from "../api/types";
import { amount, denomInfo, time, toBase, units } from "../format";
import { useAsync } from "../hooks";
import { useSession } from "../session";
import { TxAction } from "./TxAction";
import { Field, Stat } from "./ui";

export function PoolPosition({ pool }: { pool: Pool }) {
  const { wallet, txCount } = useSession();
  const address = wallet?.address;
  const position = useAsync(
    () => (address ? chain.position(pool.id, address) : Promise.resolve(null)),
    [pool.id, address, txCount],
  );
  const [deposit, setDeposit] = useState("1000");
  const [withdraw, setWithdraw] = useState("");
  if (!wallet) return null;

  const d = pool.denom;
  const symbol = denomInfo(d).symbol;
  const p = position.data?.position;
  // Zero amounts may come as "" as well as "0".
  const positive = (v: string | undefined) => !!v && /[1-9]/.test(v);
  const withdrawing = p && positive(p.withdrawing_shares) ? p : null;
  const unlocked = withdrawing && Number(withdrawing.unlock_time) <= Date.now() / 1000;
  const base = (s: string, what: string) => {
    const b = toBase(s, d);
    if (!b || b === "0") throw new Error(`Enter ${what}`);
    return b;
  };

  return (
    <div class="subform" data-testid={`position-${pool.id}`}>
      <h3>My position</h3>
      <div class="stats">
        <Stat label="Shares" value={units(p?.shares ?? "0", d)} />
        <Stat
          label="Value"
          value={<span data-testid="position-value">{amount(position.data?.value ?? "0", d)}</span>}
        />
        {withdrawing && (
          <Stat
            label="Withdrawing"
            value={`${units(withdrawing.withdrawing_shares, d)} shares`}
            hint={`unlocks ${time(withdrawing.unlock_time)}`}
          />
        )}
      </div>
      <div class="form inline">
        <Field label={`Deposit (${symbol})`}>
          <input
            data-testid={`deposit-amount-${pool.id}`}
            inputMode="decimal"
            value={deposit}
            onInput={(e) => setDeposit((e.target as HTMLInputElement).value)}
          />
        </Field>
        <TxAction
          testid={`deposit-action-${pool.id}`}
          label="Deposit"
          build={(w) => [
            msg("/surety.pool.v1.MsgDeposit", {
              provider: w.address,
              pool_id: pool.id,
              amount: base(deposit, `an amount in ${symbol}`),
            }),
          ]}
        />
      </div>
      {p && positive(p.shares) && (
        <div class="form inline">
          <Field label="Withdraw (shares)" hint="after the cooldown, complete it">
            <input
              inputMode="decimal"
              value={withdraw}
              onInput={(e) => setWithdraw((e.target as HTMLInputElement).value)}
            />
          </Field>
          <TxAction
            tone="secondary"
            label="Request withdrawal"
            build={(w) => [
              msg("/surety.pool.v1.MsgRequestWithdraw", {
                provider: w.address,
                pool_id: pool.id,
                shares: base(withdraw, "a number of shares"),
              }),
            ]}
          />
        </div>
      )}
      {withdrawing && (
        <TxAction
          tone="secondary"
          label={unlocked ? "Complete withdrawal" : `Complete withdrawal (after ${time(withdrawing.unlock_time)})`}
          disabled={!unlocked}
          build={(w) => [msg("/surety.pool.v1.MsgCompleteWithdraw", { provider: w.address, pool_id: pool.id })]}
        />
      )}
    </div>
  );
}

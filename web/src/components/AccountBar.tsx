// Choose who signs: a localnet demo key or Keplr; shows the address and balances.
import { useState } from "preact/hooks";
import * as chain from "../api/chain";
import { connectKeplr, demoWallet, keplr, localnet } from "../api/wallet";
import { coin, short } from "../format";
import { asError, REFRESH_MS, useAsync } from "../hooks";
import { useSession } from "../session";

export function AccountBar() {
  const { wallet, setWallet, txCount } = useSession();
  const demo = useAsync(() => localnet(), []);
  const [error, setError] = useState<Error>();
  const balances = useAsync(
    () => (wallet ? chain.balances(wallet.address) : Promise.resolve([])),
    [wallet?.address, txCount],
    REFRESH_MS,
  );

  async function choose(value: string) {
    setError(undefined);
    try {
      if (value === "") setWallet(null);
      else if (value === "keplr") setWallet(await connectKeplr());
      else {
        const account = demo.data?.accounts.find((a) => a.name === value);
        if (account) setWallet(await demoWallet(account));
      }
    } catch (e) {
      setError(asError(e));
    }
  }

  const accounts = demo.data?.accounts ?? [];
  return (
    <div class="account-bar">
      {wallet && (
        <span class="account-info" data-testid="account-address" title={wallet.address}>
          <code>{short(wallet.address)}</code>
          <span class="balances">{(balances.data ?? []).map((b) => coin(b)).join(" · ")}</span>
        </span>
      )}
      {(accounts.length > 0 || wallet?.kind === "keplr") && (
        <select
          data-testid="account-select"
          value={wallet?.kind === "demo" ? wallet.name : wallet ? "keplr" : ""}
          onChange={(e) => choose((e.target as HTMLSelectElement).value)}
        >
          <option value="">{wallet ? "Sign out" : "Sign in with a demo key…"}</option>
          {accounts.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name} (demo)
            </option>
          ))}
          {wallet?.kind === "keplr" && <option value="keplr">{wallet.name}</option>}
        </select>
      )}
      {keplr() && wallet?.kind !== "keplr" && (
        <button type="button" class="btn btn-secondary" onClick={() => choose("keplr")}>
          Connect Keplr
        </button>
      )}
      {!wallet && accounts.length === 0 && !keplr() && !demo.loading && (
        <span class="muted">Read-only: install Keplr to sign</span>
      )}
      {error && <span class="error">{error.message}</span>}
    </div>
  );
}

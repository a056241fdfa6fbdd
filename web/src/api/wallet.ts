// Who signs: the localnet's demo keys (from ./localnet.json beside the app) or Keplr.
import type { OfflineDirectSigner } from "@cosmjs/proto-signing";
import { chainId } from "./chain";
import { restBase } from "./rest";

export const PREFIX = "surety";

export interface DemoAccount {
  name: string;
  address: string;
  mnemonic: string;
}

export interface Localnet {
  chain_id: string;
  rpc: string;
  rest: string;
  accounts: DemoAccount[];
}

export interface Wallet {
  /** `alice`, or `Keplr`. */
  name: string;
  address: string;
  kind: "demo" | "keplr";
  signer: OfflineDirectSigner;
}

let localnetPromise: Promise<Localnet | null> | undefined;
/** ./localnet.json, served beside the app on a localnet; null elsewhere. */
export function localnet(): Promise<Localnet | null> {
  localnetPromise ??= fetch(new URL("localnet.json", document.baseURI))
    .then((r) => (r.ok ? (r.json() as Promise<Localnet>) : null))
    .then((l) => (l && Array.isArray(l.accounts) ? l : null))
    .catch(() => null);
  return localnetPromise;
}

export async function demoWallet(account: DemoAccount): Promise<Wallet> {
  const { DirectSecp256k1HdWallet } = await import("@cosmjs/proto-signing");
  const signer = await DirectSecp256k1HdWallet.fromMnemonic(account.mnemonic, { prefix: PREFIX });
  const [{ address }] = await signer.getAccounts();
  return { name: account.name, address, kind: "demo", signer };
}

interface Keplr {
  experimentalSuggestChain(info: unknown): Promise<void>;
  enable(chainId: string): Promise<void>;
  getOfflineSigner(chainId: string): OfflineDirectSigner;
  getKey(chainId: string): Promise<{ name: string; bech32Address: string }>;
}

export function keplr(): Keplr | undefined {
  return (window as unknown as { keplr?: Keplr }).keplr;
}

/** Suggests the chain to Keplr (endpoints and chain id from the node), then signs with it. */
export async function connectKeplr(): Promise<Wallet> {
  const k = keplr();
  if (!k) throw new Error("Keplr is not installed");
  const id = await chainId();
  const rest = restBase();
  const rpc = (await localnet())?.rpc ?? rest;
  const sure = { coinDenom: "SURE", coinMinimalDenom: "usure", coinDecimals: 6 };
  const usdc = { coinDenom: "USDC", coinMinimalDenom: "uusdc", coinDecimals: 6 };
  await k.experimentalSuggestChain({
    chainId: id,
    chainName: `Surety (${id})`,
    rpc,
    rest,
    bip44: { coinType: 118 },
    bech32Config: {
      bech32PrefixAccAddr: PREFIX,
      bech32PrefixAccPub: `${PREFIX}pub`,
      bech32PrefixValAddr: `${PREFIX}valoper`,
      bech32PrefixValPub: `${PREFIX}valoperpub`,
      bech32PrefixConsAddr: `${PREFIX}valcons`,
      bech32PrefixConsPub: `${PREFIX}valconspub`,
    },
    currencies: [sure, usdc],
    feeCurrencies: [{ ...sure, gasPriceStep: { low: 0.0025, average: 0.0025, high: 0.004 } }],
    stakeCurrency: sure,
  });
  await k.enable(id);
  const signer = k.getOfflineSigner(id);
  const [{ address }] = await signer.getAccounts();
  const key = await k.getKey(id).catch(() => null);
  return { name: key?.name ? `Keplr: ${key.name}` : "Keplr", address, kind: "keplr", signer };
}

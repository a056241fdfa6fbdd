// Transactions: encode with a cosmjs Registry (Cosmos SDK types plus Surety's, from the repo's
// protos), simulate for gas, sign SIGN_MODE_DIRECT offline, broadcast over REST and wait for
// the block. Loaded on first use (see api/msgs.ts for what pages import).
import { encodePubkey, type EncodeObject, type GeneratedType, Registry } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { toBase64 } from "@cosmjs/encoding";
import { defaultRegistryTypes, SigningStargateClient, type StdFee } from "@cosmjs/stargate";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { AuthInfo, TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import protobuf from "protobufjs/light";
import descriptor from "../gen/proto.json";
import * as chain from "./chain";
import { cleanMessage, getOptional, post, RestError } from "./rest";
import type { Committed, Stage } from "./msgs";
import type { TxResponse } from "./types";
import type { Wallet } from "./wallet";

export const GAS_PRICE = 0.0025;
export const FEE_DENOM = "usure";
const GAS_ADJUSTMENT = 1.4;

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** A protobufjs type as cosmjs wants it; values use the proto field names (`product_id`). */
function generated(fullName: string): GeneratedType {
  const type = root.lookupType(fullName);
  return {
    fromPartial: (object: Record<string, unknown>) => type.fromObject(object),
    encode: (message: protobuf.Message) => type.encode(type.fromObject(message)),
    decode: (bytes: Uint8Array) => type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true }),
  } as unknown as GeneratedType;
}

/** Every `Msg…` of Surety's modules, under `/surety.<module>.v1.Msg…`. */
const suretyTypes: [string, GeneratedType][] = ["pool", "policy", "claims", "oracle"].flatMap((module) => {
  const ns = root.lookup(`surety.${module}.v1`) as protobuf.Namespace;
  return ns.nestedArray
    .filter((t) => t instanceof protobuf.Type && /^Msg(?!.*Response$)/.test(t.name))
    .map((t) => {
      const name = `surety.${module}.v1.${t.name}`;
      return [`/${name}`, generated(name)] as [string, GeneratedType];
    });
});

export const registry = new Registry([...defaultRegistryTypes, ...suretyTypes]);

/** A failed transaction: `policy error 7: premium exceeds max_premium`. */
export class TxError extends Error {
  constructor(
    readonly codespace: string,
    readonly code: number,
    readonly rawLog: string,
    readonly txhash?: string,
  ) {
    super(`${codespace || "sdk"} error ${code}: ${rawLog}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Simulates, signs, broadcasts and waits until `msgs` are in a block; throws a TxError if the chain refuses them. */
export async function signAndBroadcast(
  wallet: Wallet,
  msgs: EncodeObject[],
  onStage: (stage: Stage, detail?: string) => void = () => {},
  memo = "",
): Promise<Committed> {
  onStage("preparing");
  const [chainId, account, keys] = await Promise.all([
    chain.chainId(),
    chain.account(wallet.address),
    wallet.signer.getAccounts(),
  ]);
  if (!account) throw new Error(`account ${wallet.address} does not exist on chain yet: fund it first`);
  const key = keys.find((k) => k.address === wallet.address);
  if (!key) throw new Error(`the signer has no key for ${wallet.address}`);
  const sequence = Number(account.sequence);
  const accountNumber = BigInt(account.account_number);

  onStage("simulating");
  const gasUsed = await simulate(msgs, memo, key.pubkey, sequence);
  const gas = Math.ceil(gasUsed * GAS_ADJUSTMENT);
  const fee: StdFee = {
    amount: [{ denom: FEE_DENOM, amount: String(Math.ceil(gas * GAS_PRICE)) }],
    gas: String(gas),
  };

  onStage("signing");
  const client = await SigningStargateClient.offline(wallet.signer, { registry });
  const raw = await client.sign(wallet.address, msgs, fee, memo, { accountNumber, sequence, chainId });
  const txBytes = toBase64(TxRaw.encode(raw).finish());

  onStage("broadcasting");
  const { tx_response: sent } = await post<{ tx_response: TxResponse }>("/cosmos/tx/v1beta1/txs", {
    tx_bytes: txBytes,
    mode: "BROADCAST_MODE_SYNC",
  });
  if (sent.code !== 0) throw new TxError(sent.codespace, sent.code, sent.raw_log, sent.txhash);

  const started = Date.now();
  for (;;) {
    onStage("waiting", sent.txhash);
    const found = await getOptional<{ tx_response: TxResponse }>(`/cosmos/tx/v1beta1/txs/${sent.txhash}`);
    if (found) {
      const r = found.tx_response;
      if (r.code !== 0) throw new TxError(r.codespace, r.code, r.raw_log, r.txhash);
      onStage("done", r.txhash);
      return { txhash: r.txhash, height: Number(r.height), gasUsed: Number(r.gas_used), response: r };
    }
    if (Date.now() - started > 90_000) throw new Error(`tx ${sent.txhash} was not committed within 90 s`);
    await sleep(1000);
  }
}

/** Gas the messages use, from `POST /cosmos/tx/v1beta1/simulate` with an unsigned tx (the node checks no signature when simulating). */
async function simulate(msgs: EncodeObject[], memo: string, pubkey: Uint8Array, sequence: number): Promise<number> {
  const body = TxBody.fromPartial({ messages: msgs.map((m) => registry.encodeAsAny(m)), memo });
  const authInfo = AuthInfo.fromPartial({
    signerInfos: [
      {
        publicKey: encodePubkey(encodeSecp256k1Pubkey(pubkey)),
        modeInfo: { single: { mode: SignMode.SIGN_MODE_UNSPECIFIED } },
        sequence: BigInt(sequence),
      },
    ],
    fee: {},
  });
  const tx = TxRaw.fromPartial({
    bodyBytes: TxBody.encode(body).finish(),
    authInfoBytes: AuthInfo.encode(authInfo).finish(),
    signatures: [new Uint8Array()],
  });
  try {
    const r = await post<{ gas_info: { gas_used: string } }>("/cosmos/tx/v1beta1/simulate", {
      tx_bytes: toBase64(TxRaw.encode(tx).finish()),
    });
    return Number(r.gas_info.gas_used);
  } catch (e) {
    throw e instanceof RestError ? simulationError(e) : e;
  }
}

/** A refused simulation reads like a refused tx when the message names the module error. */
function simulationError(e: RestError): Error {
  const text = cleanMessage(e.message);
  const m = text.match(/(?:codespace[ =:]+)?(\w+) error (\d+): ([\s\S]*)$/);
  return m ? new TxError(m[1], Number(m[2]), m[3]) : new Error(`simulation failed: ${text}`);
}

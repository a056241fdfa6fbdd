// What pages need to describe a transaction and read its result, without loading the signing
// code (cosmjs, protobufjs), which api/tx.ts holds and is loaded on first use.
import type { EncodeObject } from "@cosmjs/proto-signing";
import type { TxResponse } from "./types";

/** A message for the registry: `msg("/surety.policy.v1.MsgBuyCover", {buyer, product_id, …})`. */
export function msg(typeUrl: string, value: Record<string, unknown>): EncodeObject {
  return { typeUrl, value };
}

export type Stage = "preparing" | "simulating" | "signing" | "broadcasting" | "waiting" | "done";

export interface Committed {
  txhash: string;
  height: number;
  gasUsed: number;
  response: TxResponse;
}

/** The first value of an event attribute in a committed transaction, e.g. (`cover_bought`, `policy_id`). */
export function eventAttribute(tx: Committed, type: string, key: string): string | undefined {
  for (const e of tx.response.events ?? []) {
    if (e.type !== type) continue;
    const a = e.attributes.find((a) => a.key === key);
    if (a) return a.value;
  }
  return undefined;
}

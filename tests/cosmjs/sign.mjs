// Keplr's flow against the REST (LCD) gateway: read the account and chain id over REST, sign a
// MsgSend offline with a stock cosmjs SigningStargateClient, and print the TxRaw bytes (base64)
// without broadcasting them; the caller simulates and broadcasts them through REST.
//   REST=http://127.0.0.1:1317 MNEMONIC="..." RECIPIENT=surety1... AMOUNT=777 node sign.mjs
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningStargateClient } from "@cosmjs/stargate";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const { REST, MNEMONIC, RECIPIENT, AMOUNT = "777" } = process.env;
const get = async (path) => {
  const response = await fetch(REST + path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
};

const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "surety" });
const [{ address }] = await wallet.getAccounts();
const { account } = await get(`/cosmos/auth/v1beta1/accounts/${address}`);
const { default_node_info } = await get("/cosmos/base/tendermint/v1beta1/node_info");

const client = await SigningStargateClient.offline(wallet);
const send = {
  typeUrl: "/cosmos.bank.v1beta1.MsgSend",
  value: { fromAddress: address, toAddress: RECIPIENT, amount: [{ denom: "uusdc", amount: AMOUNT }] },
};
const fee = { amount: [{ denom: "usure", amount: "2000" }], gas: "200000" };
const raw = await client.sign(address, [send], fee, "via REST", {
  accountNumber: Number(account.account_number),
  sequence: Number(account.sequence),
  chainId: default_node_info.network,
});

console.log(JSON.stringify({
  sender: address,
  accountType: account["@type"],
  chainId: default_node_info.network,
  txBytes: Buffer.from(TxRaw.encode(raw).finish()).toString("base64"),
}));

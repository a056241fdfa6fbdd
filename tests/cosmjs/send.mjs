// A stock cosmjs SigningStargateClient against a Surety node: nothing here knows it is not a
// Cosmos SDK chain except the address prefix and denoms.
//   RPC=http://127.0.0.1:26657 MNEMONIC="..." RECIPIENT=surety1... node send.mjs
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";

const { RPC, MNEMONIC, RECIPIENT } = process.env;
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "surety" });
const [{ address }] = await wallet.getAccounts();

const reader = await StargateClient.connect(RPC);
const chainId = await reader.getChainId();
const account = await reader.getAccount(address);
const [fresh] = await (await DirectSecp256k1HdWallet.generate(24, { prefix: "surety" })).getAccounts();
const missing = await reader.getAccount(fresh.address); // never seen on chain
const before = await reader.getBalance(RECIPIENT, "usure");

const client = await SigningStargateClient.connectWithSigner(RPC, wallet, {
  gasPrice: GasPrice.fromString("0.0025usure"),
});
const result = await client.sendTokens(address, RECIPIENT, [{ denom: "usure", amount: "4242" }], "auto", "from cosmjs");
const after = await reader.getBalance(RECIPIENT, "usure");
const all = await reader.getAllBalances(address);

// BigInts (account numbers, gas) are printed as strings.
console.log(JSON.stringify({
  chainId,
  sender: address,
  accountNumber: account?.accountNumber,
  sequenceBefore: account?.sequence,
  missingAccountIsNull: missing === null,
  code: result.code,
  height: result.height,
  gasUsed: String(result.gasUsed),
  msgResponses: result.msgResponses.map((r) => r.typeUrl),
  before: before.amount,
  after: after.amount,
  senderDenoms: all.map((c) => c.denom),
}, (_, v) => (typeof v === "bigint" ? v.toString() : v)));

// Typed reads of the chain, one function a route.
import { get, getData, getOptional } from "./rest";
import type * as T from "./types";

const enc = encodeURIComponent;
const page = { "pagination.limit": 500 };

export const nodeInfo = () => getData<T.NodeInfo>("/cosmos/base/tendermint/v1beta1/node_info");

let chainIdPromise: Promise<string> | undefined;
/** The chain id: `default_node_info.network`, asked once. */
export function chainId(): Promise<string> {
  chainIdPromise ??= nodeInfo().then((i) => i.default_node_info.network);
  chainIdPromise.catch(() => (chainIdPromise = undefined));
  return chainIdPromise;
}

export const account = (address: string) =>
  getOptional<{ account: T.BaseAccount }>(`/cosmos/auth/v1beta1/accounts/${enc(address)}`).then(
    (r) => r?.account ?? null,
  );

export const balances = (address: string) =>
  getData<{ balances: T.Coin[] }>(`/cosmos/bank/v1beta1/balances/${enc(address)}`).then((r) => r.balances);

// pool
export const pools = (height?: number) => get<{ pools: T.PoolView[] }>("/surety/pool/v1/pools", page, height);
export const position = (poolId: string, owner: string) =>
  getOptional<{ position: T.Position; value: string }>(`/surety/pool/v1/pools/${poolId}/positions/${enc(owner)}`);
export const exposures = (poolId: string) =>
  getData<{ exposures: T.Exposure[]; capital: string }>(`/surety/pool/v1/pools/${poolId}/exposures`);
export const capitalModel = (poolId: string, trials: number, seed = 1) =>
  getData<T.CapitalModel>(`/surety/pool/v1/pools/${poolId}/capital_model`, { trials, seed });

// policy
export const products = () =>
  getData<{ products: T.Product[] }>("/surety/policy/v1/products", page).then((r) => r.products);
export const quote = (productId: string, cover: string, termDays: number) =>
  getData<T.Quote>(`/surety/policy/v1/products/${productId}/quote`, { cover, term_days: termDays });
export const policies = (owner: string) =>
  getData<{ policies: T.Policy[] }>("/surety/policy/v1/policies", { owner, ...page }).then((r) => r.policies);

// claims
export const claimsParams = () => getData<{ params: T.ClaimsParams }>("/surety/claims/v1/params").then((r) => r.params);
export const claims = (policyId?: string) =>
  getData<{ claims: T.Claim[] }>("/surety/claims/v1/claims", { policy_id: policyId, ...page }).then((r) => r.claims);
export const claim = (claimId: string) =>
  getData<{ claim: T.Claim; votes: T.ClaimVote[] }>(`/surety/claims/v1/claims/${claimId}`);
export const appeals = () => getData<{ claims: T.Claim[] }>("/surety/claims/v1/appeals", page).then((r) => r.claims);
export const assessor = (address: string) =>
  getOptional<{ assessor: T.Assessor | null }>(`/surety/claims/v1/assessors/${enc(address)}`).then(
    (r) => r?.assessor ?? null,
  );

// oracle
export const oracleParams = () => getData<{ params: T.OracleParams }>("/surety/oracle/v1/params").then((r) => r.params);
export const prices = () => getData<{ prices: T.Price[] }>("/surety/oracle/v1/prices").then((r) => r.prices);
export const priceHistory = (feed: string, limit = 200) =>
  getData<{ prices: T.Price[] }>("/surety/oracle/v1/history", { feed, limit }).then((r) => r.prices);
export const incidents = () =>
  getData<{ incidents: T.Incident[] }>("/surety/oracle/v1/incidents", page).then((r) => r.incidents);
export const incident = (id: string) =>
  getData<{ incident: T.Incident; attestations: T.Attestation[] }>(`/surety/oracle/v1/incidents/${id}`);

// staking and governance
export const validators = () =>
  getData<{ validators: T.Validator[] }>("/cosmos/staking/v1beta1/validators", page).then((r) => r.validators);
export const proposals = () =>
  getData<{ proposals: T.Proposal[] }>("/cosmos/gov/v1/proposals", page).then((r) =>
    // newest first
    [...r.proposals].sort((a, b) => Number(b.id) - Number(a.id)),
  );
export const tally = (proposalId: string) =>
  getData<{ tally: T.TallyResult }>(`/cosmos/gov/v1/proposals/${proposalId}/tally`).then((r) => r.tally);
export const tallyParams = () =>
  getData<{ tally_params?: T.TallyParams; params?: T.TallyParams }>("/cosmos/gov/v1/params/tallying").then(
    (r) => r.tally_params ?? r.params ?? null,
  );
export const policy = (policyId: string) =>
  getData<{ policy: T.Policy }>(`/surety/policy/v1/policies/${policyId}`).then((r) => r.policy);

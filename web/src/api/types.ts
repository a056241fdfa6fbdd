// The JSON the REST gateway answers with: proto field names, 64-bit integers as strings, enums
// by name. Only the fields the app reads are typed.

export interface Coin {
  denom: string;
  amount: string;
}

export interface PageResponse {
  next_key?: string | null;
  total?: string;
}

// --- pool -----------------------------------------------------------------------------------

export interface Reinsurance {
  reinsurer_pool_id: string;
  quota_share_bps: number;
  xol_retention: string;
  xol_limit: string;
  xol_premium_bps: number;
}

export interface Pool {
  id: string;
  name: string;
  denom: string;
  products: { product_id: string; weight_bps: number }[];
  leverage_bps: number;
  reinsurance?: Reinsurance | null;
  total_shares: string;
  cash: string;
  unearned_premium: string;
  active_cover: string;
  selling: boolean;
  accrued_to: string;
}

export interface PoolView {
  pool: Pool;
  capital: string;
  capacity: string;
  utilisation_bps: number;
  capital_requirement: string;
  share_price: string;
}

export interface Position {
  pool_id: string;
  owner: string;
  shares: string;
  withdrawing_shares: string;
  unlock_time: string;
}

export interface Exposure {
  product_id: string;
  gross: string;
  net: string;
}

export interface CapitalModelProduct {
  product: string;
  product_id: string;
  /** Incident category the product is priced in (`lending`, `stablecoin`…), or `pooled`. */
  category: string;
  net_exposure: string;
  /** Incidents a year. */
  annual_frequency: number;
  /** Mean loss of an incident, as a fraction of the exposure. */
  mean_severity: number;
  /** Expected claims a year per unit of cover, in basis points. */
  expected_loss_rate_bps: number;
  /** The product's annual base rate on chain. */
  current_rate_bps: number;
  /** Expected loss rate plus the model's loading, rounded up. */
  recommended_rate_bps: number;
}

export interface CapitalModel {
  pool_id: string;
  trials: number | string;
  capital: string;
  expected_annual_loss: string;
  var_99_5: string;
  tvar_99_5: string;
  /** A fraction, or a percentage string (`0.1200%`). */
  probability_loss_exceeds_capital: number | string;
  max_simulated_loss: string;
  /** Capital ÷ expected annual loss (null without expected loss); 1.5–2× is the rule of thumb. */
  reserve_ratio: number | null;
  products: CapitalModelProduct[];
  curve: [number, number][];
}

// --- policy ---------------------------------------------------------------------------------

export interface Trigger {
  feed: string;
  threshold: string;
  duration_secs: string;
  floor: string;
  il_threshold_bps: number;
  il_cap_bps: number;
}

export interface Product {
  id: string;
  name: string;
  protocol: string;
  cover_type: string;
  denom: string;
  annual_base_rate_bps: number;
  min_term_days: number;
  max_term_days: number;
  max_cover: string;
  deductible_bps: number;
  claim_mode: string;
  trigger?: Trigger | null;
  grace_period_secs: string;
  paused: boolean;
}

export interface Allocation {
  pool_id: string;
  cover: string;
  premium: string;
}

export interface Quote {
  premium: string;
  allocations: Allocation[];
  annual_rate_bps: number;
}

export interface Policy {
  id: string;
  owner: string;
  product_id: string;
  cover: string;
  denom: string;
  start: string;
  end: string;
  premium: string;
  allocations: Allocation[];
  terms?: Product | null;
  claimed: boolean;
  entry_price: string;
  /** Cover used by paid claims; the rest stays in force. */
  claimed_cover?: string;
  /** Slashing cover: the insured validator. */
  validator?: string;
}

// --- claims ---------------------------------------------------------------------------------

export type ClaimStatus =
  | "CLAIM_STATUS_UNSPECIFIED"
  | "CLAIM_STATUS_VOTING"
  | "CLAIM_STATUS_PAID"
  | "CLAIM_STATUS_REJECTED"
  | "CLAIM_STATUS_APPEALED";

export interface Claim {
  id: string;
  policy_id: string;
  claimant: string;
  incident: string;
  loss: string;
  evidence: string;
  filed_at: string;
  status: ClaimStatus;
  voting_ends: string;
  approve_weight: string;
  reject_weight: string;
  payout: string;
  appeal_deadline: string;
  deposit?: Coin | null;
  fee?: Coin | null;
  appeal_bond?: Coin | null;
}

export interface ClaimVote {
  claim_id: string;
  assessor: string;
  approve: boolean;
  weight: string;
}

export interface Assessor {
  address: string;
  stake: string;
  locked_until: string;
}

export interface ClaimsParams {
  claim_deposit?: Coin | null;
  claim_fee?: Coin | null;
  assessor_denom: string;
  voting_period_secs: string;
  quorum_bps: number;
  threshold_bps: number;
  appeal_window_secs: string;
  appeal_bond?: Coin | null;
  appeal_period_secs: string;
}

// --- oracle ---------------------------------------------------------------------------------

export interface Price {
  feed: string;
  price: string;
  time: string;
  height: string;
}

export interface Incident {
  id: string;
  protocol: string;
  time: string;
  description: string;
  evidence: string;
  status: string;
  reporter: string;
  bond?: Coin | null;
  reported_at: string;
  deadline: string;
  yes_power: string;
  no_power: string;
  decided_height: string;
}

export interface Attestation {
  incident_id: string;
  confirm: boolean;
  validator: string;
}

export interface OracleParams {
  feeds: string[];
  min_power_bps: number;
  attestation_window_secs: string;
}

// --- cosmos ---------------------------------------------------------------------------------

export interface BaseAccount {
  "@type": string;
  address: string;
  account_number: string;
  sequence: string;
}

export interface NodeInfo {
  default_node_info: { network: string; moniker?: string; version?: string };
  application_version?: { name?: string; version?: string };
}

export interface TallyResult {
  yes_count: string;
  abstain_count: string;
  no_count: string;
  no_with_veto_count: string;
}

export interface Proposal {
  id: string;
  messages: { "@type": string; [k: string]: unknown }[];
  status: string;
  final_tally_result?: TallyResult | null;
  submit_time?: string | null;
  deposit_end_time?: string | null;
  total_deposit: Coin[];
  voting_start_time?: string | null;
  voting_end_time?: string | null;
  metadata: string;
  title: string;
  summary: string;
  proposer: string;
  expedited: boolean;
  failed_reason: string;
}

export interface TallyParams {
  quorum: string;
  threshold: string;
  veto_threshold: string;
}

export interface Validator {
  operator_address: string;
  tokens: string;
  status: string;
  jailed: boolean;
  description?: { moniker?: string };
}

export interface TxResponse {
  height: string;
  txhash: string;
  codespace: string;
  code: number;
  raw_log: string;
  gas_used: string;
  gas_wanted: string;
  events?: { type: string; attributes: { key: string; value: string }[] }[];
}

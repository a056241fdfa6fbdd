//! What the load is made of: the message each transaction carries, the gas a wallet would ask
//! for it (simulated once, as `--gas auto` does), what the load accounts and pools need before
//! it can run (topped up, so a second run from the same funder works), and the transactions
//! signed ahead so that signing does not compete with the node for the CPU.

use crate::client::Client;
use crate::txbuilder::{for_simulation, sign, Unsigned};
use anyhow::{bail, Context as _, Result};
use cosmrs::crypto::secp256k1::SigningKey;
use surety_framework::{Address, Coin, Coins};
use surety_proto::cosmos::bank::v1beta1::{
    Input, MsgMultiSend, MsgSend, Output, QueryBalanceRequest, QueryBalanceResponse,
};
use surety_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use surety_proto::surety::policy::v1::MsgBuyCover;
use surety_proto::surety::pool::v1::{MsgDeposit, QueryPoolRequest, QueryPoolResponse};
use surety_proto::{to_any, Any};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// 1usure bank sends.
    Send,
    /// 1 USDC of cover for 30 days on `--product-id` (the demo market's Aave cover by default).
    BuyCover,
    /// 1 USDC deposits into `--pool-id`.
    Deposit,
    /// Sends, purchases and deposits in turn.
    Mix,
}

/// The kinds of message a workload is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Send,
    BuyCover,
    Deposit,
}

/// Everything a load account pays with: fees and sends in usure, cover and deposits in USDC.
const USURE_EACH: u128 = 10_000_000_000;
const USDC_EACH: u128 = 10_000_000_000;
const USDC: &str = "uusdc";
/// Capital each pool of the purchased product is kept at, so purchases never run out of
/// capacity during a run.
const POOL_CAPITAL: u128 = 100_000_000_000_000;
/// The fee per unit of gas (the node's default minimum gas price).
const GAS_PER_USURE: u64 = 400;

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Send => "send",
            Workload::BuyCover => "buy-cover",
            Workload::Deposit => "deposit",
            Workload::Mix => "mix",
        }
    }

    fn kinds(self) -> &'static [Kind] {
        match self {
            Workload::Send => &[Kind::Send],
            Workload::BuyCover => &[Kind::BuyCover],
            Workload::Deposit => &[Kind::Deposit],
            Workload::Mix => &[Kind::Send, Kind::BuyCover, Kind::Deposit],
        }
    }

    fn needs_market(self) -> bool {
        self != Workload::Send
    }
}

/// The chain's conventions a load follows: Surety's by default, another Cosmos SDK chain's (its
/// bech32 prefix and fee denom) for a bank-send load on it, such as `simd` in `scripts/bench`.
#[derive(Clone, Debug)]
pub struct Chain {
    pub prefix: String,
    pub denom: String,
}

impl Chain {
    pub fn surety() -> Chain {
        Chain {
            prefix: surety_framework::address::ACCOUNT_PREFIX.into(),
            denom: "usure".into(),
        }
    }

    pub fn address(&self, a: &Address) -> String {
        a.to_bech32_with(&self.prefix)
    }

    fn fee(&self, gas: u64) -> Coins {
        Coins::of(u128::from(gas.div_ceil(GAS_PER_USURE)), &self.denom)
    }
}

/// How one load account signs its transactions: the message of each sequence number, its gas and
/// fee (simulated once per kind of message).
#[derive(Clone)]
pub struct Plan {
    pub workload: Workload,
    pub product_id: u64,
    pub pool_id: u64,
    pub chain_id: String,
    chain: Chain,
    sink: String,
    /// Gas per kind, in the order of `workload.kinds()`.
    gas: Vec<u64>,
}

impl Plan {
    fn message(&self, kind: Kind, from: &Address) -> Any {
        let me = self.chain.address(from);
        match kind {
            Kind::Send => to_any(&MsgSend {
                from_address: me,
                to_address: self.sink.clone(),
                amount: vec![Coin::new(1, &self.chain.denom).to_proto()],
            }),
            Kind::BuyCover => to_any(&MsgBuyCover {
                buyer: me,
                product_id: self.product_id,
                cover: "1000000".into(),
                term_days: 30,
                max_premium: "1000000".into(),
                validator: String::new(),
            }),
            Kind::Deposit => to_any(&MsgDeposit {
                provider: me,
                pool_id: self.pool_id,
                amount: "1000000".into(),
            }),
        }
    }

    fn unsigned(
        &self,
        kind_index: usize,
        from: &Address,
        account_number: u64,
        sequence: u64,
    ) -> Unsigned {
        let kinds = self.workload.kinds();
        let kind = kinds[kind_index % kinds.len()];
        let gas = self
            .gas
            .get(kind_index % kinds.len())
            .copied()
            .unwrap_or(200_000);
        Unsigned {
            messages: vec![self.message(kind, from)],
            memo: String::new(),
            fee: self.chain.fee(gas),
            gas_limit: gas,
            account_number,
            sequence,
            chain_id: self.chain_id.clone(),
        }
    }

    /// The signed transaction of `sequence` (its message chosen by the sequence, so a mix
    /// stays a mix whatever is resent).
    pub fn sign(&self, key: &SigningKey, account_number: u64, sequence: u64) -> Result<Vec<u8>> {
        let from = address_of(key);
        sign(
            key,
            &self.unsigned(sequence as usize, &from, account_number, sequence),
        )
    }

    /// Transactions `sequence..sequence + n`, signed now.
    pub fn presign(
        &self,
        key: &SigningKey,
        account_number: u64,
        sequence: u64,
        n: usize,
    ) -> Result<Vec<Vec<u8>>> {
        (sequence..sequence + n as u64)
            .map(|s| self.sign(key, account_number, s))
            .collect()
    }

    /// The gas each kind of message is signed with.
    pub fn gas(&self) -> &[u64] {
        &self.gas
    }

    /// A typical transaction's size, for the kvstore comparison.
    pub fn tx_bytes(&self, key: &SigningKey, account_number: u64, sequence: u64) -> Result<usize> {
        Ok(self.sign(key, account_number, sequence)?.len())
    }
}

pub fn address_of(key: &SigningKey) -> Address {
    Address::from_secp256k1(&key.public_key().to_bytes())
}

/// Signs and commits one transaction of the funder.
fn commit(
    client: &Client,
    chain: &Chain,
    key: &SigningKey,
    chain_id: &str,
    messages: Vec<Any>,
    gas: u64,
    what: &str,
) -> Result<()> {
    let account = client
        .account(&chain.address(&address_of(key)))?
        .with_context(|| format!("{what}: the funding account does not exist"))?;
    let tx = sign(
        key,
        &Unsigned {
            messages,
            memo: String::new(),
            fee: chain.fee(gas),
            gas_limit: gas,
            account_number: account.account_number,
            sequence: account.sequence,
            chain_id: chain_id.to_string(),
        },
    )?;
    let hash = client.broadcast_sync(tx)?;
    let committed = client.wait_committed(&hash, std::time::Duration::from_secs(60))?;
    if committed.code != 0 {
        bail!("{what} failed: {}", committed.log);
    }
    Ok(())
}

fn balance(client: &Client, chain: &Chain, who: &Address, denom: &str) -> Result<u128> {
    let r: QueryBalanceResponse = client.query(
        "/cosmos.bank.v1beta1.Query/Balance",
        &QueryBalanceRequest {
            address: chain.address(who),
            denom: denom.into(),
        },
    )?;
    Ok(r.balance
        .map(|c| c.amount.parse().unwrap_or(0))
        .unwrap_or(0))
}

/// Tops every load account up to what a run spends at most (only those below half of it), with
/// one MultiSend from the funder: a rerun against the same network costs only what was spent.
pub fn top_up(
    client: &Client,
    chain: &Chain,
    funder: &SigningKey,
    chain_id: &str,
    accounts: &[Address],
    workload: Workload,
) -> Result<usize> {
    let mut wants: Vec<(&str, u128)> = vec![(&chain.denom, USURE_EACH)];
    if workload.needs_market() {
        wants.push((USDC, USDC_EACH));
    }
    let mut outputs = Vec::new();
    let mut total = Coins::new();
    for a in accounts {
        let mut coins = Coins::new();
        for (denom, target) in &wants {
            let has = balance(client, chain, a, denom)?;
            if has < target / 2 {
                coins = coins
                    .checked_add(&Coins::of(target - has, denom))
                    .map_err(|e| anyhow::anyhow!(e.log))?;
            }
        }
        if !coins.is_empty() {
            total = total
                .checked_add(&coins)
                .map_err(|e| anyhow::anyhow!(e.log))?;
            outputs.push(Output {
                address: chain.address(a),
                coins: coins.to_proto(),
            });
        }
    }
    if outputs.is_empty() {
        return Ok(0);
    }
    let n = outputs.len();
    let msg = MsgMultiSend {
        inputs: vec![Input {
            address: chain.address(&address_of(funder)),
            coins: total.to_proto(),
        }],
        outputs,
    };
    commit(
        client,
        chain,
        funder,
        chain_id,
        vec![to_any(&msg)],
        100_000 + 40_000 * n as u64,
        "funding the load accounts",
    )?;
    Ok(n)
}

/// Keeps the pools behind purchases (the one given and its reinsurer) at [`POOL_CAPITAL`].
pub fn capitalise(
    client: &Client,
    funder: &SigningKey,
    chain_id: &str,
    pool_ids: &[u64],
) -> Result<()> {
    let mut deposits = Vec::new();
    for &pool_id in pool_ids {
        let r: QueryPoolResponse = client
            .query("/surety.pool.v1.Query/Pool", &QueryPoolRequest { pool_id })
            .with_context(|| format!("pool {pool_id} (is the demo market in genesis?)"))?;
        let capital: u128 = r.pool.map(|p| p.capital.parse().unwrap_or(0)).unwrap_or(0);
        if capital < POOL_CAPITAL {
            deposits.push(to_any(&MsgDeposit {
                provider: address_of(funder).to_bech32(),
                pool_id,
                amount: (POOL_CAPITAL - capital).to_string(),
            }));
        }
    }
    if deposits.is_empty() {
        return Ok(());
    }
    commit(
        client,
        &Chain::surety(),
        funder,
        chain_id,
        deposits,
        2_000_000,
        "capitalising the pools",
    )
}

/// The plan, with each kind of message's gas simulated from `key`'s account (used × 1.2), or
/// `gas` for every kind if it is not 0.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    client: &Client,
    chain: &Chain,
    key: &SigningKey,
    chain_id: &str,
    gas: u64,
    workload: Workload,
    product_id: u64,
    pool_id: u64,
) -> Result<Plan> {
    let mut plan = Plan {
        workload,
        product_id,
        pool_id,
        chain_id: chain_id.to_string(),
        chain: chain.clone(),
        sink: chain.address(&Address([0x5e; 20])),
        gas: Vec::new(),
    };
    let from = address_of(key);
    let account = client
        .account(&chain.address(&from))?
        .context("load account missing")?;
    if gas > 0 {
        plan.gas = vec![gas; workload.kinds().len()];
        return Ok(plan);
    }
    for i in 0..workload.kinds().len() {
        let mut unsigned = plan.unsigned(i, &from, account.account_number, account.sequence);
        unsigned.gas_limit = 10_000_000;
        #[allow(deprecated)]
        let request = SimulateRequest {
            tx: None,
            tx_bytes: for_simulation(key, &unsigned)?,
        };
        let r: SimulateResponse = client
            .query("/cosmos.tx.v1beta1.Service/Simulate", &request)
            .with_context(|| format!("simulating a {} transaction", workload.name()))?;
        let used = r.gas_info.context("no gas info")?.gas_used;
        plan.gas.push(used + used / 5);
    }
    Ok(plan)
}

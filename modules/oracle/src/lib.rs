//! oracle: validators' votes on prices and incidents.
//!
//! Prices arrive in ABCI vote extensions (see [`votes`]): FinalizeBlock aggregates a
//! stake-weighted median per governance-approved feed when at least 2/3 of the power reported,
//! and keeps the history for TWAPs and triggers. Incidents are reported by anyone with a bond and
//! attested by validators — in their vote extensions or with `MsgAttestIncident` — within a
//! window: confirmed at 2/3 of bonded power (bond back, with a reward when the treasury can pay
//! it), rejected otherwise (bond forfeited). Validators that miss too many oracle votes in a
//! window are slashed a little and jailed. The claims module reads all this through
//! [`surety_framework::oracle::OracleView`].
//!
//! Block hooks do bounded work: incident deadlines come off a [`DeadlineQueue`] a budget at a
//! time, each decided on its own branch; price history is pruned past its retention window a
//! few feeds per block (see [`history`]).

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod history;
pub mod msgs;
mod query;
#[cfg(test)]
mod testing;
pub mod votes;

use prost::Message;
use surety_framework::error::fatal;
use surety_framework::math::{mul_div, Round};
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::oracle::{IncidentView, OracleView, PricePoint, ProtocolRegistry};
use surety_framework::{
    sdk, Address, Coin, Coins, Ctx, DeadlineQueue, Dec, Error, Event, Module, Msgs, ValidatorUpdate,
};
use surety_proto::cometbft::abci::ExtendedCommitInfo;
use surety_proto::surety::oracle::v1::*;

pub const STORE: &str = "oracle";
/// Holds incident bonds while attestations run.
pub const ORACLE_ACCOUNT: &str = surety_framework::accounts::ORACLE;
const TREASURY: &str = surety_framework::accounts::TREASURY;

// Prices (0x01), latest prices (0x07), first kept prices (0x0c) and the pruning cursor (0x0d)
// are laid out in `history`.
const INCIDENTS: u8 = 0x02;
const NEXT_INCIDENT_ID: &[u8] = &[0x03];
const PARAMS: &[u8] = &[0x04];
const ATTESTATIONS: u8 = 0x05;
const MISSES: u8 = 0x06;
const DEADLINES: u8 = 0x08;
const CONFIRMED_AT: u8 = 0x09;
const UPDATED_AT: u8 = 0x0a;
const VE_ENABLE_HEIGHT: &[u8] = &[0x0b];
/// Incidents reported and not yet decided, by protocol: `[OPEN][len u16][protocol][id]`.
const OPEN: u8 = 0x0e;

/// Pending incidents by attestation deadline: `[DEADLINES][time][id]`.
const DEADLINE_QUEUE: DeadlineQueue = DeadlineQueue::new(STORE, DEADLINES);
/// Incidents decided per block when their windows close; the rest wait for the next block.
pub const DEADLINE_BUDGET: usize = 100;
/// A deadline whose decision failed is retried this much later.
const RETRY_SECS: i64 = 3_600;
/// Per-height index entries (confirmed incidents, updated feeds) of past blocks deleted per
/// block: far more than a block adds, so the indexes stay a block deep.
const INDEX_PRUNE_BUDGET: usize = 512;

surety_framework::errors! { "oracle";
    unknown_feed = 2, "unknown feed";
    unlisted_protocol = 3, "protocol is not covered by any product";
    incident_not_found = 4, "incident not found";
    window_closed = 5, "attestation window closed";
    not_validator = 6, "not a bonded validator";
    already_attested = 7, "validator already attested";
    invalid_incident = 8, "invalid incident";
}

fn incident_key(id: u64) -> Vec<u8> {
    [&[INCIDENTS][..], &id.to_be_bytes()].concat()
}

fn attestation_key(id: u64, validator: &[u8]) -> Vec<u8> {
    [&[ATTESTATIONS][..], &id.to_be_bytes(), validator].concat()
}

fn open_prefix(protocol: &str) -> Vec<u8> {
    // Protocol names are at most MAX_NAME (128) bytes; the length keeps one name's entries from
    // running into another's that it prefixes.
    let len = u16::try_from(protocol.len()).unwrap_or(u16::MAX);
    [&[OPEN][..], &len.to_be_bytes(), protocol.as_bytes()].concat()
}

fn open_key(protocol: &str, id: u64) -> Vec<u8> {
    [open_prefix(protocol), id.to_be_bytes().to_vec()].concat()
}

fn height_key(tag: u8, height: u64, rest: &[u8]) -> Vec<u8> {
    [&[tag][..], &height.to_be_bytes(), rest].concat()
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt oracle state: {e}")))
}

pub fn default_params() -> Params {
    Params {
        feeds: vec![],
        min_power_bps: 6_667,
        attestation_window_secs: 24 * 3600,
        incident_bond: Some(Coin::new(100_000_000, "usure").to_proto()),
        incident_reward: Some(Coin::new(10_000_000, "usure").to_proto()),
        miss_window_blocks: 1_000,
        max_missed_bps: 5_000,
        miss_slash_bps: 1,
        price_retention_secs: history::DEFAULT_RETENTION_SECS,
    }
}

fn coins(c: &Option<surety_proto::cosmos::base::v1beta1::Coin>) -> Result<Coins, Error> {
    match c {
        Some(c) => Ok(Coins::of(Coin::from_proto(c)?.amount, &c.denom)),
        None => Ok(Coins::new()),
    }
}

/// The oracle keeper.
#[derive(Clone, Copy, Default)]
pub struct Oracle {
    staking: surety_staking::Staking,
    bank: surety_bank::Bank,
}

impl Oracle {
    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
    }

    pub fn set_params(&self, ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
        msgs::validate_params(p)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), p)
    }

    /// The first height whose votes carry extensions (CometBFT's
    /// `abci.vote_extensions_enable_height`); 0 when they are off.
    pub fn vote_extensions_enable_height(&self, ctx: &mut Ctx) -> Result<u64, Error> {
        Ok(ctx
            .get(STORE, VE_ENABLE_HEIGHT)?
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    pub fn set_vote_extensions_enable_height(&self, ctx: &mut Ctx, h: u64) -> Result<(), Error> {
        ctx.put(STORE, VE_ENABLE_HEIGHT.to_vec(), h.to_be_bytes().to_vec())
    }

    /// Whether the block at `height` must carry the extended commit of `height − 1`.
    pub fn expects_votes(&self, ctx: &mut Ctx, height: u64) -> Result<bool, Error> {
        let enabled = self.vote_extensions_enable_height(ctx)?;
        Ok(enabled > 0 && height > enabled)
    }

    /// Records the aggregated price of `feed` at the current block.
    pub fn record_price(&self, ctx: &mut Ctx, feed: &str, price: Dec) -> Result<(), Error> {
        msgs::feed_name(feed)?;
        if price == Dec::ZERO || price > surety_framework::validate::MAX_PRICE {
            return Err(sdk::invalid_request(format!(
                "price of {feed}: {price} out of range"
            )));
        }
        let p = Price {
            feed: feed.to_string(),
            price: price.to_string(),
            time: ctx.block.time_unix_secs,
            height: ctx.block.height,
        };
        history::store(ctx, &p)?;
        ctx.put(
            STORE,
            height_key(UPDATED_AT, p.height, feed.as_bytes()),
            Vec::new(),
        )?;
        ctx.emit(
            Event::new("oracle_price")
                .attr("feed", feed)
                .attr("price", price),
        );
        Ok(())
    }

    /// Records an incident as decided (genesis and tests; reports go through
    /// [`Oracle::report_incident`]).
    pub fn record_incident(
        &self,
        ctx: &mut Ctx,
        protocol: &str,
        time: i64,
        description: &str,
        status: IncidentStatus,
    ) -> Result<u64, Error> {
        let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
        let incident = Incident {
            id,
            protocol: protocol.to_string(),
            time,
            description: description.to_string(),
            status: status as i32,
            decided_height: ctx.block.height,
            ..Default::default()
        };
        ctx.put_msg(STORE, incident_key(id), &incident)?;
        if status == IncidentStatus::Confirmed {
            ctx.put(
                STORE,
                height_key(CONFIRMED_AT, ctx.block.height, &id.to_be_bytes()),
                Vec::new(),
            )?;
        }
        Ok(id)
    }

    /// The newest `limit` kept prices of `feed`, newest first.
    pub fn history(&self, ctx: &mut Ctx, feed: &str, limit: usize) -> Result<Vec<Price>, Error> {
        let retention = history::retention_secs(&self.params(ctx)?);
        history::newest(ctx, feed, limit, retention)
    }

    pub fn latest(&self, ctx: &mut Ctx, feed: &str) -> Result<Option<Price>, Error> {
        history::latest(ctx, feed)
    }

    pub fn incident_record(&self, ctx: &mut Ctx, id: u64) -> Result<Incident, Error> {
        ctx.get_msg(STORE, &incident_key(id))?
            .ok_or_else(|| incident_not_found(format!("incident {id}")))
    }

    pub fn incidents(&self, ctx: &mut Ctx) -> Result<Vec<Incident>, Error> {
        ctx.prefix(STORE, &[INCIDENTS])?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    /// A page of incidents, by id.
    pub fn incidents_page(
        &self,
        ctx: &mut Ctx,
        page: Option<&surety_framework::PageRequest>,
    ) -> Result<(Vec<Incident>, surety_framework::PageResponse), Error> {
        surety_framework::paginate(ctx, STORE, &[INCIDENTS], page, |_, _, v| {
            decode(v).map(Some)
        })
    }

    pub fn attestations(&self, ctx: &mut Ctx, id: u64) -> Result<Vec<Attestation>, Error> {
        ctx.prefix(STORE, &[&[ATTESTATIONS][..], &id.to_be_bytes()].concat())?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    /// A report of an incident of a listed protocol, with the bond; validators attest until
    /// the window closes.
    pub fn report_incident(
        &self,
        ctx: &mut Ctx,
        registry: &dyn ProtocolRegistry,
        reporter: &Address,
        msg: &MsgReportIncident,
    ) -> Result<u64, Error> {
        if !registry.is_listed(ctx, &msg.protocol)? {
            return Err(unlisted_protocol(format!("{:?}", msg.protocol)));
        }
        let now = ctx.block.time_unix_secs;
        if msg.time > now || msg.time <= 0 {
            return Err(invalid_incident(format!(
                "incident time {} must be in the past (block time {now})",
                msg.time
            )));
        }
        let params = self.params(ctx)?;
        self.bank.send_to_module(
            ctx,
            reporter,
            ORACLE_ACCOUNT,
            &coins(&params.incident_bond)?,
        )?;
        let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
        let incident = Incident {
            id,
            protocol: msg.protocol.clone(),
            time: msg.time,
            description: msg.description.clone(),
            evidence: msg.evidence.clone(),
            status: IncidentStatus::Pending as i32,
            reporter: reporter.to_string(),
            bond: params.incident_bond,
            reported_at: now,
            deadline: now
                .checked_add(params.attestation_window_secs)
                .ok_or_else(|| invalid_incident("attestation deadline overflows"))?,
            ..Default::default()
        };
        ctx.put_msg(STORE, incident_key(id), &incident)?;
        ctx.put(STORE, open_key(&incident.protocol, id), Vec::new())?;
        DEADLINE_QUEUE.push(ctx, incident.deadline, &id.to_be_bytes())?;
        ctx.emit(
            Event::new("incident_reported")
                .attr("incident_id", id)
                .attr("protocol", &incident.protocol)
                .attr("deadline", incident.deadline),
        );
        Ok(id)
    }

    /// A validator's attestation; confirms the incident once yes reaches 2/3 of bonded power.
    pub fn attest(
        &self,
        ctx: &mut Ctx,
        validator: &[u8],
        id: u64,
        confirm: bool,
    ) -> Result<(), Error> {
        let mut incident = self.incident_record(ctx, id)?;
        if incident.status != IncidentStatus::Pending as i32
            || ctx.block.time_unix_secs >= incident.deadline
        {
            return Err(window_closed(format!("incident {id}")));
        }
        let validators = self.staking.consensus_validators(ctx)?;
        let power = validators
            .iter()
            .find(|v| v.address == validator && v.power > 0)
            .map(|v| v.power)
            .ok_or_else(|| not_validator(hex(validator)))?;
        let key = attestation_key(id, validator);
        if ctx.get(STORE, &key)?.is_some() {
            return Err(already_attested(format!(
                "{} on incident {id}",
                hex(validator)
            )));
        }
        ctx.put_msg(
            STORE,
            key,
            &Attestation {
                incident_id: id,
                confirm,
                validator: validator.to_vec(),
            },
        )?;
        let side = if confirm {
            &mut incident.yes_power
        } else {
            &mut incident.no_power
        };
        *side = side
            .checked_add(power)
            .ok_or_else(|| sdk::internal("attested power overflows"))?;
        let total = validators
            .iter()
            .try_fold(0i128, |sum, v| sum.checked_add(i128::from(v.power.max(0))))
            .ok_or_else(|| sdk::internal("bonded power overflows"))?;
        ctx.emit(
            Event::new("incident_attested")
                .attr("incident_id", id)
                .attr("validator", hex(validator))
                .attr("confirm", confirm),
        );
        // Both sides are at most 2⁶⁴·3 in magnitude: no overflow in i128.
        let yes = i128::from(incident.yes_power).saturating_mul(3);
        if yes >= total.saturating_mul(2) {
            self.decide(ctx, &mut incident, true)?;
        } else {
            ctx.put_msg(STORE, incident_key(id), &incident)?;
        }
        Ok(())
    }

    /// Closes an incident: confirmed returns the bond with the reward (when the treasury holds
    /// it), rejected forfeits the bond to the treasury.
    fn decide(&self, ctx: &mut Ctx, incident: &mut Incident, confirmed: bool) -> Result<(), Error> {
        DEADLINE_QUEUE.remove(ctx, incident.deadline, &incident.id.to_be_bytes())?;
        ctx.delete(STORE, open_key(&incident.protocol, incident.id))?;
        incident.decided_height = ctx.block.height;
        let bond = coins(&incident.bond)?;
        let reporter = Address::from_bech32(&incident.reporter)?;
        if confirmed {
            incident.status = IncidentStatus::Confirmed as i32;
            self.bank
                .send_from_module(ctx, ORACLE_ACCOUNT, &reporter, &bond)?;
            let reward = coins(&self.params(ctx)?.incident_reward)?;
            let treasury = Address::module(TREASURY);
            let affordable = reward.iter().all(|c| {
                self.bank
                    .balance(ctx, &treasury, &c.denom)
                    .is_ok_and(|b| b >= c.amount)
            });
            if affordable && !reward.is_empty() {
                self.bank.send(ctx, &treasury, &reporter, &reward)?;
            }
            ctx.put(
                STORE,
                height_key(CONFIRMED_AT, ctx.block.height, &incident.id.to_be_bytes()),
                Vec::new(),
            )?;
        } else {
            incident.status = IncidentStatus::Rejected as i32;
            surety_auth::Auth.ensure_module_account(ctx, TREASURY)?;
            self.bank.send(
                ctx,
                &Address::module(ORACLE_ACCOUNT),
                &Address::module(TREASURY),
                &bond,
            )?;
        }
        ctx.put_msg(STORE, incident_key(incident.id), incident)?;
        ctx.emit(
            Event::new("incident_decided")
                .attr("incident_id", incident.id)
                .attr("confirmed", confirmed)
                .attr("yes_power", incident.yes_power)
                .attr("no_power", incident.no_power),
        );
        Ok(())
    }

    /// Applies the validators' votes of the previous height: medians per feed, attestations,
    /// and missed-vote accounting with its penalties.
    pub fn apply_votes(&self, ctx: &mut Ctx, commit: &ExtendedCommitInfo) -> Result<(), Error> {
        let params = self.params(ctx)?;
        let (ballots, missed) = votes::ballots(commit, &params.feeds);
        let total = commit
            .votes
            .iter()
            .filter_map(|v| v.validator.as_ref().map(|v| v.power.max(0)))
            .fold(0i64, i64::saturating_add);
        for (feed, price) in votes::aggregate(&ballots, total, params.min_power_bps) {
            self.record_price(ctx, &feed, price)?;
        }
        for ballot in &ballots {
            for a in &ballot.vote.attestations {
                // An attestation for a closed or unknown incident is simply ignored: the vote
                // was signed before this block closed it. Only a fatal error stops the block.
                match ctx.branch(|c| self.attest(c, &ballot.validator, a.incident_id, a.confirm)) {
                    Err(e) if e.is_fatal() => return Err(e),
                    _ => {}
                }
            }
        }
        // With no feeds to report there is nothing to miss.
        let missed = if params.feeds.is_empty() {
            Vec::new()
        } else {
            missed
        };
        for validator in missed {
            let key = [&[MISSES][..], &validator].concat();
            let count = ctx
                .get(STORE, &key)?
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .unwrap_or(0);
            ctx.put(STORE, key, count.saturating_add(1).to_be_bytes().to_vec())?;
        }
        if ctx
            .block
            .height
            .is_multiple_of(params.miss_window_blocks as u64)
        {
            self.close_miss_window(ctx, &params)?;
        }
        Ok(())
    }

    /// Jails and slashes validators that missed more than the allowed share of the window's
    /// votes, then starts a new window.
    fn close_miss_window(&self, ctx: &mut Ctx, params: &Params) -> Result<(), Error> {
        let allowed = mul_div(
            params.miss_window_blocks as u128,
            params.max_missed_bps as u128,
            10_000,
            Round::Down,
        )?;
        // One counter per validator that voted in the window's commits: bounded by the set.
        for (key, value) in ctx.prefix(STORE, &[MISSES])? {
            ctx.delete(STORE, key.clone())?;
            let missed = u128::from(value.try_into().map(u32::from_be_bytes).unwrap_or(0));
            if missed > allowed {
                let validator = key.get(1..).unwrap_or_default();
                let item = format!("oracle miss penalty of {}", hex(validator));
                // A penalty that cannot be applied is skipped (the event records it); the
                // validator starts the next window like the others.
                let _ = ctx.isolate(item, |c| {
                    self.staking.slash_and_jail(
                        c,
                        validator,
                        params.miss_slash_bps,
                        "missed oracle votes",
                    )
                })?;
            }
        }
        Ok(())
    }

    /// The block's bounded work: rejects at most [`DEADLINE_BUDGET`] incidents whose
    /// attestation window closed without a confirmation, each on its own branch (a failed one
    /// is retried an hour later); drops past blocks' per-height indexes; prunes price history.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let now = ctx.block.time_unix_secs;
        for due in DEADLINE_QUEUE.take_due(ctx, now, DEADLINE_BUDGET)? {
            let id = <[u8; 8]>::try_from(due.item.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| fatal::invariant("corrupt oracle deadline"))?;
            let decided = ctx.isolate(format!("incident {id} deadline"), |c| {
                let mut incident = self.incident_record(c, id)?;
                if incident.status != IncidentStatus::Pending as i32 {
                    return Ok(());
                }
                self.decide(c, &mut incident, false)
            })?;
            if decided.is_err() {
                let at = now.saturating_add(RETRY_SECS);
                DEADLINE_QUEUE.push(ctx, at, &id.to_be_bytes())?;
                ctx.emit(
                    Event::new("incident_deadline_retry")
                        .attr("incident_id", id)
                        .attr("retry_at", at),
                );
            }
        }
        let height = ctx.block.height;
        for tag in [CONFIRMED_AT, UPDATED_AT] {
            self.prune_index(ctx, tag, height)?;
        }
        let retention = history::retention_secs(&self.params(ctx)?);
        history::prune(ctx, now, retention)
    }

    /// Deletes the entries of a per-height index below `height`, at most a budget.
    fn prune_index(&self, ctx: &mut Ctx, tag: u8, height: u64) -> Result<(), Error> {
        let limit = height_key(tag, height, &[]);
        for (key, _) in ctx.range(STORE, &[tag], None, INDEX_PRUNE_BUDGET)? {
            if key >= limit {
                break;
            }
            ctx.delete(STORE, key)?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn view(i: Incident) -> IncidentView {
    IncidentView {
        id: i.id,
        protocol: i.protocol,
        time: i.time,
        confirmed: i.status == IncidentStatus::Confirmed as i32,
    }
}

impl OracleView for Oracle {
    fn price_at(&self, ctx: &mut Ctx, feed: &str, time: i64) -> Result<Option<PricePoint>, Error> {
        let retention = history::retention_secs(&self.params(ctx)?);
        history::price_at(ctx, feed, time, retention)
    }

    fn prices_after(
        &self,
        ctx: &mut Ctx,
        feed: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PricePoint>, Error> {
        history::prices_after(ctx, feed, from, to)
    }

    fn incident(&self, ctx: &mut Ctx, id: u64) -> Result<Option<IncidentView>, Error> {
        Ok(ctx.get_msg::<Incident>(STORE, &incident_key(id))?.map(view))
    }

    fn open_incident(&self, ctx: &mut Ctx, protocol: &str) -> Result<Option<u64>, Error> {
        let prefix = open_prefix(protocol);
        Ok(ctx
            .range(STORE, &prefix, None, 1)?
            .first()
            .and_then(|(key, _)| key.get(prefix.len()..))
            .and_then(|id| <[u8; 8]>::try_from(id).ok())
            .map(u64::from_be_bytes))
    }

    fn confirmed_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<IncidentView>, Error> {
        let prefix = height_key(CONFIRMED_AT, height, &[]);
        let mut out = Vec::new();
        for (key, _) in ctx.prefix(STORE, &prefix)? {
            let id = key
                .get(prefix.len()..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| fatal::invariant("corrupt oracle index"))?;
            if let Some(i) = self.incident(ctx, id)? {
                out.push(i);
            }
        }
        Ok(out)
    }

    fn updated_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<String>, Error> {
        let prefix = height_key(UPDATED_AT, height, &[]);
        Ok(ctx
            .prefix(STORE, &prefix)?
            .into_iter()
            .map(|(k, _)| {
                String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned()
            })
            .collect())
    }
}

/// The oracle module: the keeper plus the registry of protocols incidents may concern.
pub struct OracleModule<R> {
    pub keeper: Oracle,
    pub registry: R,
}

impl<R: ProtocolRegistry + Clone + 'static> Module for OracleModule<R> {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        let report = self.keeper;
        let attest = self.keeper;
        let update = self.keeper;
        let registry = self.registry.clone();
        Msgs::new()
            .add(msgs::report_incident, move |ctx, m: MsgReportIncident| {
                let reporter = Address::from_bech32(&m.reporter)?;
                let incident_id = report.report_incident(ctx, &registry, &reporter, &m)?;
                Ok(MsgReportIncidentResponse { incident_id })
            })
            .add(msgs::attest_incident, move |ctx, m: MsgAttestIncident| {
                let operator = Address::from_bech32(&m.validator)?;
                let validator = attest
                    .staking
                    .consensus_validators(ctx)?
                    .into_iter()
                    .find(|v| v.operator == operator)
                    .ok_or_else(|| not_validator(format!("{operator} operates no validator")))?;
                attest.attest(ctx, &validator.address, m.incident_id, m.confirm)?;
                Ok(MsgAttestIncidentResponse {})
            })
            .add(msgs::update_params, move |ctx, m: MsgUpdateParams| {
                update.set_params(ctx, &surety_framework::msgs::present(m.params)?)?;
                Ok(MsgUpdateParamsResponse {})
            })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        msgs::validate_params(&params_of(&g)).map_err(|e| format!("oracle params: {}", e.log))?;
        for p in &g.prices {
            msgs::feed_name(&p.feed)
                .and_then(|_| surety_framework::validate::price(&p.price, "price"))
                .map_err(|e| format!("oracle genesis price of {}: {}", p.feed, e.log))?;
        }
        Ok(())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState = genesis_section(STORE, genesis).map_err(sdk::invalid_request)?;
        self.keeper.set_params(ctx, &params_of(&g))?;
        for mut p in g.prices {
            // A price without a time holds from genesis.
            if p.time == 0 {
                p.time = ctx.block.time_unix_secs;
            }
            history::store(ctx, &p)?;
        }
        for i in g.incidents {
            let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
            if i.status == IncidentStatus::Pending as i32 {
                ctx.put(STORE, open_key(&i.protocol, id), Vec::new())?;
            }
            ctx.put_msg(STORE, incident_key(id), &Incident { id, ..i })?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let params = self.keeper.params(ctx)?;
        let mut prices = Vec::new();
        for feed in &params.feeds {
            prices.extend(history::all(ctx, feed)?);
        }
        Ok(genesis_json(&GenesisState {
            params: Some(params),
            prices,
            incidents: self.keeper.incidents(ctx)?,
            feeds: vec![],
        }))
    }

    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.keeper.end_block(ctx)?;
        Ok(Vec::new())
    }
}

/// Params from genesis, taking the older top-level `feeds` list when params name none.
fn params_of(g: &GenesisState) -> Params {
    let mut p = g.params.clone().unwrap_or_else(default_params);
    if p.feeds.is_empty() {
        p.feeds = g.feeds.clone();
    }
    if p.min_power_bps == 0 {
        p = Params {
            feeds: p.feeds,
            ..default_params()
        };
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block, Empty};
    use surety_framework::state::Overlay;

    fn pending(ctx: &mut Ctx, id: u64, deadline: i64) {
        let incident = Incident {
            id,
            protocol: "aave-v3".into(),
            time: 10,
            description: "exploit".into(),
            status: IncidentStatus::Pending as i32,
            reporter: Address([9; 20]).to_bech32(),
            bond: Some(Coin::new(10, "usure").to_proto()),
            deadline,
            ..Default::default()
        };
        ctx.put_msg(STORE, incident_key(id), &incident).unwrap();
        DEADLINE_QUEUE
            .push(ctx, deadline, &id.to_be_bytes())
            .unwrap();
    }

    fn fund(ctx: &mut Ctx, amount: u128) {
        surety_bank::Bank::default()
            .mint(ctx, ORACLE_ACCOUNT, &Coins::of(amount, "usure"))
            .unwrap();
    }

    fn status(ctx: &mut Ctx, id: u64) -> i32 {
        Oracle::default().incident_record(ctx, id).unwrap().status
    }

    #[test]
    fn an_incident_that_cannot_be_decided_fails_alone_and_is_retried() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = Oracle::default();
        {
            let mut ctx = block(&mut state, 1, 100);
            // Bonds for two of the three: the third forfeiture cannot be paid.
            fund(&mut ctx, 20);
            for id in 1..=3 {
                pending(&mut ctx, id, 150);
            }
        }
        let mut ctx = block(&mut state, 2, 200);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(status(&mut ctx, 1), IncidentStatus::Rejected as i32);
        assert_eq!(status(&mut ctx, 2), IncidentStatus::Rejected as i32);
        assert_eq!(status(&mut ctx, 3), IncidentStatus::Pending as i32);
        let failed: Vec<_> = ctx
            .events()
            .iter()
            .filter(|e| e.kind == "item_failed")
            .collect();
        assert_eq!(failed.len(), 1);
        assert!(!DEADLINE_QUEUE
            .any_due(&mut ctx, 200 + RETRY_SECS - 1)
            .unwrap());
        assert!(DEADLINE_QUEUE.any_due(&mut ctx, 200 + RETRY_SECS).unwrap());
        fund(&mut ctx, 10);
        drop(ctx);
        let mut ctx = block(&mut state, 3, 200 + RETRY_SECS);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(status(&mut ctx, 3), IncidentStatus::Rejected as i32);
        let treasury = Address::module(TREASURY);
        let bank = surety_bank::Bank::default();
        assert_eq!(bank.balance(&mut ctx, &treasury, "usure").unwrap(), 30);
    }

    #[test]
    fn deadlines_are_taken_a_budget_per_block() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = Oracle::default();
        let n = DEADLINE_BUDGET as u64 + 3;
        {
            let mut ctx = block(&mut state, 1, 100);
            fund(&mut ctx, u128::from(n) * 10);
            for id in 1..=n {
                pending(&mut ctx, id, 150);
            }
        }
        let rejected = |ctx: &mut Ctx| {
            (1..=n)
                .filter(|id| status(ctx, *id) == IncidentStatus::Rejected as i32)
                .count()
        };
        let mut ctx = block(&mut state, 2, 200);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(rejected(&mut ctx), DEADLINE_BUDGET);
        drop(ctx);
        let mut ctx = block(&mut state, 3, 201);
        k.end_block(&mut ctx).unwrap();
        assert_eq!(rejected(&mut ctx), n as usize);
    }

    #[test]
    fn per_height_indexes_stay_one_block_deep() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let k = Oracle::default();
        for height in 1..=5u64 {
            let mut ctx = block(&mut state, height, 100 + height as i64);
            k.record_price(&mut ctx, "USDC/USD", Dec::ONE).unwrap();
            k.record_incident(&mut ctx, "aave-v3", 10, "x", IncidentStatus::Confirmed)
                .unwrap();
            assert_eq!(
                k.updated_at(&mut ctx, height).unwrap(),
                vec!["USDC/USD".to_string()]
            );
            assert_eq!(k.confirmed_at(&mut ctx, height).unwrap().len(), 1);
            k.end_block(&mut ctx).unwrap();
            assert_eq!(ctx.prefix(STORE, &[UPDATED_AT]).unwrap().len(), 1);
            assert_eq!(ctx.prefix(STORE, &[CONFIRMED_AT]).unwrap().len(), 1);
        }
    }

    #[test]
    fn recorded_prices_are_bounded() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let mut ctx = block(&mut state, 1, 100);
        let k = Oracle::default();
        assert!(k.record_price(&mut ctx, "USDC/USD", Dec::ZERO).is_err());
        let above = Dec(surety_framework::validate::MAX_PRICE.0 + 1);
        assert!(k.record_price(&mut ctx, "USDC/USD", above).is_err());
        assert!(k.record_price(&mut ctx, "", Dec::ONE).is_err());
        assert!(k
            .record_price(&mut ctx, &"F".repeat(200), Dec::ONE)
            .is_err());
    }
}

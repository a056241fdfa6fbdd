//! Stateless checks of the oracle messages (`ValidateBasic`) and of its params.

use surety_framework::validate::{self, MAX_AMOUNT, MAX_LIST, MAX_NAME, MAX_TEXT};
use surety_framework::{sdk, signer, Address, Coin, Error};
use surety_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use surety_proto::surety::oracle::v1::*;

/// Longest miss-counting window: about a month of one-second blocks.
pub const MAX_MISS_WINDOW_BLOCKS: u32 = 2_592_000;

/// A report: protocol named, texts bounded, the incident in the past of the epoch (the keeper
/// checks it against block time).
pub fn report_incident(m: &MsgReportIncident) -> Result<Vec<Address>, Error> {
    validate::name(&m.protocol, "protocol", MAX_NAME)?;
    validate::name(&m.description, "description", MAX_TEXT)?;
    validate::text(&m.evidence, "evidence", MAX_TEXT)?;
    if m.time <= 0 {
        return Err(sdk::invalid_request(format!(
            "time: {} is not a block time after the epoch",
            m.time
        )));
    }
    signer(&m.reporter, "reporter")
}

/// Sent, and signed, by a validator's operator account: `validator` is that account's address
/// (`surety1…`, as the CLI and clients send it); the keeper checks it operates a bonded validator.
pub fn attest_incident(m: &MsgAttestIncident) -> Result<Vec<Address>, Error> {
    validate::id(m.incident_id, "incident_id")?;
    signer(&m.validator, "validator")
}

pub fn update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), validate_params)
}

fn coin(c: &Option<ProtoCoin>, field: &str) -> Result<(), Error> {
    if let Some(c) = c {
        let coin = Coin::from_proto(c)?;
        if coin.amount > MAX_AMOUNT {
            return Err(sdk::invalid_coins(format!(
                "{field} {} is above the maximum {MAX_AMOUNT}",
                coin.amount
            )));
        }
    }
    Ok(())
}

/// Feeds named, bounded and unique; power shares in range; windows positive and bounded.
pub fn validate_params(p: &Params) -> Result<(), Error> {
    validate::unique_list(&p.feeds, "feeds", MAX_LIST, |f| f.clone())?;
    for feed in &p.feeds {
        feed_name(feed)?;
    }
    validate::bps(p.min_power_bps, "min_power_bps")?;
    if p.min_power_bps == 0 {
        return Err(sdk::invalid_request(
            "min_power_bps: must be positive, or any one validator sets prices",
        ));
    }
    validate::bps(p.max_missed_bps, "max_missed_bps")?;
    validate::bps(p.miss_slash_bps, "miss_slash_bps")?;
    validate::seconds(p.attestation_window_secs, "attestation_window_secs")?;
    if p.miss_window_blocks == 0 || p.miss_window_blocks > MAX_MISS_WINDOW_BLOCKS {
        return Err(sdk::invalid_request(format!(
            "miss_window_blocks: {} is not in 1..={MAX_MISS_WINDOW_BLOCKS}",
            p.miss_window_blocks
        )));
    }
    coin(&p.incident_bond, "incident_bond")?;
    coin(&p.incident_reward, "incident_reward")?;
    let retention = p.price_retention_secs;
    if retention != 0
        && !(crate::history::MIN_RETENTION_SECS..=crate::history::MAX_RETENTION_SECS)
            .contains(&retention)
    {
        return Err(sdk::invalid_request(format!(
            "price_retention_secs: {retention} is not 0 (a week) or in [{}, {}]",
            crate::history::MIN_RETENTION_SECS,
            crate::history::MAX_RETENTION_SECS
        )));
    }
    Ok(())
}

/// A feed id: non-blank, at most [`MAX_NAME`] bytes, no control characters.
pub fn feed_name(feed: &str) -> Result<&str, Error> {
    validate::name(feed, "feed", MAX_NAME)?;
    if feed.chars().any(char::is_control) {
        return Err(sdk::invalid_request(format!(
            "feed {feed:?}: control characters"
        )));
    }
    Ok(feed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::{gov_authority, VALIDATOR_PREFIX};

    fn report(f: impl FnOnce(&mut MsgReportIncident)) -> Result<Vec<Address>, Error> {
        let mut m = MsgReportIncident {
            reporter: Address([3; 20]).to_bech32(),
            protocol: "aave-v3".into(),
            time: 1_700_000_000,
            description: "oracle manipulation".into(),
            evidence: String::new(),
        };
        f(&mut m);
        report_incident(&m)
    }

    #[test]
    fn report_extremes() {
        assert_eq!(report(|_| {}).unwrap(), vec![Address([3; 20])]);
        assert!(report(|m| m.protocol = String::new()).is_err());
        assert!(report(|m| m.protocol = "  ".into()).is_err());
        assert!(report(|m| m.protocol = "p".repeat(MAX_NAME + 1)).is_err());
        assert!(report(|m| m.description = String::new()).is_err());
        assert!(report(|m| m.description = "d".repeat(MAX_TEXT)).is_ok());
        assert!(report(|m| m.description = "d".repeat(MAX_TEXT + 1)).is_err());
        assert!(report(|m| m.evidence = "e".repeat(MAX_TEXT + 1)).is_err());
        assert!(report(|m| m.time = 0).is_err());
        assert!(report(|m| m.time = i64::MIN).is_err());
        assert!(report(|m| m.time = 1).is_ok());
        assert!(report(|m| m.reporter = "surety1bad".into()).is_err());
    }

    #[test]
    fn attestations_come_from_a_validator_operator() {
        let operator = Address([5; 20]);
        let attest = |validator: String, incident_id| {
            attest_incident(&MsgAttestIncident {
                validator,
                incident_id,
                confirm: true,
            })
        };
        assert_eq!(attest(operator.to_bech32(), 1).unwrap(), vec![operator]);
        assert!(attest(operator.to_bech32(), 0).is_err());
        assert!(
            attest(operator.to_bech32_with(VALIDATOR_PREFIX), 1).is_err(),
            "the operator account signs, not a valoper string"
        );
        assert!(attest(String::new(), 1).is_err());
    }

    fn params(f: impl FnOnce(&mut Params)) -> Result<Vec<Address>, Error> {
        let mut p = crate::default_params();
        p.feeds = vec!["USDC/USD".into(), "ETH/USD".into()];
        f(&mut p);
        update_params(&MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: Some(p),
        })
    }

    #[test]
    fn params_extremes() {
        assert!(params(|_| {}).is_ok());
        assert!(update_params(&MsgUpdateParams {
            authority: Address([1; 20]).to_bech32(),
            params: Some(crate::default_params()),
        })
        .is_err());
        assert!(update_params(&MsgUpdateParams {
            authority: gov_authority().to_bech32(),
            params: None,
        })
        .is_err());
        assert!(
            params(|p| p.feeds.push("USDC/USD".into())).is_err(),
            "duplicate feed"
        );
        assert!(params(|p| p.feeds.push(String::new())).is_err());
        assert!(params(|p| p.feeds.push("f".repeat(MAX_NAME + 1))).is_err());
        assert!(params(|p| p.feeds.push("A\nB".into())).is_err());
        assert!(params(|p| p.feeds = (0..=MAX_LIST).map(|i| format!("F{i}")).collect()).is_err());
        assert!(params(|p| p.min_power_bps = 0).is_err());
        assert!(params(|p| p.min_power_bps = 10_000).is_ok());
        assert!(params(|p| p.min_power_bps = 10_001).is_err());
        assert!(params(|p| p.max_missed_bps = u32::MAX).is_err());
        assert!(params(|p| p.miss_slash_bps = 10_001).is_err());
        assert!(params(|p| p.attestation_window_secs = 0).is_err());
        assert!(params(|p| p.attestation_window_secs = i64::MAX).is_err());
        assert!(params(|p| p.miss_window_blocks = 0).is_err());
        assert!(params(|p| p.miss_window_blocks = u32::MAX).is_err());
        let coin = |amount: String| {
            Some(ProtoCoin {
                denom: "usure".into(),
                amount,
            })
        };
        assert!(params(|p| p.incident_bond = coin(MAX_AMOUNT.to_string())).is_ok());
        assert!(params(|p| p.incident_bond = coin((MAX_AMOUNT + 1).to_string())).is_err());
        assert!(params(|p| p.incident_reward = coin(u128::MAX.to_string())).is_err());
    }
}

//! Validators' oracle votes, carried in ABCI vote extensions.
//!
//! At height H each validator's node attaches an [`OracleVote`] to its precommit (ExtendVote);
//! the proposer of H+1 puts the extended commit of H at the front of its block as an injected
//! item (PrepareProposal); every validator checks that item against the commit CometBFT itself
//! reports and against the validators' consensus keys (ProcessProposal); and FinalizeBlock
//! aggregates a stake-weighted median per feed. These are the pure parts of that path.

use prost::Message;
use std::collections::BTreeMap;
use surety_framework::validate::{self, MAX_LIST};
use surety_framework::{sdk, Dec, Error};
use surety_proto::cometbft::abci::{CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo};
use surety_proto::cometbft::types::{BlockIdFlag, CanonicalVoteExtension};
use surety_proto::surety::oracle::v1::OracleVote;

/// Marks the injected extended commit. `0xff` starts no valid protobuf field, so no transaction
/// a user can submit (a `TxRaw`) begins with it.
pub const INJECTED_PREFIX: &[u8] = b"\xffsurety/oracle-votes/v1";

/// The largest vote extension a validator may attach.
pub const MAX_VOTE_BYTES: usize = 4_096;

pub fn encode_injected(commit: &ExtendedCommitInfo) -> Vec<u8> {
    let mut out = INJECTED_PREFIX.to_vec();
    out.extend_from_slice(&commit.encode_to_vec());
    out
}

/// The extended commit in a block's first item, if it is the injected one.
pub fn decode_injected(item: &[u8]) -> Option<Result<ExtendedCommitInfo, Error>> {
    item.strip_prefix(INJECTED_PREFIX).map(|body| {
        ExtendedCommitInfo::decode(body)
            .map_err(|e| sdk::tx_decode(format!("malformed injected oracle votes: {e}")))
    })
}

/// Checks a vote extension's form: it decodes, names only known feeds, once each, with prices in
/// (0, MAX_PRICE]; at most [`MAX_LIST`] prices and attestations, each incident once and non-zero.
/// (An empty extension is allowed: the validator simply did not report.)
pub fn validate_vote(bytes: &[u8], feeds: &[String]) -> Result<OracleVote, Error> {
    if bytes.len() > MAX_VOTE_BYTES {
        return Err(sdk::invalid_request(format!(
            "oracle vote of {} bytes exceeds {MAX_VOTE_BYTES}",
            bytes.len()
        )));
    }
    let vote = OracleVote::decode(bytes)
        .map_err(|e| sdk::tx_decode(format!("malformed oracle vote: {e}")))?;
    validate::unique_list(&vote.prices, "oracle vote prices", MAX_LIST, |p| {
        p.feed.clone()
    })?;
    validate::unique_list(
        &vote.attestations,
        "oracle vote attestations",
        MAX_LIST,
        |a| a.incident_id,
    )?;
    for p in &vote.prices {
        if !feeds.contains(&p.feed) {
            return Err(sdk::invalid_request(format!("unknown feed {:?}", p.feed)));
        }
        validate::price(&p.price, &format!("price of {}", p.feed))?;
    }
    for a in &vote.attestations {
        validate::id(a.incident_id, "attested incident_id")?;
    }
    Ok(vote)
}

/// The bytes a validator signs for its vote extension: CometBFT's `CanonicalVoteExtension`,
/// length-delimited.
pub fn extension_sign_bytes(extension: &[u8], height: i64, round: i64, chain_id: &str) -> Vec<u8> {
    CanonicalVoteExtension {
        extension: extension.to_vec(),
        height,
        round,
        chain_id: chain_id.to_string(),
    }
    .encode_length_delimited_to_vec()
}

/// Checks an injected extended commit for height `height − 1` against the commit CometBFT
/// reports for the block (`last_commit`): the same validators, powers and flags in the same
/// order; every extension of a vote for the block signed by that validator's consensus key over
/// this chain and height (so nothing can be forged or replayed from another height); and
/// validators with at least 2/3 of the power voting. `pubkey_of` maps a consensus address to its
/// ed25519 key.
pub fn verify_injected(
    injected: &ExtendedCommitInfo,
    last_commit: &CommitInfo,
    height: i64,
    chain_id: &str,
    pubkey_of: impl Fn(&[u8]) -> Option<[u8; 32]>,
) -> Result<(), Error> {
    let bad = |m: String| Err(sdk::unauthorized(format!("injected oracle votes: {m}")));
    if injected.votes.len() != last_commit.votes.len() || injected.round != last_commit.round {
        return bad(format!(
            "{} votes in round {}, the block's last commit has {} in round {}",
            injected.votes.len(),
            injected.round,
            last_commit.votes.len(),
            last_commit.round
        ));
    }
    let mut total: i64 = 0;
    let mut signed: i64 = 0;
    for (vote, expected) in injected.votes.iter().zip(&last_commit.votes) {
        let (Some(v), Some(e)) = (&vote.validator, &expected.validator) else {
            return bad("a vote without its validator".into());
        };
        if v.address != e.address
            || v.power != e.power
            || vote.block_id_flag != expected.block_id_flag
        {
            return bad(format!(
                "vote of {} does not match the block's last commit",
                hex(&v.address)
            ));
        }
        total = total.saturating_add(e.power);
        if vote.block_id_flag != BlockIdFlag::Commit as i32 {
            if !vote.vote_extension.is_empty() || !vote.extension_signature.is_empty() {
                return bad(format!(
                    "{} did not vote for the block but has an extension",
                    hex(&v.address)
                ));
            }
            continue;
        }
        let Some(key) = pubkey_of(&v.address) else {
            return bad(format!("unknown validator {}", hex(&v.address)));
        };
        let key = ed25519_consensus::VerificationKey::try_from(key)
            .map_err(|e| sdk::invalid_pubkey(format!("validator {}: {e}", hex(&v.address))))?;
        let signature: [u8; 64] = vote.extension_signature.as_ref().try_into().map_err(|_| {
            sdk::unauthorized(format!(
                "injected oracle votes: {} has no extension signature",
                hex(&v.address)
            ))
        })?;
        let Some(previous) = height.checked_sub(1) else {
            return bad(format!("no previous height to {height}"));
        };
        let message = extension_sign_bytes(
            &vote.vote_extension,
            previous,
            i64::from(injected.round),
            chain_id,
        );
        if key
            .verify(&ed25519_consensus::Signature::from(signature), &message)
            .is_err()
        {
            return bad(format!(
                "invalid extension signature of {}",
                hex(&v.address)
            ));
        }
        signed = signed.saturating_add(e.power);
    }
    // Saturated sums of i64 powers times 3 fit i128.
    if total <= 0 || i128::from(signed).saturating_mul(3) <= i128::from(total).saturating_mul(2) {
        return bad(format!(
            "votes carry {signed} of {total} power, not more than 2/3"
        ));
    }
    Ok(())
}

/// One validator's reports, with its power.
#[derive(Clone, Debug, PartialEq)]
pub struct Ballot {
    pub validator: Vec<u8>,
    pub power: i64,
    pub vote: OracleVote,
}

/// The ballots of the validators that voted for the block, with well-formed extensions; the
/// others count as missed.
pub fn ballots(commit: &ExtendedCommitInfo, feeds: &[String]) -> (Vec<Ballot>, Vec<Vec<u8>>) {
    let mut ballots = Vec::new();
    let mut missed = Vec::new();
    for v in &commit.votes {
        let Some(validator) = &v.validator else {
            continue;
        };
        match ballot_of(v, feeds) {
            Some(vote) if !vote.prices.is_empty() => ballots.push(Ballot {
                validator: validator.address.to_vec(),
                power: validator.power,
                vote,
            }),
            _ => missed.push(validator.address.to_vec()),
        }
    }
    (ballots, missed)
}

fn ballot_of(v: &ExtendedVoteInfo, feeds: &[String]) -> Option<OracleVote> {
    (v.block_id_flag == BlockIdFlag::Commit as i32)
        .then(|| validate_vote(&v.vote_extension, feeds).ok())
        .flatten()
}

/// The stake-weighted median of `(price, power)` reports: the lowest price at which the
/// cumulative power reaches half of the reporting power. Ordered by price then input order, so
/// ties are deterministic.
pub fn weighted_median(reports: &[(Dec, i64)]) -> Option<Dec> {
    let mut sorted: Vec<(Dec, i64)> = reports.iter().copied().filter(|(_, w)| *w > 0).collect();
    sorted.sort_by_key(|(price, _)| *price);
    // Sums of i64 weights fit i128 for any list that fits in memory; checked all the same.
    let total = sorted
        .iter()
        .try_fold(0i128, |sum, (_, w)| sum.checked_add(i128::from(*w)))?;
    let mut cumulative: i128 = 0;
    for (price, weight) in sorted {
        cumulative = cumulative.checked_add(i128::from(weight))?;
        if cumulative.checked_mul(2)? >= total {
            return Some(price);
        }
    }
    None
}

/// Per feed, the weighted median of the ballots — only for feeds reported by at least
/// `min_power_bps` of `total_power`.
pub fn aggregate(
    ballots: &[Ballot],
    total_power: i64,
    min_power_bps: u32,
) -> BTreeMap<String, Dec> {
    let mut by_feed: BTreeMap<&str, Vec<(Dec, i64)>> = BTreeMap::new();
    for b in ballots {
        for p in &b.vote.prices {
            if let Ok(price) = p.price.parse::<Dec>() {
                by_feed.entry(&p.feed).or_default().push((price, b.power));
            }
        }
    }
    by_feed
        .into_iter()
        .filter(|(_, reports)| {
            let reporting = reports.iter().fold(0i128, |sum, (_, w)| {
                sum.saturating_add(i128::from((*w).max(0)))
            });
            reporting.saturating_mul(10_000)
                >= i128::from(total_power).saturating_mul(i128::from(min_power_bps))
        })
        .filter_map(|(feed, reports)| weighted_median(&reports).map(|m| (feed.to_string(), m)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_consensus::SigningKey;
    use sha2::{Digest, Sha256};
    use surety_proto::cometbft::abci::{Validator, VoteInfo};
    use surety_proto::surety::oracle::v1::FeedPrice;

    const CHAIN: &str = "surety-test";

    fn dec(s: &str) -> Dec {
        s.parse().unwrap()
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from([seed; 32])
    }

    fn address(k: &SigningKey) -> Vec<u8> {
        Sha256::digest(k.verification_key().to_bytes())[..20].to_vec()
    }

    fn vote(prices: &[(&str, &str)]) -> Vec<u8> {
        OracleVote {
            prices: prices
                .iter()
                .map(|(feed, price)| FeedPrice {
                    feed: feed.to_string(),
                    price: price.to_string(),
                })
                .collect(),
            attestations: vec![],
        }
        .encode_to_vec()
    }

    /// Four validators of power 10 at `height − 1`, each signing its extension; `signer`
    /// chooses the key that signs (to forge) and `signed_height` the height signed over.
    fn commit(
        height: i64,
        signed_height: i64,
        signer: impl Fn(u8) -> u8,
    ) -> (ExtendedCommitInfo, CommitInfo) {
        let mut ext = ExtendedCommitInfo {
            round: 0,
            votes: vec![],
        };
        let mut plain = CommitInfo {
            round: 0,
            votes: vec![],
        };
        for i in 1..=4u8 {
            let validator = Validator {
                address: address(&key(i)).into(),
                power: 10,
            };
            let extension = vote(&[("USDC/USD", "1.0")]);
            let sign_bytes = extension_sign_bytes(&extension, signed_height, 0, CHAIN);
            let signature = key(signer(i)).sign(&sign_bytes);
            ext.votes.push(ExtendedVoteInfo {
                validator: Some(validator.clone()),
                vote_extension: extension.into(),
                extension_signature: signature.to_bytes().to_vec().into(),
                block_id_flag: BlockIdFlag::Commit as i32,
            });
            plain.votes.push(VoteInfo {
                validator: Some(validator),
                block_id_flag: BlockIdFlag::Commit as i32,
            });
        }
        let _ = height;
        (ext, plain)
    }

    fn pubkeys(address: &[u8]) -> Option<[u8; 32]> {
        (1..=4u8)
            .map(key)
            .find(|k| super::tests::address(k) == address)
            .map(|k| k.verification_key().to_bytes())
    }

    #[test]
    fn weighted_median_follows_the_stake() {
        // One heavy validator outweighs three light ones.
        let reports = [
            (dec("1.0"), 10),
            (dec("1.1"), 10),
            (dec("1.2"), 10),
            (dec("0.5"), 100),
        ];
        assert_eq!(weighted_median(&reports), Some(dec("0.5")));
        // Equal stake: the lower middle.
        let reports = [(dec("3"), 1), (dec("1"), 1), (dec("2"), 1), (dec("4"), 1)];
        assert_eq!(weighted_median(&reports), Some(dec("2")));
        // Ties at the median price.
        let reports = [(dec("2"), 5), (dec("2"), 5), (dec("9"), 9)];
        assert_eq!(weighted_median(&reports), Some(dec("2")));
        assert_eq!(weighted_median(&[]), None);
        assert_eq!(weighted_median(&[(dec("1"), 0)]), None);
        // Extreme powers neither overflow nor panic.
        let huge = [(dec("1"), i64::MAX), (dec("2"), i64::MAX), (dec("3"), -1)];
        assert_eq!(weighted_median(&huge), Some(dec("1")));
    }

    #[test]
    fn a_wild_price_does_not_move_the_median() {
        let ballots: Vec<Ballot> = [("1.0", 10), ("0.999", 10), ("1.001", 10), ("1000", 10)]
            .iter()
            .enumerate()
            .map(|(i, (price, power))| Ballot {
                validator: vec![i as u8],
                power: *power,
                vote: OracleVote::decode(vote(&[("USDC/USD", price)]).as_slice()).unwrap(),
            })
            .collect();
        let prices = aggregate(&ballots, 40, 6_667);
        assert_eq!(prices["USDC/USD"], dec("1.0"));
    }

    #[test]
    fn no_price_without_two_thirds_of_the_power() {
        let ballot = |power| Ballot {
            validator: vec![],
            power,
            vote: OracleVote::decode(vote(&[("ETH/USD", "3000")]).as_slice()).unwrap(),
        };
        assert!(
            aggregate(&[ballot(20), ballot(6)], 40, 6_667).is_empty(),
            "26 of 40 < 2/3"
        );
        assert_eq!(
            aggregate(&[ballot(20), ballot(7)], 40, 6_667).len(),
            1,
            "27 of 40 ≥ 2/3"
        );
    }

    #[test]
    fn vote_extensions_are_checked_for_form() {
        let feeds = vec!["USDC/USD".to_string()];
        assert!(validate_vote(&vote(&[("USDC/USD", "0.99")]), &feeds).is_ok());
        assert!(
            validate_vote(&[], &feeds).is_ok(),
            "an empty vote is just a missed one"
        );
        assert!(validate_vote(&vote(&[("DOGE/USD", "1")]), &feeds).is_err());
        assert!(validate_vote(&vote(&[("USDC/USD", "-1")]), &feeds).is_err());
        assert!(validate_vote(&vote(&[("USDC/USD", "0")]), &feeds).is_err());
        assert!(validate_vote(&vote(&[("USDC/USD", "1"), ("USDC/USD", "1")]), &feeds).is_err());
        assert!(validate_vote(b"\xff\xff", &feeds).is_err());
        let max = surety_framework::validate::MAX_PRICE.to_string();
        assert!(validate_vote(&vote(&[("USDC/USD", &max)]), &feeds).is_ok());
        assert!(validate_vote(
            &vote(&[("USDC/USD", "1000000000000.000000000000000001")]),
            &feeds
        )
        .is_err());
        assert!(validate_vote(&vote(&[("USDC/USD", &u128::MAX.to_string())]), &feeds).is_err());
        assert!(validate_vote(&vote(&[("USDC/USD", "")]), &feeds).is_err());
        let attest = |ids: &[u64]| {
            OracleVote {
                prices: vec![],
                attestations: ids
                    .iter()
                    .map(
                        |&incident_id| surety_proto::surety::oracle::v1::Attestation {
                            incident_id,
                            confirm: true,
                            validator: Default::default(),
                        },
                    )
                    .collect(),
            }
            .encode_to_vec()
        };
        assert!(validate_vote(&attest(&[1, 2]), &feeds).is_ok());
        assert!(validate_vote(&attest(&[0]), &feeds).is_err());
        assert!(validate_vote(&attest(&[4, 4]), &feeds).is_err());
        let many: Vec<u64> = (1..=MAX_LIST as u64 + 1).collect();
        assert!(validate_vote(&attest(&many), &feeds).is_err());
        assert!(validate_vote(&vec![0u8; MAX_VOTE_BYTES + 1], &feeds).is_err());
    }

    #[test]
    fn an_honest_extended_commit_verifies() {
        let (ext, plain) = commit(8, 7, |i| i);
        verify_injected(&ext, &plain, 8, CHAIN, pubkeys).unwrap();
        let item = encode_injected(&ext);
        assert_eq!(decode_injected(&item).unwrap().unwrap(), ext);
        assert!(
            decode_injected(b"\x0a\x01x").is_none(),
            "a TxRaw is not injected votes"
        );
    }

    #[test]
    fn forged_replayed_and_thin_commits_are_rejected() {
        // Validator 4's extension signed by validator 1's key.
        let (ext, plain) = commit(8, 7, |i| if i == 4 { 1 } else { i });
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        // Signed for height 6, replayed at height 8.
        let (ext, plain) = commit(8, 6, |i| i);
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        // Another chain's signatures.
        let (ext, plain) = commit(8, 7, |i| i);
        assert!(verify_injected(&ext, &plain, 8, "other-chain", pubkeys).is_err());
        // A tampered price keeps its old signature.
        let (mut ext, plain) = commit(8, 7, |i| i);
        ext.votes[0].vote_extension = vote(&[("USDC/USD", "0.5")]).into();
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        // Inflated power, or a vote dropped, no longer matches CometBFT's commit.
        let (mut ext, plain) = commit(8, 7, |i| i);
        ext.votes[0].validator.as_mut().unwrap().power = 1_000;
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        let (mut ext, plain) = commit(8, 7, |i| i);
        ext.votes.pop();
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        // Two of four absent: 20 of 40 is not more than 2/3.
        let (mut ext, mut plain) = commit(8, 7, |i| i);
        for i in [2, 3] {
            ext.votes[i].block_id_flag = BlockIdFlag::Absent as i32;
            ext.votes[i].vote_extension = Default::default();
            ext.votes[i].extension_signature = Default::default();
            plain.votes[i].block_id_flag = BlockIdFlag::Absent as i32;
        }
        assert!(verify_injected(&ext, &plain, 8, CHAIN, pubkeys).is_err());
        // One absent: 30 of 40 is enough.
        let (mut ext, mut plain) = commit(8, 7, |i| i);
        ext.votes[3].block_id_flag = BlockIdFlag::Absent as i32;
        ext.votes[3].vote_extension = Default::default();
        ext.votes[3].extension_signature = Default::default();
        plain.votes[3].block_id_flag = BlockIdFlag::Absent as i32;
        verify_injected(&ext, &plain, 8, CHAIN, pubkeys).unwrap();
    }
}

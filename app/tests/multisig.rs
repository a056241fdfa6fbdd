//! Multisig accounts and SIGN_MODE_LEGACY_AMINO_JSON through the ABCI methods over a real store:
//! a k-of-n `LegacyAminoPubKey` spends with any k members' signatures and with nothing less,
//! and a single key may sign the legacy Amino JSON sign doc instead of the protobuf one.

mod common;

use common::*;
use k256::ecdsa::signature::Signer;
use prost::Message;
use surety_auth::{Multisig, PublicKey};
use surety_framework::{Address, Coins};
use surety_proto::cosmos::bank::v1beta1::MsgSend;
use surety_proto::cosmos::crypto::multisig::v1beta1::{CompactBitArray, MultiSignature};
use surety_proto::cosmos::tx::signing::v1beta1::SignMode;
use surety_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignerInfo, TxBody, TxRaw,
};
use surety_proto::{to_any, Any};

fn pubkey(key: &k256::ecdsa::SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .to_vec()
}

/// Members 11, 12, 13; any two sign.
fn two_of_three() -> (Vec<k256::ecdsa::SigningKey>, PublicKey) {
    let members: Vec<_> = (11..=13).map(key).collect();
    let multisig = Multisig::new(2, members.iter().map(pubkey).collect()).unwrap();
    (members, PublicKey::Multisig(multisig))
}

fn single(mode: SignMode) -> ModeInfo {
    ModeInfo {
        sum: Some(mode_info::Sum::Single(mode_info::Single {
            mode: mode as i32,
        })),
    }
}

fn send_from(from: &Address, to: &Address, amount: &str) -> Any {
    to_any(&MsgSend {
        from_address: from.to_bech32(),
        to_address: to.to_bech32(),
        amount: amount.parse::<Coins>().unwrap().to_proto(),
    })
}

struct Unsigned {
    body: TxBody,
    fee: Fee,
}

impl Unsigned {
    fn new(msg: Any) -> Unsigned {
        Unsigned {
            body: TxBody {
                messages: vec![msg],
                memo: "multisig <&> test".into(),
                ..Default::default()
            },
            fee: Fee {
                amount: "1000usure".parse::<Coins>().unwrap().to_proto(),
                gas_limit: 200_000,
                ..Default::default()
            },
        }
    }

    fn amino_bytes(&self, account_number: u64, sequence: u64) -> Vec<u8> {
        surety_auth::amino_json_sign_bytes(&self.body, &self.fee, CHAIN, account_number, sequence)
            .unwrap()
    }

    fn raw(&self, info: SignerInfo, signature: Vec<u8>) -> Vec<u8> {
        TxRaw {
            body_bytes: self.body.encode_to_vec(),
            auth_info_bytes: AuthInfo {
                signer_infos: vec![info],
                fee: Some(self.fee.clone()),
                ..Default::default()
            }
            .encode_to_vec(),
            signatures: vec![signature],
        }
        .encode_to_vec()
    }

    /// Signed by the members at `signers` (indexes into the multisig's keys), with a bit array
    /// of `bits` bits marking `marked`, for the account's (number, sequence).
    fn multisigned(
        &self,
        multisig: &PublicKey,
        members: &[k256::ecdsa::SigningKey],
        signers: &[usize],
        bits: usize,
        marked: &[usize],
        (account_number, sequence): (u64, u64),
    ) -> Vec<u8> {
        let doc = self.amino_bytes(account_number, sequence);
        let signatures = signers
            .iter()
            .map(|&i| {
                let sig: k256::ecdsa::Signature = members[i].sign(&doc);
                sig.to_bytes().to_vec()
            })
            .collect();
        let mut elems = vec![0u8; bits.div_ceil(8)];
        for &i in marked {
            elems[i / 8] |= 0x80 >> (i % 8);
        }
        let info = SignerInfo {
            public_key: Some(multisig.to_any()),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Multi(mode_info::Multi {
                    bitarray: Some(CompactBitArray {
                        extra_bits_stored: (bits % 8) as u32,
                        elems,
                    }),
                    mode_infos: signers
                        .iter()
                        .map(|_| single(SignMode::LegacyAminoJson))
                        .collect(),
                })),
            }),
            sequence,
        };
        self.raw(info, MultiSignature { signatures }.encode_to_vec())
    }
}

/// A chain where alice has funded the multisig's address; returns its account number.
fn funded(chain: &mut Chain, multisig: &PublicKey) -> u64 {
    let alice = key(2);
    let r = chain.deliver(sign(
        &alice,
        vec![send(&alice, &multisig.address(), "50000usure")],
        &SignOpts {
            account_number: 1,
            ..Default::default()
        },
    ));
    assert_eq!(r.code, 0, "{}", r.log);
    chain.account(&multisig.address()).account_number
}

#[test]
fn any_two_of_three_members_spend_and_the_account_learns_its_key() {
    let mut chain = Chain::new("");
    let (members, multisig) = two_of_three();
    let number = funded(&mut chain, &multisig);
    let bob = address(&key(3));
    let me = multisig.address();
    for (sequence, signers) in [[0usize, 1], [1, 2], [0, 2]].iter().enumerate() {
        let tx = Unsigned::new(send_from(&me, &bob, "100usure"));
        let raw = tx.multisigned(
            &multisig,
            &members,
            signers,
            3,
            signers,
            (number, sequence as u64),
        );
        let r = chain.deliver(raw);
        assert_eq!(r.code, 0, "signers {signers:?}: {}", r.log);
    }
    assert_eq!(chain.sequence(&me), 3);
    assert_eq!(chain.account(&me).pubkey, Some(multisig.clone()));
    // all three may sign too
    let tx = Unsigned::new(send_from(&me, &bob, "100usure"));
    let r =
        chain.deliver(tx.multisigned(&multisig, &members, &[0, 1, 2], 3, &[0, 1, 2], (number, 3)));
    assert_eq!(r.code, 0, "{}", r.log);
    chain.app.check_invariants().unwrap();
}

#[test]
fn fewer_than_the_threshold_or_a_lying_bit_array_is_refused() {
    let mut chain = Chain::new("");
    let (members, multisig) = two_of_three();
    let number = funded(&mut chain, &multisig);
    let me = multisig.address();
    let bob = address(&key(3));
    let tx = Unsigned::new(send_from(&me, &bob, "100usure"));
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "one signature",
            tx.multisigned(&multisig, &members, &[0], 3, &[0], (number, 0)),
            "threshold is 2",
        ),
        (
            "one member twice",
            tx.multisigned(&multisig, &members, &[0, 0], 3, &[0, 1], (number, 0)),
            "signature verification failed",
        ),
        (
            "the bit array marks other members",
            tx.multisigned(&multisig, &members, &[0, 1], 3, &[1, 2], (number, 0)),
            "signature verification failed",
        ),
        (
            "more signatures than marked bits",
            tx.multisigned(&multisig, &members, &[0, 1], 3, &[0], (number, 0)),
            "sets 1 keys but it has 2 signatures",
        ),
        (
            "a bit array of the wrong size",
            tx.multisigned(&multisig, &members, &[0, 1], 4, &[0, 1], (number, 0)),
            "4 bits for 3 keys",
        ),
        (
            "a non-member signs",
            tx.multisigned(
                &multisig,
                &[key(11), key(20), key(13)],
                &[0, 1],
                3,
                &[0, 1],
                (number, 0),
            ),
            "signature verification failed",
        ),
    ];
    for (what, raw, text) in cases {
        chain.block(vec![]);
        let before = chain.state_roots();
        let r = chain.deliver(raw);
        assert_eq!(r.code, 4, "{what}: {}", r.log);
        assert!(
            r.log.contains(text),
            "{what}: expected {text:?} in {:?}",
            r.log
        );
        assert_eq!(
            chain.state_roots(),
            before,
            "{what}: a rejected tx changed state"
        );
    }
    assert_eq!(chain.sequence(&me), 0);
}

#[test]
fn a_multisig_key_that_is_not_the_accounts_is_refused() {
    let mut chain = Chain::new("");
    let (members, multisig) = two_of_three();
    let number = funded(&mut chain, &multisig);
    // the same members with threshold 1: another address
    let one_of_three =
        PublicKey::Multisig(Multisig::new(1, members.iter().map(pubkey).collect()).unwrap());
    let tx = Unsigned::new(send_from(&multisig.address(), &address(&key(3)), "1usure"));
    let r = chain.deliver(tx.multisigned(&one_of_three, &members, &[0], 3, &[0], (number, 0)));
    assert_eq!(r.code, 8, "{}", r.log);
    assert!(
        r.log.contains("pubKey does not match signer address"),
        "{}",
        r.log
    );
}

#[test]
fn a_single_key_may_sign_amino_json_and_the_modes_do_not_mix() {
    let mut chain = Chain::new("");
    let alice = key(2);
    let me = address(&alice);
    let tx = Unsigned::new(send_from(&me, &address(&key(3)), "7usure"));
    let info = |mode| SignerInfo {
        public_key: Some(PublicKey::Secp256k1(pubkey(&alice)).to_any()),
        mode_info: Some(single(mode)),
        sequence: 0,
    };
    let amino: k256::ecdsa::Signature = alice.sign(&tx.amino_bytes(1, 0));
    // an amino signature presented as a direct one fails, and changes nothing
    chain.block(vec![]);
    let before = chain.state_roots();
    let r = chain.deliver(tx.raw(info(SignMode::Direct), amino.to_bytes().to_vec()));
    assert_eq!(r.code, 4, "{}", r.log);
    assert_eq!(chain.state_roots(), before);
    let r = chain.deliver(tx.raw(info(SignMode::Textual), amino.to_bytes().to_vec()));
    assert_eq!(r.code, 4, "{}", r.log);
    assert!(r.log.contains("unsupported sign mode"), "{}", r.log);
    let r = chain.deliver(tx.raw(info(SignMode::LegacyAminoJson), amino.to_bytes().to_vec()));
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(chain.sequence(&me), 1);
}

//! A chain driven through the ABCI methods the way CometBFT drives them, over a real RocksDB
//! store in a temporary directory, with helpers to sign Cosmos transactions.
#![allow(dead_code)]

use k256::ecdsa::SigningKey;
use prost::Message;
use surety_app::{App, AppConfig};
use surety_framework::{Address, Coins};
use surety_genesis::AppState;
use surety_proto::cometbft::abci::*;
use surety_proto::cosmos::bank::v1beta1::{MsgSend, QueryBalanceRequest, QueryBalanceResponse};
use surety_proto::{to_any, Any};
use surety_store::{Storage, StorageConfig};
use tendermint_abci::Application;

pub const CHAIN: &str = "surety-test";

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn address(key: &SigningKey) -> Address {
    Address::from_secp256k1(key.verifying_key().to_encoded_point(true).as_bytes())
}

pub struct SignOpts {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    pub gas: u64,
    pub fee: &'static str,
    pub memo: String,
    pub timeout_height: u64,
}

impl Default for SignOpts {
    fn default() -> Self {
        SignOpts {
            chain_id: CHAIN.into(),
            account_number: 0,
            sequence: 0,
            gas: 200_000,
            fee: "1000usure",
            memo: String::new(),
            timeout_height: 0,
        }
    }
}

pub fn sign(key: &SigningKey, msgs: Vec<Any>, o: &SignOpts) -> Vec<u8> {
    surety_app::testing::sign_tx(
        key,
        msgs,
        &surety_app::testing::SignOpts {
            chain_id: o.chain_id.clone(),
            account_number: o.account_number,
            sequence: o.sequence,
            gas: o.gas,
            fee: o.fee.to_string(),
            memo: o.memo.clone(),
            timeout_height: o.timeout_height,
        },
    )
}

pub fn send(from: &SigningKey, to: &Address, amount: &str) -> Any {
    to_any(&MsgSend {
        from_address: address(from).to_bech32(),
        to_address: to.to_bech32(),
        amount: amount.parse::<Coins>().unwrap().to_proto(),
    })
}

pub struct Chain {
    pub app: App,
    pub height: i64,
    pub _dir: tempfile::TempDir,
}

/// Account numbers in genesis order: validator 0, alice 1, bob 2 (then module accounts).
pub fn genesis() -> Vec<u8> {
    genesis_with([9; 32], |_| {})
}

/// [`genesis`] with the validator's ed25519 consensus key, and further edits.
pub fn genesis_with(consensus_key: [u8; 32], edit: impl FnOnce(&mut AppState)) -> Vec<u8> {
    let validator = key(1);
    let mut state = AppState::default();
    state
        .add_account(&address(&validator), &"1000000000usure".parse().unwrap())
        .unwrap();
    state
        .add_account(&address(&key(2)), &"1000000usure,500uusdc".parse().unwrap())
        .unwrap();
    state
        .add_account(&address(&key(3)), &"10usure".parse().unwrap())
        .unwrap();
    let create = surety_app::testing::create_validator_msg(
        &address(&validator),
        "v0",
        consensus_key,
        "100000000usure",
    );
    state.genutil.gen_txs = vec![surety_app::testing::gentx(&validator, create, CHAIN)];
    edit(&mut state);
    serde_json::to_vec(&state).unwrap()
}

impl Chain {
    pub fn new(min_gas_prices: &str) -> Chain {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), StorageConfig::default()).unwrap();
        let app = App::new(
            storage,
            AppConfig {
                min_gas_prices: min_gas_prices.parse().unwrap(),
                ..AppConfig::default()
            },
        );
        let init = app.init_chain(RequestInitChain {
            chain_id: CHAIN.into(),
            app_state_bytes: genesis().into(),
            initial_height: 1,
            ..Default::default()
        });
        assert_eq!(init.validators.len(), 1);
        assert_eq!(init.validators[0].power, 100);
        let mut chain = Chain {
            app,
            height: 0,
            _dir: dir,
        };
        chain.block(vec![]);
        chain
    }

    pub fn block(&mut self, txs: Vec<Vec<u8>>) -> Vec<ExecTxResult> {
        let r = self.finalize(txs);
        self.app.commit();
        r.tx_results
    }

    /// FinalizeBlock of the next height, without its Commit.
    pub fn finalize(&mut self, txs: Vec<Vec<u8>>) -> ResponseFinalizeBlock {
        self.height += 1;
        self.app.finalize_block(RequestFinalizeBlock {
            txs: txs.into_iter().map(Into::into).collect(),
            height: self.height,
            time: Some(tendermint_proto::google::protobuf::Timestamp {
                seconds: 1_700_000_000 + self.height,
                nanos: 0,
            }),
            ..Default::default()
        })
    }

    pub fn deliver(&mut self, tx: Vec<u8>) -> ExecTxResult {
        self.block(vec![tx]).remove(0)
    }

    pub fn balance(&self, who: &Address, denom: &str) -> u128 {
        let req = QueryBalanceRequest {
            address: who.to_bech32(),
            denom: denom.into(),
        };
        let (bytes, _) = self
            .app
            .query_method(
                "/cosmos.bank.v1beta1.Query/Balance",
                &req.encode_to_vec(),
                0,
            )
            .unwrap();
        QueryBalanceResponse::decode(bytes.as_slice())
            .unwrap()
            .balance
            .unwrap()
            .amount
            .parse()
            .unwrap()
    }

    pub fn sequence(&self, who: &Address) -> u64 {
        self.account(who).sequence
    }

    pub fn account(&self, who: &Address) -> surety_auth::Account {
        let (bytes, _) = self
            .app
            .query_method(
                "/cosmos.auth.v1beta1.Query/Account",
                &surety_proto::cosmos::auth::v1beta1::QueryAccountRequest {
                    address: who.to_bech32(),
                }
                .encode_to_vec(),
                0,
            )
            .unwrap();
        let any =
            surety_proto::cosmos::auth::v1beta1::QueryAccountResponse::decode(bytes.as_slice())
                .unwrap()
                .account
                .unwrap();
        surety_auth::Account::from_any(&any).unwrap()
    }

    pub fn app_hash(&self) -> Vec<u8> {
        self.app.storage().latest_app_hash().unwrap().to_vec()
    }

    /// The roots of every module's substore but `ibc`'s, which records each block's header for
    /// IBC handshakes and so changes in every block: what a transaction could have changed.
    pub fn state_roots(&self) -> Vec<(&'static str, [u8; 32])> {
        let snapshot = self.app.storage().latest_snapshot();
        self.app
            .modules()
            .iter()
            .map(|m| m.name())
            .filter(|name| *name != surety_ibc::STORE)
            .map(|name| (name, snapshot.substore_root(name).unwrap()))
            .collect()
    }
}

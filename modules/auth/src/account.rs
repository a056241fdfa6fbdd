use crate::PublicKey;
use prost::Message;
use surety_framework::{sdk, Address, Error};
use surety_proto::cosmos::auth::v1beta1::{BaseAccount, ModuleAccount};
use surety_proto::{from_any, to_any, Any};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub address: Address,
    /// Known once the account has signed a transaction.
    pub pubkey: Option<PublicKey>,
    pub account_number: u64,
    pub sequence: u64,
    /// Set for module accounts, which hold funds on behalf of a module and sign nothing.
    pub module_name: Option<String>,
}

impl Account {
    pub fn new(address: Address, account_number: u64) -> Account {
        Account {
            address,
            pubkey: None,
            account_number,
            sequence: 0,
            module_name: None,
        }
    }

    pub fn new_module(name: &str, account_number: u64) -> Account {
        Account {
            module_name: Some(name.to_string()),
            ..Account::new(Address::module(name), account_number)
        }
    }

    fn base(&self) -> BaseAccount {
        BaseAccount {
            address: self.address.to_bech32(),
            pub_key: self.pubkey.as_ref().map(PublicKey::to_any),
            account_number: self.account_number,
            sequence: self.sequence,
        }
    }

    pub fn to_any(&self) -> Any {
        match &self.module_name {
            None => to_any(&self.base()),
            Some(name) => to_any(&ModuleAccount {
                base_account: Some(self.base()),
                name: name.clone(),
                permissions: Vec::new(),
            }),
        }
    }

    pub fn from_any(any: &Any) -> Result<Account, Error> {
        let corrupt = |e: prost::DecodeError| sdk::internal(format!("corrupt account: {e}"));
        if let Some(base) = from_any::<BaseAccount>(any) {
            return Account::from_base(&base.map_err(corrupt)?, None);
        }
        if let Some(module) = from_any::<ModuleAccount>(any) {
            let module = module.map_err(corrupt)?;
            let base = module.base_account.unwrap_or_default();
            return Account::from_base(&base, Some(module.name));
        }
        Err(sdk::invalid_type(format!(
            "unsupported account type {}",
            any.type_url
        )))
    }

    fn from_base(base: &BaseAccount, module_name: Option<String>) -> Result<Account, Error> {
        let pubkey = base.pub_key.as_ref().map(PublicKey::from_any).transpose()?;
        Ok(Account {
            address: Address::from_bech32(&base.address)?,
            pubkey,
            account_number: base.account_number,
            sequence: base.sequence,
            module_name,
        })
    }

    /// The stored record ([`Stored`]); the address is its key.
    pub fn encode(&self) -> Vec<u8> {
        let (secp256k1, pub_key) = match &self.pubkey {
            None => (Vec::new(), None),
            Some(PublicKey::Secp256k1(key)) => (key.clone(), None),
            Some(other) => (Vec::new(), Some(other.to_any())),
        };
        Stored {
            secp256k1,
            pub_key,
            account_number: self.account_number,
            sequence: self.sequence,
            module_name: self.module_name.clone(),
        }
        .encode_to_vec()
    }

    /// The account stored at `address`.
    pub fn decode(address: Address, bytes: &[u8]) -> Result<Account, Error> {
        let corrupt = |what: String| sdk::internal(format!("corrupt account {address}: {what}"));
        let stored = Stored::decode(bytes).map_err(|e| corrupt(e.to_string()))?;
        let pubkey = match (stored.secp256k1.is_empty(), stored.pub_key) {
            (true, None) => None,
            (false, None) => Some(PublicKey::Secp256k1(stored.secp256k1)),
            (true, Some(any)) => Some(PublicKey::from_any(&any)?),
            (false, Some(_)) => return Err(corrupt("two public keys".to_string())),
        };
        Ok(Account {
            address,
            pubkey,
            account_number: stored.account_number,
            sequence: stored.sequence,
            module_name: stored.module_name,
        })
    }
}

/// How an account is stored, under its address. Every transaction writes its signers' accounts
/// back for their sequences, at 30 gas a byte: as the `Any` clients expect (a bech32 address, a
/// typed key) a signer's account was 159 bytes; this record is about 42, and the `Any` is built
/// only for queries.
#[derive(Clone, PartialEq, prost::Message)]
struct Stored {
    /// The account's key when it is a single secp256k1 key (nearly all are), compressed.
    #[prost(bytes = "vec", tag = "1")]
    secp256k1: Vec<u8>,
    /// Any other key (a multisig), as its `Any`.
    #[prost(message, optional, tag = "2")]
    pub_key: Option<Any>,
    #[prost(uint64, tag = "3")]
    account_number: u64,
    #[prost(uint64, tag = "4")]
    sequence: u64,
    #[prost(string, optional, tag = "5")]
    module_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_round_trip() {
        let mut a = Account::new(Address([3; 20]), 7);
        a.pubkey = Some(PublicKey::Secp256k1(vec![2; 33]));
        a.sequence = 4;
        assert_eq!(a.to_any().type_url, "/cosmos.auth.v1beta1.BaseAccount");
        assert_eq!(Account::from_any(&a.to_any()).unwrap(), a);
        let m = Account::new_module("fee_collector", 1);
        assert_eq!(m.to_any().type_url, "/cosmos.auth.v1beta1.ModuleAccount");
        assert_eq!(Account::from_any(&m.to_any()).unwrap(), m);
    }

    #[test]
    fn the_stored_record_round_trips_every_kind_of_account_and_is_compact() {
        let mut signer = Account::new(Address([3; 20]), 7);
        signer.pubkey = Some(PublicKey::Secp256k1(vec![2; 33]));
        signer.sequence = 1_000_000;
        let mut multisig = Account::new(Address([4; 20]), u64::MAX);
        multisig.pubkey = Some(PublicKey::Multisig(
            crate::Multisig::new(2, vec![vec![2; 33], vec![3; 33]]).unwrap(),
        ));
        let fresh = Account::new(Address([5; 20]), 0);
        let module = Account::new_module("fee_collector", 1);
        for account in [&signer, &multisig, &fresh, &module] {
            let bytes = account.encode();
            assert_eq!(&Account::decode(account.address, &bytes).unwrap(), account);
        }
        // A signer's record: its key, number and sequence, not the 170-byte Any.
        assert!(signer.encode().len() <= 45, "{}", signer.encode().len());
        assert!(signer.to_any().encode_to_vec().len() > 150);
    }

    #[test]
    fn a_corrupt_record_is_an_internal_error_that_names_the_account() {
        let both = Stored {
            secp256k1: vec![2; 33],
            pub_key: Some(PublicKey::Secp256k1(vec![2; 33]).to_any()),
            ..Default::default()
        };
        for bytes in [both.encode_to_vec(), vec![0xff, 0xff]] {
            let err = Account::decode(Address([9; 20]), &bytes).unwrap_err();
            assert_eq!((err.codespace, err.code), ("sdk", 1), "{err:?}");
            assert!(err.log.contains(&Address([9; 20]).to_bech32()), "{err:?}");
        }
    }
}

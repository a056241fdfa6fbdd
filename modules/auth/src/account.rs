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

    pub fn encode(&self) -> Vec<u8> {
        self.to_any().encode_to_vec()
    }

    pub fn decode(bytes: &[u8]) -> Result<Account, Error> {
        let any = Any::decode(bytes).map_err(|e| sdk::internal(format!("corrupt account: {e}")))?;
        Account::from_any(&any)
    }
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
        assert_eq!(Account::decode(&a.encode()).unwrap(), a);
        let m = Account::new_module("fee_collector", 1);
        assert_eq!(m.to_any().type_url, "/cosmos.auth.v1beta1.ModuleAccount");
        assert_eq!(Account::decode(&m.encode()).unwrap(), m);
    }
}

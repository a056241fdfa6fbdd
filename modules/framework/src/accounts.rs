//! Every module account of the chain, declared once (Cosmos simapp's `maccPerms`).
//!
//! Each exists from InitChain, so no user can take its address first, and bank refuses any user
//! transfer to one of these addresses (Cosmos's blocked addresses). Moving coins into or out of a
//! name that is not listed here is an internal error, so a new account cannot be forgotten.

use crate::address::Address;

pub const FEE_COLLECTOR: &str = "fee_collector";
pub const DISTRIBUTION: &str = "distribution";
pub const BONDED_POOL: &str = "bonded_tokens_pool";
pub const NOT_BONDED_POOL: &str = "not_bonded_tokens_pool";
pub const GOV: &str = "gov";
pub const POOL: &str = "pool";
pub const CLAIMS: &str = "claims";
pub const TREASURY: &str = "treasury";
pub const ORACLE: &str = "oracle";
/// ICS-20 mints vouchers here and burns them from here.
pub const TRANSFER: &str = "transfer";
/// Payouts and change waiting to go home over IBC, out of reach of the remote account's own
/// actions until they are delivered.
pub const REMITTANCES: &str = "remittances";

/// All module accounts, in the order InitChain creates them.
pub const ALL: &[&str] = &[
    FEE_COLLECTOR,
    DISTRIBUTION,
    BONDED_POOL,
    NOT_BONDED_POOL,
    GOV,
    POOL,
    CLAIMS,
    TREASURY,
    ORACLE,
    TRANSFER,
    REMITTANCES,
];

/// Whether `name` is a declared module account.
pub fn is_declared(name: &str) -> bool {
    ALL.contains(&name)
}

/// Whether `address` belongs to a module account (created yet or not).
pub fn is_module_address(address: &Address) -> bool {
    ALL.iter().any(|name| Address::module(name) == *address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_addresses_recognised() {
        let mut names = ALL.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for name in ALL {
            assert!(is_module_address(&Address::module(name)));
        }
        assert!(!is_module_address(&Address::module("not-a-module")));
    }
}

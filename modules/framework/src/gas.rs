//! Gas: every store access and every byte of a transaction costs gas, so work is paid for.

use crate::error::{sdk, Error};
use crate::state::StoreKey;
use std::collections::HashSet;

/// Costs of store operations: Cosmos SDK's `KVGasConfig` defaults, and a warm read price.
#[derive(Clone, Copy, Debug)]
pub struct GasConfig {
    pub has_cost: u64,
    pub delete_cost: u64,
    /// The first read of a key in a transaction: it may reach the disk.
    pub read_cost_flat: u64,
    /// A read of a key this transaction already read or wrote (Ethereum's warm access, EIP-2929):
    /// it is answered from memory, by the transaction's own writes or the block's cache of
    /// committed reads. A sale loads each pool several times through the pool keeper's checks;
    /// charging each of those as a disk read made a purchase's gas a fifth too high.
    pub read_cost_warm: u64,
    pub read_cost_per_byte: u64,
    pub write_cost_flat: u64,
    pub write_cost_per_byte: u64,
    pub iter_next_cost_flat: u64,
}

impl GasConfig {
    pub const KV: GasConfig = GasConfig {
        has_cost: 1000,
        delete_cost: 1000,
        read_cost_flat: 1000,
        read_cost_warm: 100,
        read_cost_per_byte: 3,
        write_cost_flat: 2000,
        write_cost_per_byte: 30,
        iter_next_cost_flat: 30,
    };
}

#[derive(Clone, Debug)]
pub struct GasMeter {
    limit: u64,
    used: u64,
    /// Keys this transaction has touched (read or written), whose reads are warm. Looked up
    /// only, never iterated; bounded by the gas limit (each entry was paid a cold access).
    /// `None` for a meter that never runs out, which charges nobody.
    warm: Option<HashSet<StoreKey>>,
}

impl GasMeter {
    pub fn new(limit: u64) -> GasMeter {
        GasMeter {
            limit,
            used: 0,
            warm: Some(HashSet::new()),
        }
    }

    /// A meter that never runs out (genesis, block hooks).
    pub fn infinite() -> GasMeter {
        GasMeter {
            limit: u64::MAX,
            used: 0,
            warm: None,
        }
    }

    /// Charges the flat price of reading `key`, before the read: the cold price the first time
    /// this transaction touches the key, the warm price after.
    pub fn charge_read_flat(&mut self, store: &'static str, key: &[u8]) -> Result<(), Error> {
        let cfg = GasConfig::KV;
        let flat = if self.touch(store, key) {
            cfg.read_cost_flat
        } else {
            cfg.read_cost_warm
        };
        self.consume(flat, "ReadFlat")
    }

    /// Marks a key as touched; true if it was not yet.
    pub fn touch(&mut self, store: &'static str, key: &[u8]) -> bool {
        match &mut self.warm {
            Some(warm) if !warm.contains(&(store, key.to_vec())) => {
                warm.insert((store, key.to_vec()));
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn used(&self) -> u64 {
        self.used
    }

    /// Charges `amount`; past the limit the usage is pinned at the limit and an out-of-gas error
    /// names what ran out, as Cosmos reports it.
    pub fn consume(&mut self, amount: u64, descriptor: &str) -> Result<(), Error> {
        let used = self.used.saturating_add(amount);
        if used > self.limit {
            self.used = self.limit;
            return Err(sdk::out_of_gas(format!(
                "out of gas in location: {descriptor}; gasWanted: {}, gasUsed: {used}",
                self.limit
            )));
        }
        self.used = used;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_gas_reports_location() {
        let mut m = GasMeter::new(100);
        m.consume(60, "a").unwrap();
        let err = m.consume(50, "WriteFlat").unwrap_err();
        assert_eq!(err.code, 11);
        assert!(err.log.contains("WriteFlat"));
        assert_eq!(m.used(), 100);
    }

    #[test]
    fn a_key_is_cold_once_per_transaction() {
        let cfg = GasConfig::KV;
        let mut m = GasMeter::new(1_000_000);
        m.charge_read_flat("s", b"k").unwrap();
        assert_eq!(m.used(), cfg.read_cost_flat);
        m.charge_read_flat("s", b"k").unwrap();
        assert_eq!(m.used(), cfg.read_cost_flat + cfg.read_cost_warm);
        // Another store's key of the same name is another key.
        m.charge_read_flat("t", b"k").unwrap();
        assert_eq!(m.used(), 2 * cfg.read_cost_flat + cfg.read_cost_warm);
        // A key written first is warm when read.
        assert!(m.touch("s", b"w"));
        let before = m.used();
        m.charge_read_flat("s", b"w").unwrap();
        assert_eq!(m.used() - before, cfg.read_cost_warm);
        // A fresh meter (the next transaction) starts cold.
        let mut next = GasMeter::new(1_000_000);
        next.charge_read_flat("s", b"k").unwrap();
        assert_eq!(next.used(), cfg.read_cost_flat);
    }
}

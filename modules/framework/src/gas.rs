//! Gas: every store access and every byte of a transaction costs gas, so work is paid for.

use crate::error::{sdk, Error};
use crate::state::ByStore;

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
    /// A write of a key this transaction already wrote: only the last value of a key reaches
    /// the store at commit, so a rewrite adds no tree or disk work. A sale saves each pool's
    /// state up to three times; charging each save as a new key priced a purchase a sixth
    /// higher than its work (and wallets simulate the dearest, the first in a block).
    pub write_cost_warm: u64,
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
        write_cost_warm: 100,
        write_cost_per_byte: 30,
        iter_next_cost_flat: 30,
    };
}

#[derive(Clone, Debug)]
pub struct GasMeter {
    limit: u64,
    used: u64,
    /// Keys this transaction has touched (read or written), whose reads are warm, with the
    /// bytes (key and value) it has paid to write for each (0 if only read). Looked up only,
    /// never iterated; bounded by the gas limit (each entry was paid a cold access). `None` for
    /// a meter that never runs out, which charges nobody.
    warm: Option<ByStore<u64>>,
}

impl GasMeter {
    pub fn new(limit: u64) -> GasMeter {
        GasMeter {
            limit,
            used: 0,
            warm: Some(ByStore::new()),
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
        let Some(warm) = &mut self.warm else {
            return true;
        };
        let keys = warm.entry(store).or_default();
        if keys.contains_key(key) {
            return false;
        }
        keys.insert(key.to_vec(), 0);
        true
    }

    /// Charges a write of `value_len` bytes to `key`: the full price the first time this
    /// transaction writes the key; after that the warm price, plus the per-byte price of any
    /// bytes beyond those already paid for (so a key cannot be written small and rewritten large
    /// for less than its final size costs).
    pub fn charge_write(
        &mut self,
        store: &'static str,
        key: &[u8],
        value_len: usize,
    ) -> Result<(), Error> {
        let cfg = GasConfig::KV;
        let bytes = (key.len() as u64).saturating_add(value_len as u64);
        let keys = self
            .warm
            .as_mut()
            .map(|warm| warm.entry(store).or_default());
        let paid = match keys {
            Some(keys) => match keys.get_mut(key) {
                Some(paid) => std::mem::replace(paid, (*paid).max(bytes)),
                None => {
                    keys.insert(key.to_vec(), bytes);
                    0
                }
            },
            None => 0,
        };
        if paid == 0 {
            self.consume(cfg.write_cost_flat, "WriteFlat")?;
        } else {
            self.consume(cfg.write_cost_warm, "WriteWarm")?;
        }
        self.consume(
            cfg.write_cost_per_byte
                .saturating_mul(bytes.saturating_sub(paid)),
            "WritePerByte",
        )
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

    #[test]
    fn a_rewrite_pays_the_warm_price_and_only_new_bytes() {
        let cfg = GasConfig::KV;
        let mut m = GasMeter::new(1_000_000);
        // A key only read before is written at the full price.
        m.charge_read_flat("s", b"k").unwrap();
        let before = m.used();
        m.charge_write("s", b"k", 9).unwrap();
        assert_eq!(
            m.used() - before,
            cfg.write_cost_flat + 10 * cfg.write_cost_per_byte
        );
        // Rewritten no larger: the warm price alone.
        let before = m.used();
        m.charge_write("s", b"k", 4).unwrap();
        assert_eq!(m.used() - before, cfg.write_cost_warm);
        // Rewritten larger: the warm price and the bytes beyond the 10 paid for.
        let before = m.used();
        m.charge_write("s", b"k", 20).unwrap();
        assert_eq!(
            m.used() - before,
            cfg.write_cost_warm + 11 * cfg.write_cost_per_byte
        );
        // The next transaction pays in full again.
        let mut next = GasMeter::new(1_000_000);
        next.charge_write("s", b"k", 4).unwrap();
        assert_eq!(
            next.used(),
            cfg.write_cost_flat + 5 * cfg.write_cost_per_byte
        );
    }
}

//! Gas: every store access and every byte of a transaction costs gas, so work is paid for.

use crate::error::{sdk, Error};

/// Costs of store operations, Cosmos SDK's `KVGasConfig` defaults.
#[derive(Clone, Copy, Debug)]
pub struct GasConfig {
    pub has_cost: u64,
    pub delete_cost: u64,
    pub read_cost_flat: u64,
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
}

impl GasMeter {
    pub fn new(limit: u64) -> GasMeter {
        GasMeter { limit, used: 0 }
    }

    /// A meter that never runs out (genesis, block hooks, simulation).
    pub fn infinite() -> GasMeter {
        GasMeter::new(u64::MAX)
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
}

//! A built-in book for running the model without a node: the localnet's four demo products
//! (`surety_genesis::demo::products`) with round covers in its first pool.

use super::BookLine;

/// One USDC in base units.
const USDC: f64 = 1_000_000.0;

/// Gross cover sold per demo product (ids 1–4), in USDC: 1M in all, the capacity of the
/// localnet's first pool (500 000 USDC of capital at 2× leverage).
const COVER_USDC: [(u64, f64); 4] = [
    (1, 400_000.0),
    (2, 300_000.0),
    (3, 100_000.0),
    (4, 200_000.0),
];

/// Share of cover the demo pool keeps: its reinsurance cedes a 20% quota share.
const RETAINED: f64 = 0.8;

/// Capital of the localnet's first pool at genesis, base units.
pub const DEMO_CAPITAL: f64 = 500_000.0 * USDC;

/// The demo products with their net covers.
pub fn demo_book() -> Vec<BookLine> {
    let products = surety_genesis::demo::products().products;
    COVER_USDC
        .iter()
        .filter_map(|&(id, usdc)| {
            // Genesis assigns ids from 1 in list order.
            let mut product = products.get(usize::try_from(id).ok()? - 1)?.clone();
            product.id = id;
            Some(BookLine {
                product,
                net_cover: usdc * USDC * RETAINED,
            })
        })
        .collect()
}

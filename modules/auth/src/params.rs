use surety_proto::cosmos::auth::v1beta1::Params;

/// Cosmos SDK's defaults, but for the price of a secp256k1 check.
pub fn default_params() -> Params {
    Params {
        max_memo_characters: 256,
        tx_sig_limit: 7,
        tx_size_cost_per_byte: 10,
        sig_verify_cost_ed25519: 590,
        // The SDK charges 1 000. Measured here (`scripts/bench-scale`), a check that misses the
        // memo of verified signatures takes about 29 µs: 29 ns per gas at 1 000, ten to twenty
        // times what a unit of gas buys anywhere else, so a block of many-signature
        // transactions would have run far longer than its gas says. At 10 000 a check costs
        // what the store work of a purchase does per gas (about 2.9 ns).
        sig_verify_cost_secp256k1: 10_000,
    }
}

//! The pool module's registered errors (codespace `pool`).

surety_framework::errors! { "pool";
    pool_not_found = 2, "pool not found";
    insufficient_shares = 3, "insufficient shares";
    cooldown_not_over = 4, "withdrawal cooldown not over";
    no_withdrawal = 5, "no withdrawal requested";
    below_capital_requirement = 6, "pool would fall below its capital requirement";
    insufficient_capacity = 7, "insufficient capacity";
    not_selling = 8, "pool has stopped selling cover";
    insolvent = 9, "pool has no capital";
    invalid_pool = 10, "invalid pool";
    busy = 11, "pool is retiring expired cover";
    nothing_to_recover = 12, "nothing to recover for this incident";
}

//! The policy module's registered errors (codespace `policy`).

surety_framework::errors! { "policy";
    product_not_found = 2, "product not found";
    product_paused = 3, "product is paused";
    invalid_term = 4, "invalid cover term";
    invalid_cover = 5, "invalid cover amount";
    insufficient_capacity = 6, "insufficient capacity";
    premium_exceeds_max = 7, "premium exceeds max_premium";
    policy_not_found = 8, "policy not found";
    not_owner = 9, "not the policy owner";
    invalid_product = 10, "invalid product";
    no_entry_price = 11, "no oracle price to start the cover at";
    sales_frozen = 12, "cover sales are frozen";
    policy_too_large = 13, "cover exceeds the per-policy cap";
    not_delegated = 14, "cover exceeds the buyer's delegation";
}

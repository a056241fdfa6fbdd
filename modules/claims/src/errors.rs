//! The claims module's registered errors (codespace `claims`).

surety_framework::errors! { "claims";
    claim_not_found = 2, "claim not found";
    not_policy_owner = 3, "not the policy owner";
    not_claimable = 4, "policy cannot be claimed";
    trigger_not_met = 5, "parametric trigger not met";
    claim_open = 6, "policy already has an open claim";
    voting_closed = 7, "voting is closed";
    already_voted = 8, "assessor already voted";
    not_assessor = 9, "not an assessor";
    stake_locked = 10, "assessor stake is locked";
    not_appealable = 11, "claim cannot be appealed";
    not_appealed = 12, "claim is not under appeal";
    invalid_claim = 13, "invalid claim";
    no_price = 14, "no oracle price";
}

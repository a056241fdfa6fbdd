//! The ibc module's registered errors (codespace `ibc`).

surety_framework::errors! { "ibc";
    invalid_message = 2, "invalid IBC message";
    handler_failed = 3, "IBC handler failed";
    unknown_denom = 4, "unknown IBC denom";
    invalid_memo = 5, "invalid cover memo";
    transfer_failed = 6, "ICS-20 transfer failed";
    not_found = 7, "not found";
}

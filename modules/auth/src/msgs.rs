//! Stateless checks of auth's messages: governance's `MsgUpdateParams`.

use surety_framework::validate::{MAX_LIST, MAX_TEXT};
use surety_framework::{sdk, Address, Error};
use surety_proto::cosmos::auth::v1beta1::{MsgUpdateParams, Params};

/// Upper bounds keep the ante handler's `cost × size` products far inside `u64` and leave every
/// transaction payable; the lower bound of 1 keeps each limit and cost meaningful.
const MAX_COST_PER_BYTE: u64 = 10_000;
const MAX_SIG_VERIFY_COST: u64 = 10_000_000;

fn within(v: u64, field: &str, max: u64) -> Result<(), Error> {
    if v == 0 || v > max {
        return Err(sdk::invalid_request(format!(
            "{field}: {v} is not in [1, {max}]"
        )));
    }
    Ok(())
}

/// Every auth param in its range; also checks genesis.
pub fn check_params(p: &Params) -> Result<(), Error> {
    within(
        p.max_memo_characters,
        "max_memo_characters",
        MAX_TEXT as u64,
    )?;
    within(p.tx_sig_limit, "tx_sig_limit", MAX_LIST as u64)?;
    within(
        p.tx_size_cost_per_byte,
        "tx_size_cost_per_byte",
        MAX_COST_PER_BYTE,
    )?;
    within(
        p.sig_verify_cost_ed25519,
        "sig_verify_cost_ed25519",
        MAX_SIG_VERIFY_COST,
    )?;
    within(
        p.sig_verify_cost_secp256k1,
        "sig_verify_cost_secp256k1",
        MAX_SIG_VERIFY_COST,
    )
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(f: impl FnOnce(&mut Params)) -> MsgUpdateParams {
        let mut params = crate::default_params();
        f(&mut params);
        MsgUpdateParams {
            authority: surety_framework::gov_authority().to_bech32(),
            params: Some(params),
        }
    }

    #[test]
    fn update_params_extremes() {
        assert!(check_update_params(&msg(|_| {})).is_ok());
        assert!(check_update_params(&msg(|p| p.max_memo_characters = 0)).is_err());
        assert!(check_update_params(&msg(|p| p.max_memo_characters = 1)).is_ok());
        assert!(check_update_params(&msg(|p| p.max_memo_characters = u64::MAX)).is_err());
        assert!(check_update_params(&msg(|p| p.tx_sig_limit = 0)).is_err());
        assert!(check_update_params(&msg(|p| p.tx_sig_limit = MAX_LIST as u64 + 1)).is_err());
        assert!(check_update_params(&msg(|p| p.tx_size_cost_per_byte = u64::MAX)).is_err());
        assert!(check_update_params(&msg(|p| p.sig_verify_cost_ed25519 = 0)).is_err());
        assert!(check_update_params(&msg(|p| p.sig_verify_cost_secp256k1 = u64::MAX)).is_err());
        let mut m = msg(|_| {});
        m.params = None;
        assert!(check_update_params(&m).is_err());
        let mut m = msg(|_| {});
        m.authority = Address([7; 20]).to_bech32();
        assert_eq!(check_update_params(&m).unwrap_err().code, 4);
        m.authority = String::new();
        assert!(check_update_params(&m).is_err());
    }
}

//! Typed message handlers, registered once per message type.
//!
//! A module lists its messages with [`Msgs::add`]: the type, the stateless check
//! (`ValidateBasic`: ranges, lengths, ids — and the signers the message names) and the execution.
//! The app decodes a message once per stage and always runs the check before the execution, in
//! CheckTx, in FinalizeBlock and when governance executes a proposal, so no message type can skip
//! its validation: there is no other way to register one.

use crate::address::Address;
use crate::context::Ctx;
use crate::error::{sdk, Error};
use prost::Message;
use surety_proto::{Any, TypeUrl};

type Check = dyn Fn(&Any) -> Result<Vec<Address>, Error> + Send + Sync;
type Execute = dyn Fn(&mut Ctx, &Any) -> Result<Vec<u8>, Error> + Send + Sync;

/// One message type's handler.
pub struct MsgHandler {
    pub type_url: &'static str,
    check: Box<Check>,
    execute: Box<Execute>,
}

impl MsgHandler {
    /// Decodes and validates `msg` without state; returns the addresses that must sign it.
    pub fn check(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        (self.check)(msg)
    }

    /// Decodes, validates and executes `msg`; returns its encoded `<Msg>Response`.
    pub fn execute(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        (self.execute)(ctx, msg)
    }
}

/// A module's message handlers.
#[derive(Default)]
pub struct Msgs {
    handlers: Vec<MsgHandler>,
}

impl Msgs {
    pub fn new() -> Msgs {
        Msgs::default()
    }

    /// Registers message type `M`. `check` validates it statelessly and returns its signers;
    /// `execute` runs it against state and returns its response.
    pub fn add<M, R>(
        mut self,
        check: fn(&M) -> Result<Vec<Address>, Error>,
        execute: impl Fn(&mut Ctx, M) -> Result<R, Error> + Send + Sync + 'static,
    ) -> Msgs
    where
        M: Message + Default + TypeUrl + 'static,
        R: Message,
    {
        assert!(
            self.handlers.iter().all(|h| h.type_url != M::TYPE_URL),
            "{} registered twice",
            M::TYPE_URL
        );
        self.handlers.push(MsgHandler {
            type_url: M::TYPE_URL,
            check: Box::new(move |any| check(&decode::<M>(any)?)),
            execute: Box::new(move |ctx, any| {
                let msg = decode::<M>(any)?;
                check(&msg)?;
                execute(ctx, msg).map(|r| r.encode_to_vec())
            }),
        });
        self
    }

    /// Registers a message type another library decodes itself (IBC's, which ibc-rs decodes
    /// from the `Any`): `check` and `execute` receive the `Any` whole.
    pub fn add_any(
        mut self,
        type_url: &'static str,
        check: fn(&Any) -> Result<Vec<Address>, Error>,
        execute: impl Fn(&mut Ctx, &Any) -> Result<Vec<u8>, Error> + Send + Sync + 'static,
    ) -> Msgs {
        assert!(
            self.handlers.iter().all(|h| h.type_url != type_url),
            "{type_url} registered twice"
        );
        self.handlers.push(MsgHandler {
            type_url,
            check: Box::new(check),
            execute: Box::new(move |ctx, any| {
                check(any)?;
                execute(ctx, any)
            }),
        });
        self
    }

    pub fn into_handlers(self) -> Vec<MsgHandler> {
        self.handlers
    }
}

fn decode<M: Message + Default + TypeUrl>(msg: &Any) -> Result<M, Error> {
    if msg.type_url != M::TYPE_URL {
        return Err(sdk::internal(format!(
            "{} routed to the handler of {}",
            msg.type_url,
            M::TYPE_URL
        )));
    }
    M::decode(msg.value.as_slice())
        .map_err(|e| sdk::tx_decode(format!("invalid {}: {e}", msg.type_url)))
}

/// The one signer a message names in `field`, checked as an account address.
pub fn signer(address: &str, field: &str) -> Result<Vec<Address>, Error> {
    crate::validate::address(address, field).map(|a| vec![a])
}

/// The check every module's `MsgUpdateParams` shares: signed by the gov authority, with params
/// present that pass the module's own `check`.
pub fn update_params<P>(
    authority: &str,
    params: Option<&P>,
    check: impl FnOnce(&P) -> Result<(), Error>,
) -> Result<Vec<Address>, Error> {
    let signer = crate::require_authority(authority)?;
    check(present(params)?)?;
    Ok(vec![signer])
}

/// The params a `MsgUpdateParams` carries, which [`update_params`] checked are there.
pub fn present<P>(params: Option<P>) -> Result<P, Error> {
    params.ok_or_else(|| sdk::invalid_request("params: missing"))
}

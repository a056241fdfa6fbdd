//! upgrade: `cosmos.upgrade.v1beta1`. Governance schedules a software upgrade for a height with
//! `MsgSoftwareUpgrade` (or cancels it with `MsgCancelUpgrade`); when the chain reaches it, every
//! node stops in BeginBlock with `UPGRADE "<name>" NEEDED at height <h>: <info>`, so operators
//! swap binaries at the same block and the new binary carries on from there.

use prost::Message;
use surety_framework::{
    decode_msg, decode_query, require_authority, sdk, signers_of, Address, Ctx, Error, Event,
    Module, ValidatorUpdate,
};
use surety_proto::cosmos::upgrade::v1beta1::*;
use surety_proto::{Any, TypeUrl};

pub const STORE: &str = "upgrade";
const PLAN: &[u8] = &[0x00];
const DONE: u8 = 0x01;

pub const QUERY_CURRENT_PLAN: &str = "/cosmos.upgrade.v1beta1.Query/CurrentPlan";

pub struct UpgradeModule;

impl UpgradeModule {
    fn plan(ctx: &mut Ctx) -> Result<Option<Plan>, Error> {
        ctx.get_msg(STORE, PLAN)
    }
}

impl Module for UpgradeModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[MsgSoftwareUpgrade::TYPE_URL, MsgCancelUpgrade::TYPE_URL]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
            MsgSoftwareUpgrade => authority,
            MsgCancelUpgrade => authority,
        )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        Ok(match msg.type_url.as_str() {
            MsgSoftwareUpgrade::TYPE_URL => {
                let m: MsgSoftwareUpgrade = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let plan = m
                    .plan
                    .ok_or_else(|| sdk::invalid_request("missing upgrade plan"))?;
                if plan.name.trim().is_empty() {
                    return Err(sdk::invalid_request("upgrade plan needs a name"));
                }
                if plan.height <= ctx.block.height as i64 {
                    return Err(sdk::invalid_request(format!(
                        "upgrade cannot be scheduled in the past: height {} ≤ {}",
                        plan.height, ctx.block.height
                    )));
                }
                if ctx
                    .get(STORE, &[&[DONE][..], plan.name.as_bytes()].concat())?
                    .is_some()
                {
                    return Err(sdk::invalid_request(format!(
                        "upgrade {:?} was already done",
                        plan.name
                    )));
                }
                ctx.emit(
                    Event::new("upgrade_scheduled")
                        .attr("name", &plan.name)
                        .attr("height", plan.height),
                );
                ctx.put_msg(STORE, PLAN.to_vec(), &plan)?;
                MsgSoftwareUpgradeResponse {}.encode_to_vec()
            }
            MsgCancelUpgrade::TYPE_URL => {
                let m: MsgCancelUpgrade = decode_msg(msg)?;
                require_authority(&m.authority)?;
                ctx.delete(STORE, PLAN.to_vec())?;
                MsgCancelUpgradeResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized upgrade message type: {other}"
                )))
            }
        })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        &[QUERY_CURRENT_PLAN]
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        if path != QUERY_CURRENT_PLAN {
            return Err(sdk::unknown_request(format!("unknown query path {path}")));
        }
        let _: QueryCurrentPlanRequest = decode_query(request)?;
        Ok(QueryCurrentPlanResponse {
            plan: Self::plan(ctx)?,
        }
        .encode_to_vec())
    }

    /// At the planned height the old binary must not execute the block: it stops here, every
    /// node at the same height, with the plan in the message.
    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        if let Some(plan) = Self::plan(ctx)? {
            if ctx.block.height as i64 >= plan.height {
                return Err(sdk::internal(format!(
                    "UPGRADE \"{}\" NEEDED at height {}: {}",
                    plan.name, plan.height, plan.info
                )));
            }
        }
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        Ok(Vec::new())
    }
}

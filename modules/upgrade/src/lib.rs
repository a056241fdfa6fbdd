//! upgrade: `cosmos.upgrade.v1beta1`. Governance schedules a software upgrade for a height with
//! `MsgSoftwareUpgrade` (or cancels it with `MsgCancelUpgrade`); when the chain reaches it, every
//! node stops in BeginBlock with `UPGRADE "<name>" NEEDED at height <h>: <info>`, so operators
//! swap binaries at the same block and the new binary carries on from there.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

use prost::Message;
use surety_framework::validate::{self, MAX_NAME, MAX_TEXT};
use surety_framework::{
    decode_query, require_authority, sdk, Address, Ctx, Error, Event, Module, Msgs, ValidatorUpdate,
};
use surety_proto::cosmos::upgrade::v1beta1::*;

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

/// A plan names its upgrade and a height; Cosmos's time-based plans and IBC client states are
/// gone, so either is refused rather than ignored.
#[allow(deprecated)]
fn check_plan(plan: Option<&Plan>) -> Result<&Plan, Error> {
    let plan = plan.ok_or_else(|| sdk::invalid_request("plan: missing"))?;
    validate::name(&plan.name, "plan.name", MAX_NAME)?;
    validate::text(&plan.info, "plan.info", MAX_TEXT)?;
    if plan.height <= 0 {
        return Err(sdk::invalid_request(format!(
            "plan.height: {} must be positive",
            plan.height
        )));
    }
    if plan
        .time
        .as_ref()
        .is_some_and(|t| t.seconds != 0 || t.nanos != 0)
    {
        return Err(sdk::invalid_request(
            "plan.time: upgrades are scheduled by height only",
        ));
    }
    if plan.upgraded_client_state.is_some() {
        return Err(sdk::invalid_request(
            "plan.upgraded_client_state: not supported",
        ));
    }
    Ok(plan)
}

pub fn check_software_upgrade(m: &MsgSoftwareUpgrade) -> Result<Vec<Address>, Error> {
    let signer = require_authority(&m.authority)?;
    check_plan(m.plan.as_ref())?;
    Ok(vec![signer])
}

pub fn check_cancel_upgrade(m: &MsgCancelUpgrade) -> Result<Vec<Address>, Error> {
    Ok(vec![require_authority(&m.authority)?])
}

fn done_key(name: &str) -> Vec<u8> {
    [&[DONE][..], name.as_bytes()].concat()
}

/// Schedules the plan unless its height has passed or an upgrade of that name was done.
fn schedule(ctx: &mut Ctx, m: MsgSoftwareUpgrade) -> Result<MsgSoftwareUpgradeResponse, Error> {
    let plan = check_plan(m.plan.as_ref())?;
    if plan.height <= block_height(ctx)? {
        return Err(sdk::invalid_request(format!(
            "upgrade cannot be scheduled in the past: height {} ≤ {}",
            plan.height, ctx.block.height
        )));
    }
    if ctx.get(STORE, &done_key(&plan.name))?.is_some() {
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
    ctx.put_msg(STORE, PLAN.to_vec(), plan)?;
    Ok(MsgSoftwareUpgradeResponse {})
}

fn block_height(ctx: &Ctx) -> Result<i64, Error> {
    i64::try_from(ctx.block.height).map_err(|_| sdk::internal("block height beyond i64"))
}

impl Module for UpgradeModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msgs(&self) -> Msgs {
        Msgs::new().add(check_software_upgrade, schedule).add(
            check_cancel_upgrade,
            |ctx, _m: MsgCancelUpgrade| {
                ctx.delete(STORE, PLAN.to_vec())?;
                Ok(MsgCancelUpgradeResponse {})
            },
        )
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
            if block_height(ctx)? >= plan.height {
                return Err(surety_framework::error::fatal::upgrade_needed(format!(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(f: impl FnOnce(&mut Plan)) -> MsgSoftwareUpgrade {
        let mut plan = Plan {
            name: "v2".into(),
            height: 100,
            ..Default::default()
        };
        f(&mut plan);
        MsgSoftwareUpgrade {
            authority: surety_framework::gov_authority().to_bech32(),
            plan: Some(plan),
        }
    }

    #[test]
    #[allow(deprecated)]
    fn plan_extremes() {
        assert!(check_software_upgrade(&msg(|_| {})).is_ok());
        assert!(check_software_upgrade(&msg(|p| p.height = 1)).is_ok());
        assert!(check_software_upgrade(&msg(|p| p.height = i64::MAX)).is_ok());
        assert!(check_software_upgrade(&msg(|p| p.height = 0)).is_err());
        assert!(check_software_upgrade(&msg(|p| p.height = i64::MIN)).is_err());
        assert!(check_software_upgrade(&msg(|p| p.name = String::new())).is_err());
        assert!(check_software_upgrade(&msg(|p| p.name = "  ".into())).is_err());
        assert!(check_software_upgrade(&msg(|p| p.name = "n".repeat(MAX_NAME + 1))).is_err());
        assert!(check_software_upgrade(&msg(|p| p.info = "i".repeat(MAX_TEXT + 1))).is_err());
        assert!(check_software_upgrade(&msg(|p| {
            let mut t = p.time.take().unwrap_or_default();
            t.seconds = 1;
            p.time = Some(t);
        }))
        .is_err());
        let mut m = msg(|_| {});
        m.plan = None;
        assert!(check_software_upgrade(&m).is_err());
        m = msg(|_| {});
        m.authority = Address([1; 20]).to_bech32();
        assert_eq!(check_software_upgrade(&m).unwrap_err().code, 4);
        assert!(check_cancel_upgrade(&MsgCancelUpgrade {
            authority: Address([1; 20]).to_bech32()
        })
        .is_err());
    }
}

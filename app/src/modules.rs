//! The modules this chain runs, and the routes from message types and query paths to them.

use std::collections::BTreeMap;
use surety_framework::{sdk, Error, Module, MsgHandler};
use surety_proto::Any;

pub struct Modules {
    /// In genesis and block-hook order.
    list: Vec<Box<dyn Module>>,
    /// Told of every delegation change and slash (distribution).
    hooks: Option<Box<dyn surety_framework::StakingHooks + Send>>,
    /// Each message type's handler and the index of its module.
    msg_routes: BTreeMap<&'static str, (usize, MsgHandler)>,
    query_routes: BTreeMap<&'static str, usize>,
}

impl Modules {
    pub fn new(list: Vec<Box<dyn Module>>) -> Modules {
        let mut msg_routes = BTreeMap::new();
        let mut query_routes = BTreeMap::new();
        for (i, module) in list.iter().enumerate() {
            for handler in module.msgs().into_handlers() {
                let url = handler.type_url;
                let previous = msg_routes.insert(url, (i, handler));
                assert!(previous.is_none(), "two modules handle {url}");
            }
            for path in module.query_paths() {
                let previous = query_routes.insert(*path, i);
                assert!(previous.is_none(), "two modules answer {path}");
            }
        }
        Modules {
            list,
            hooks: None,
            msg_routes,
            query_routes,
        }
    }

    /// Surety's modules.
    pub fn surety() -> Modules {
        let pool = surety_pool::Keeper::default();
        let policy = surety_policy::Keeper { pool };
        let distribution = surety_distribution::Distribution::default();
        let mut modules = Modules::new(vec![
            // First: at a planned upgrade height nothing else may run.
            Box::new(surety_upgrade::UpgradeModule),
            Box::new(surety_auth::Auth),
            Box::new(surety_bank::Bank::default()),
            Box::new(surety_staking::Staking::default()),
            // Rewards are allocated over the last commit before slashing acts on it.
            Box::new(surety_distribution::DistributionModule {
                keeper: distribution,
            }),
            Box::new(surety_slashing::SlashingModule {
                keeper: surety_slashing::Slashing::default(),
            }),
            Box::new(surety_oracle::OracleModule {
                keeper: surety_oracle::Oracle::default(),
                registry: policy,
            }),
            Box::new(surety_pool::PoolModule { keeper: pool }),
            Box::new(surety_policy::PolicyModule {
                keeper: policy,
                oracle: std::sync::Arc::new(surety_oracle::Oracle::default()),
            }),
            Box::new(surety_claims::ClaimsModule::new(
                policy,
                surety_oracle::Oracle::default(),
            )),
            Box::new(surety_gov::GovModule {
                keeper: surety_gov::Gov::default(),
            }),
            // Last: payouts claims made in this block go home in the same block.
            Box::new(surety_ibc::Ibc),
        ]);
        modules.hooks = Some(Box::new(distribution));
        modules
    }

    /// Checks each module's section of a genesis `app_state` (a missing section is the
    /// module's default).
    pub fn validate_genesis(&self, app_state: &serde_json::Value) -> Result<(), String> {
        for module in self.iter() {
            if let Some(section) = app_state.get(module.name()) {
                module.validate_genesis(section)?;
            }
        }
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.list.iter().map(|m| m.as_ref())
    }

    /// The module that handles `msg`, and its handler.
    pub fn route_msg(&self, msg: &Any) -> Result<(&dyn Module, &MsgHandler), Error> {
        self.msg_routes
            .get(msg.type_url.as_str())
            .map(|(i, handler)| (self.list[*i].as_ref(), handler))
            .ok_or_else(|| {
                sdk::unknown_request(format!("unrecognized message type: {}", msg.type_url))
            })
    }

    /// Every message type the chain accepts.
    pub fn msg_types(&self) -> impl Iterator<Item = &&'static str> {
        self.msg_routes.keys()
    }

    pub fn route_query(&self, path: &str) -> Option<&dyn Module> {
        self.query_routes.get(path).map(|&i| self.list[i].as_ref())
    }

    pub fn query_paths(&self) -> impl Iterator<Item = &&'static str> {
        self.query_routes.keys()
    }
}

impl surety_framework::Router for Modules {
    fn signers(&self, msg: &Any) -> Result<Vec<surety_framework::Address>, Error> {
        self.route_msg(msg)?.1.check(msg)
    }

    fn staking_hooks(&self) -> Option<&dyn surety_framework::StakingHooks> {
        self.hooks
            .as_deref()
            .map(|h| h as &dyn surety_framework::StakingHooks)
    }

    fn payout_hooks(&self) -> Option<&dyn surety_framework::PayoutHooks> {
        Some(&surety_ibc::Ibc)
    }

    fn execute(
        &self,
        ctx: &mut surety_framework::Ctx,
        msg: &Any,
        signer: &surety_framework::Address,
    ) -> Result<Vec<u8>, Error> {
        let (_, handler) = self.route_msg(msg)?;
        let signers = handler.check(msg)?;
        if signers != [*signer] {
            return Err(sdk::unauthorized(format!(
                "{} must be signed by {signer}, not {signers:?}",
                msg.type_url
            )));
        }
        ctx.branch(|c| handler.execute(c, msg))
    }
}

//! The small framework every Surety module programs against.
//!
//! A module sees the chain through a [`Ctx`]: gas-metered reads and writes to its own substore,
//! the block it runs in, and an event sink. Modules expose a [`Module`] implementation that the
//! app routes messages, queries, genesis and block hooks to, plus a keeper-style public API that
//! other modules call (never another module's keys).

pub mod accounts;
pub mod address;
pub mod coins;
pub mod context;
pub mod error;
pub mod events;
pub mod gas;
pub mod math;
pub mod module;
pub mod msgs;
pub mod oracle;
pub mod packed;
pub mod paginate;
pub mod queue;
pub mod state;
pub mod testing;
pub mod validate;

pub use address::{Address, ACCOUNT_PREFIX, VALIDATOR_PREFIX};
pub use coins::{Coin, Coins};
pub use context::{
    BlockInfo, CommitVote, Ctx, Evidence, ExecMode, PayoutHooks, Prover, Router, StakingHooks,
};
pub use error::{sdk, Error, GrpcCode};
pub use events::{Event, EventIndex};
pub use gas::{GasConfig, GasMeter};
pub use math::{Dec, Round};
pub use module::{
    decode_msg, decode_query, gov_authority, require_authority, Module, ValidatorUpdate,
};
pub use msgs::{signer, MsgHandler, Msgs};
pub use paginate::{paginate, PageRequest, PageResponse};
pub use queue::DeadlineQueue;
pub use state::{Changes, Entries, Overlay, StateRead, StateWrite};
pub mod serde_str;

//! What the claims module needs to know from the oracle, as a trait the oracle module implements,
//! so that parametric cover does not depend on how prices and incidents come to be.

use crate::context::Ctx;
use crate::error::Error;
use crate::math::Dec;

/// An aggregated price in force from `time` (block time, unix seconds) until the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PricePoint {
    pub price: Dec,
    pub time: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentView {
    pub id: u64,
    pub protocol: String,
    pub time: i64,
    pub confirmed: bool,
}

pub trait OracleView: Send + Sync {
    /// The price of `feed` in force at `time`: the last one recorded at or before it.
    fn price_at(&self, ctx: &mut Ctx, feed: &str, time: i64) -> Result<Option<PricePoint>, Error>;

    /// Every price of `feed` recorded in `(from, to]`, ascending.
    fn prices_after(
        &self,
        ctx: &mut Ctx,
        feed: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PricePoint>, Error>;

    fn incident(&self, ctx: &mut Ctx, id: u64) -> Result<Option<IncidentView>, Error>;

    /// An incident on `protocol` reported and not yet decided (the lowest id), if any.
    fn open_incident(&self, ctx: &mut Ctx, protocol: &str) -> Result<Option<u64>, Error>;

    /// Incidents confirmed in the block at `height`.
    fn confirmed_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<IncidentView>, Error>;

    /// Feeds that got a new price in the block at `height`.
    fn updated_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<String>, Error>;
}

/// Whether a protocol is covered by some product, so that incidents can only be reported for
/// listed protocols. The policy module implements it.
pub trait ProtocolRegistry: Send + Sync {
    fn is_listed(&self, ctx: &mut Ctx, protocol: &str) -> Result<bool, Error>;
}

//! Protobuf wire types for Surety.
//!
//! Standard messages keep their Cosmos SDK and CometBFT packages so that wallets, cosmjs and
//! relayers work unchanged; they come from `cosmos-sdk-proto` and `tendermint-proto`, which are
//! generated from the upstream `.proto` files. Surety's own packages (`surety.<module>.v1`) are
//! added under [`surety`] as the insurance modules land.

pub use cosmos_sdk_proto::cosmos;
pub use cosmos_sdk_proto::Any;
pub use ics23;
pub use prost;
pub use tendermint_proto::v0_38 as cometbft;

use prost::Message;

/// Names a protobuf message by its `Any` type URL.
pub trait TypeUrl {
    const TYPE_URL: &'static str;
}

macro_rules! type_urls {
    ($($ty:path => $url:literal),* $(,)?) => {
        $(impl TypeUrl for $ty { const TYPE_URL: &'static str = $url; })*
    };
}

type_urls! {
    cosmos::bank::v1beta1::MsgSend => "/cosmos.bank.v1beta1.MsgSend",
    cosmos::bank::v1beta1::MsgMultiSend => "/cosmos.bank.v1beta1.MsgMultiSend",
    cosmos::auth::v1beta1::BaseAccount => "/cosmos.auth.v1beta1.BaseAccount",
    cosmos::auth::v1beta1::ModuleAccount => "/cosmos.auth.v1beta1.ModuleAccount",
    cosmos::crypto::secp256k1::PubKey => "/cosmos.crypto.secp256k1.PubKey",
    cosmos::crypto::ed25519::PubKey => "/cosmos.crypto.ed25519.PubKey",
    cosmos::staking::v1beta1::MsgCreateValidator => "/cosmos.staking.v1beta1.MsgCreateValidator",
}

/// Packs a message into an `Any` under its type URL.
pub fn to_any<M: Message + TypeUrl>(msg: &M) -> Any {
    Any {
        type_url: M::TYPE_URL.to_string(),
        value: msg.encode_to_vec(),
    }
}

/// Unpacks an `Any` if it carries `M`; `None` when the type URL differs.
pub fn from_any<M: Message + TypeUrl + Default>(
    any: &Any,
) -> Option<Result<M, prost::DecodeError>> {
    (any.type_url == M::TYPE_URL).then(|| M::decode(any.value.as_slice()))
}

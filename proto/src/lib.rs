//! Protobuf wire types for Surety.
//!
//! Standard messages keep their Cosmos SDK and CometBFT packages so that wallets, cosmjs and
//! relayers work unchanged; they come from `cosmos-sdk-proto` and `tendermint-proto`, which are
//! generated from the upstream `.proto` files. Surety's own packages (`surety.<module>.v1`) are
//! added under [`surety`] as the insurance modules land.

pub use cosmos_sdk_proto::cosmos;
pub use cosmos_sdk_proto::Any;
/// IBC's wire types (ibc-go's packages), as relayers and other chains encode them.
pub use ibc_proto;
pub use ics23;
pub use prost;
pub use tendermint_proto::v0_38 as cometbft;

use prost::Message;

mod reflection;
pub use reflection::reflection_descriptor_set;

/// A gogoproto `LegacyDec` as the wire carries it, the integer of 10⁻¹⁸ units
/// (`100000000000000000`), as the SDK prints it: `0.100000000000000000` (and `""` as zero).
/// `None` if not an integer.
pub fn legacy_dec_string(units: &str) -> Option<String> {
    let (sign, digits) = units.strip_prefix('-').map_or(("", units), |d| ("-", d));
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{digits:0>19}");
    let (int, fraction) = padded.split_at(padded.len() - 18);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Some(format!("{sign}{int}.{fraction}"))
}

/// [`reflection_descriptor_set`] as a pool: every message the chain knows, read by reflection
/// (JSON for clients, Amino JSON for legacy signatures).
pub fn descriptors() -> &'static prost_reflect::DescriptorPool {
    static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        prost_reflect::DescriptorPool::decode(reflection_descriptor_set())
            .expect("the embedded descriptor sets decode")
    })
}

/// Surety's own packages, generated from `proto/surety`.
pub mod surety {
    macro_rules! package {
        ($($module:ident => $file:literal),* $(,)?) => {
            $(pub mod $module {
                pub mod v1 {
                    include!(concat!(env!("OUT_DIR"), "/", $file));
                }
            })*
        };
    }
    package! {
        pool => "surety.pool.v1.rs",
        policy => "surety.policy.v1.rs",
        claims => "surety.claims.v1.rs",
        oracle => "surety.oracle.v1.rs",
        ibc => "surety.ibc.v1.rs",
    }
}

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
    cosmos::bank::v1beta1::MsgUpdateParams => "/cosmos.bank.v1beta1.MsgUpdateParams",
    cosmos::auth::v1beta1::MsgUpdateParams => "/cosmos.auth.v1beta1.MsgUpdateParams",
    cosmos::auth::v1beta1::BaseAccount => "/cosmos.auth.v1beta1.BaseAccount",
    cosmos::auth::v1beta1::ModuleAccount => "/cosmos.auth.v1beta1.ModuleAccount",
    cosmos::crypto::secp256k1::PubKey => "/cosmos.crypto.secp256k1.PubKey",
    cosmos::crypto::ed25519::PubKey => "/cosmos.crypto.ed25519.PubKey",
    cosmos::staking::v1beta1::MsgCreateValidator => "/cosmos.staking.v1beta1.MsgCreateValidator",
    cosmos::staking::v1beta1::MsgEditValidator => "/cosmos.staking.v1beta1.MsgEditValidator",
    cosmos::staking::v1beta1::MsgDelegate => "/cosmos.staking.v1beta1.MsgDelegate",
    cosmos::staking::v1beta1::MsgUndelegate => "/cosmos.staking.v1beta1.MsgUndelegate",
    cosmos::staking::v1beta1::MsgBeginRedelegate => "/cosmos.staking.v1beta1.MsgBeginRedelegate",
    cosmos::staking::v1beta1::MsgUpdateParams => "/cosmos.staking.v1beta1.MsgUpdateParams",
    cosmos::gov::v1::MsgSubmitProposal => "/cosmos.gov.v1.MsgSubmitProposal",
    cosmos::gov::v1::MsgDeposit => "/cosmos.gov.v1.MsgDeposit",
    cosmos::gov::v1::MsgVote => "/cosmos.gov.v1.MsgVote",
    cosmos::gov::v1::MsgVoteWeighted => "/cosmos.gov.v1.MsgVoteWeighted",
    cosmos::gov::v1::MsgUpdateParams => "/cosmos.gov.v1.MsgUpdateParams",
    cosmos::slashing::v1beta1::MsgUnjail => "/cosmos.slashing.v1beta1.MsgUnjail",
    cosmos::upgrade::v1beta1::MsgSoftwareUpgrade => "/cosmos.upgrade.v1beta1.MsgSoftwareUpgrade",
    cosmos::upgrade::v1beta1::MsgCancelUpgrade => "/cosmos.upgrade.v1beta1.MsgCancelUpgrade",
    cosmos::distribution::v1beta1::MsgCommunityPoolSpend => "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend",
    cosmos::distribution::v1beta1::MsgWithdrawDelegatorReward => "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward",
    cosmos::distribution::v1beta1::MsgWithdrawValidatorCommission => "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission",
    cosmos::distribution::v1beta1::MsgUpdateParams => "/cosmos.distribution.v1beta1.MsgUpdateParams",
    cosmos::slashing::v1beta1::MsgUpdateParams => "/cosmos.slashing.v1beta1.MsgUpdateParams",
}

/// Type URLs of Surety's own messages: `/surety.<module>.v1.<Msg>`.
macro_rules! surety_type_urls {
    ($($module:ident: [$($msg:ident),* $(,)?]),* $(,)?) => {
        $($(impl TypeUrl for surety::$module::v1::$msg {
            const TYPE_URL: &'static str =
                concat!("/surety.", stringify!($module), ".v1.", stringify!($msg));
        })*)*
    };
}

surety_type_urls! {
    pool: [MsgCreatePool, MsgDeposit, MsgRequestWithdraw, MsgCompleteWithdraw, MsgUpdateParams],
    policy: [
        MsgCreateProduct, MsgUpdateProduct, MsgSetProductPaused, MsgBuyCover, MsgTransferPolicy,
        MsgUpdateParams,
    ],
    claims: [
        MsgFileClaim, MsgStakeAssessor, MsgUnstakeAssessor, MsgVoteClaim, MsgAppealClaim,
        MsgResolveAppeal, MsgUpdateParams, MsgRecordRecovery,
    ],
    oracle: [MsgReportIncident, MsgAttestIncident, MsgUpdateParams],
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

/// Every Cosmos and Surety service the node serves, with their imports, as an encoded
/// `FileDescriptorSet` (gogoproto options included, for the REST gateway). gRPC reflection
/// serves it with IBC's services added: [`reflection_descriptor_set`].
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/surety_descriptor.bin"));

//! The whole state as genesis: `suretyd export` writes every key of every substore at the
//! latest height, and InitChain loads it back, so a chain restarted (or forked) from the export
//! starts from exactly the state it left: the same app hash, IBC and all. Module genesis
//! sections are not used for this: they describe how a chain begins, not everything a running
//! chain holds, and any state they missed would be lost silently. A verifiable check covers the
//! whole: InitChain refuses an export whose keys do not hash to the app hash it records.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use surety_framework::Changes;

use crate::App;

/// The `app_state` key an export lives under.
pub const SECTION: &str = "surety_export";

/// Every substore's keys and values at one height, base64 in JSON.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Export {
    /// The height exported; the new chain starts at the next one.
    #[serde(with = "decimal")]
    pub height: u64,
    /// Hex app hash of the exported state.
    pub app_hash: String,
    /// substore name → [[key, value], …] in key order, base64.
    pub substores: BTreeMap<String, Vec<[String; 2]>>,
}

/// A validator of the exported state, for the genesis file's `validators`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenesisValidator {
    pub ed25519_pubkey: [u8; 32],
    pub power: i64,
}

mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl App {
    /// The latest committed state as an [`Export`], and its validator set.
    pub fn export(&self) -> Result<(Export, Vec<GenesisValidator>), String> {
        let storage = self.storage();
        let snapshot = storage.latest_snapshot();
        let height = snapshot.version();
        let app_hash = snapshot
            .app_hash()
            .ok_or("nothing to export: no block was committed yet")?;
        let mut substores = BTreeMap::new();
        for name in storage.substores() {
            let pairs = snapshot
                .prefix(&name, &[])
                .map_err(|e| format!("reading {name}: {e}"))?
                .into_iter()
                .map(|(k, v)| [b64().encode(k), b64().encode(v)])
                .collect();
            substores.insert(name, pairs);
        }
        let (validators, _) = self
            .read_metered(height, surety_framework::GasMeter::infinite(), |ctx| {
                surety_staking::Staking::default().consensus_validators(ctx)
            })
            .map_err(|e| e.to_string())?;
        let validators = validators.map_err(|e| e.log)?;
        let validators = validators
            .into_iter()
            .filter(|v| v.power > 0)
            .map(|v| GenesisValidator {
                ed25519_pubkey: v.pubkey,
                power: v.power,
            })
            .collect();
        Ok((
            Export {
                height,
                app_hash: hex::encode_upper(app_hash),
                substores,
            },
            validators,
        ))
    }

    /// The changes an export makes to an empty store, with every substore name checked
    /// against the ones this app has.
    pub(crate) fn import_changes(&self, export: &Export) -> Result<Changes, String> {
        let known: Vec<&'static str> = self
            .inner
            .modules
            .iter()
            .map(|m| m.name())
            .chain([crate::block_gas::STORE])
            .collect();
        let mut changes = Changes::new();
        for (name, pairs) in &export.substores {
            let store = known
                .iter()
                .copied()
                .find(|k| k == name)
                .ok_or_else(|| format!("export: unknown substore {name:?}"))?;
            for [k, v] in pairs {
                let decode = |s: &str| {
                    b64()
                        .decode(s)
                        .map_err(|e| format!("export: {name}: not base64: {e}"))
                };
                changes.insert(store, decode(k)?, Some(decode(v)?));
            }
        }
        Ok(changes)
    }
}

//! Genesis: the `app_state` inside CometBFT's `genesis.json`, its defaults and validation, and
//! the genesis transactions (gentxs) that create the first validators.

pub mod demo;
mod gentx;

pub use gentx::{verify_gentx, GentxSummary};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use surety_framework::{Address, Coins};

/// Surety's `app_state`: one section per module, plus the gentxs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct AppState {
    pub auth: surety_auth::GenesisState,
    pub bank: surety_bank::GenesisState,
    #[serde(default)]
    pub genutil: Genutil,
    /// Every other module's section, kept as it is (each module validates its own).
    #[serde(flatten)]
    pub modules: std::collections::BTreeMap<String, Value>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Genutil {
    /// Signed `TxRaw`s, base64.
    #[serde(default)]
    pub gen_txs: Vec<String>,
}

impl AppState {
    pub fn from_json(value: &Value) -> Result<AppState, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("app_state: {e}"))
    }

    /// Funds an account at genesis, creating it if needed.
    pub fn add_account(&mut self, address: &Address, coins: &Coins) -> Result<(), String> {
        if !self
            .auth
            .accounts
            .iter()
            .any(|a| a.address == address.to_bech32())
        {
            self.auth.add_account(address)?;
        }
        self.bank.add_balance(address, coins)
    }

    pub fn gentx_bytes(&self) -> Result<Vec<Vec<u8>>, String> {
        self.genutil
            .gen_txs
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                base64::engine::general_purpose::STANDARD
                    .decode(tx)
                    .map_err(|e| format!("genutil: gentx #{i} is not base64: {e}"))
            })
            .collect()
    }

    /// Everything that can be checked without executing: each section, and each gentx's
    /// signature, self-bond and funding.
    pub fn validate(&self, chain_id: &str) -> Result<Vec<GentxSummary>, String> {
        self.auth.validate()?;
        self.bank.validate()?;
        let gentxs = self.gentx_bytes()?;
        if gentxs.is_empty() {
            return Err("genutil: no gentxs; a chain needs at least one validator (run `suretyd genesis gentx` then `collect-gentxs`)".into());
        }
        let mut summaries: Vec<GentxSummary> = Vec::new();
        for (i, tx) in gentxs.iter().enumerate() {
            let summary = verify_gentx(tx, chain_id, self)
                .map_err(|e| format!("genutil: gentx #{i}: {e}"))?;
            if summaries
                .iter()
                .any(|s| s.consensus_pubkey == summary.consensus_pubkey)
            {
                return Err(format!(
                    "genutil: gentx #{i} reuses another validator's consensus key"
                ));
            }
            if summaries.iter().any(|s| s.operator == summary.operator) {
                return Err(format!(
                    "genutil: gentx #{i} creates validator {} twice",
                    summary.operator
                ));
            }
            summaries.push(summary);
        }
        Ok(summaries)
    }
}

/// CometBFT's `genesis.json`, with `app_state` typed and every other field kept as CometBFT wrote it.
#[derive(Clone, Debug)]
pub struct GenesisFile {
    pub doc: Value,
}

impl GenesisFile {
    pub fn load(path: &Path) -> Result<GenesisFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
        if !doc.is_object() {
            return Err(format!("{} is not a JSON object", path.display()));
        }
        Ok(GenesisFile { doc })
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(&self.doc).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))
    }

    pub fn chain_id(&self) -> Result<String, String> {
        self.doc["chain_id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| "genesis: chain_id is missing".to_string())
    }

    pub fn app_state(&self) -> Result<AppState, String> {
        match self.doc.get("app_state") {
            None | Some(Value::Null) => Ok(AppState::default()),
            Some(v) => AppState::from_json(v),
        }
    }

    pub fn set_app_state(&mut self, state: &AppState) {
        self.doc["app_state"] = serde_json::to_value(state).expect("app state serializes");
    }

    /// Validates the whole file: chain id, CometBFT validators (must be empty: the app sets them
    /// from gentxs) and the app state.
    pub fn validate(&self) -> Result<Vec<GentxSummary>, String> {
        let chain_id = self.chain_id()?;
        if chain_id.len() > 50 {
            return Err(format!(
                "genesis: chain_id {chain_id:?} is longer than 50 characters"
            ));
        }
        if self.doc["validators"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
        {
            return Err(
                "genesis: `validators` must be empty; the validator set comes from gentxs".into(),
            );
        }
        self.app_state()?.validate(&chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_state_needs_a_validator() {
        let err = AppState::default().validate("surety-1").unwrap_err();
        assert!(err.contains("at least one validator"), "{err}");
    }

    #[test]
    fn add_account_merges_balances_and_rejects_bad_sections() {
        let mut s = AppState::default();
        let a = Address([1; 20]);
        s.add_account(&a, &"5usure".parse().unwrap()).unwrap();
        s.add_account(&a, &"7usure,1uusdc".parse().unwrap())
            .unwrap();
        assert_eq!(s.auth.accounts.len(), 1);
        assert_eq!(
            s.bank.computed_supply().unwrap().to_string(),
            "12usure,1uusdc"
        );
        s.bank.supply = vec![surety_bank::CoinJson {
            denom: "usure".into(),
            amount: "1".into(),
        }];
        let err = s.bank.validate().unwrap_err();
        assert!(err.contains("does not equal"), "{err}");
    }
}

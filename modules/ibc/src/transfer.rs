//! ICS-20 fungible token transfer on Surety's bank.
//!
//! Tokens that leave for a chain where they did not come from are escrowed in the channel's
//! escrow account; tokens that arrive from a chain that is their source are minted as
//! `ibc/<SHA-256 of the full path>`, with the path kept so that `denom-trace` can tell what a
//! voucher is and so that sending it on names the right path.

use crate::host::Shared;
use crate::keys;
use crate::STORE;
use ibc::apps::transfer::context::{TokenTransferExecutionContext, TokenTransferValidationContext};
use ibc::apps::transfer::types::{Memo, PrefixedCoin, PrefixedDenom};
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::primitives::Signer;
use sha2::{Digest, Sha256};
use surety_bank::Bank;
use surety_framework::{accounts, Address, Coin, Coins, Ctx, Error};

/// The escrow account of a channel end, as ibc-go derives it (ADR-028 style: the first 20 bytes
/// of SHA-256 over the version, a zero byte and `port/channel`), so explorers agree on it.
pub fn escrow_address(port: &PortId, channel: &ChannelId) -> Address {
    let mut hasher = Sha256::new();
    hasher.update(b"ics20-1");
    hasher.update([0u8]);
    hasher.update(format!("{port}/{channel}").as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest[..20]);
    Address(bytes)
}

/// The local denom of a token: its base denom when it is native here, else `ibc/<HASH>`.
pub fn local_denom(denom: &PrefixedDenom) -> String {
    if denom.trace_path.is_empty() {
        denom.base_denom.to_string()
    } else {
        format!("ibc/{}", denom_hash(&denom.to_string()))
    }
}

/// Upper-case hex SHA-256 of a full denom path, as ibc-go writes voucher denoms.
pub fn denom_hash(full_path: &str) -> String {
    hex::encode_upper(Sha256::digest(full_path.as_bytes()))
}

/// The full path an `ibc/<HASH>` voucher stands for; a native denom stands for itself.
pub fn full_path(ctx: &mut Ctx, denom: &str) -> Result<String, Error> {
    match denom.strip_prefix("ibc/") {
        Some(hash) => {
            let path = ctx.get(STORE, &keys::denom_trace(&hash.to_uppercase()))?;
            path.map(|p| String::from_utf8_lossy(&p).into_owned())
                .ok_or_else(|| crate::errors::unknown_denom(format!("no denom trace for {denom}")))
        }
        None => Ok(denom.to_owned()),
    }
}

fn coins(coin: &PrefixedCoin) -> Result<Coins, HostError> {
    let amount: u128 = coin.amount.to_string().parse().map_err(|_| {
        HostError::invalid_state(format!(
            "amount {} is beyond this chain's range",
            coin.amount
        ))
    })?;
    Coins::from_vec(vec![Coin::new(amount, local_denom(&coin.denom))])
        .map_err(|e| HostError::invalid_state(e.log))
}

fn bank_err(e: Error) -> HostError {
    HostError::failed_to_store(format!("{}/{}: {}", e.codespace, e.code, e.log))
}

/// ICS-20's view of the chain: accounts and coins, on the block's shared context.
pub struct TransferCtx<'r, 'c> {
    pub(crate) ctx: Shared<'r, 'c>,
    bank: Bank,
}

impl<'r, 'c> TransferCtx<'r, 'c> {
    pub fn new(ctx: Shared<'r, 'c>) -> TransferCtx<'r, 'c> {
        TransferCtx {
            ctx,
            bank: Bank::default(),
        }
    }

    fn balance_at_least(&self, who: &Address, coins: &Coins) -> Result<(), HostError> {
        let mut ctx = self.ctx.borrow_mut();
        for coin in coins {
            let have = self
                .bank
                .balance(&mut ctx, who, &coin.denom)
                .map_err(bank_err)?;
            if have < coin.amount {
                return Err(HostError::invalid_state(format!(
                    "insufficient funds: {who} has {have}{} and needs {coin}",
                    coin.denom
                )));
            }
        }
        Ok(())
    }

    fn send(&self, from: &Address, to: &Address, coins: &Coins) -> Result<(), HostError> {
        self.bank
            .send(&mut self.ctx.borrow_mut(), from, to, coins)
            .map_err(bank_err)
    }
}

impl TokenTransferValidationContext for TransferCtx<'_, '_> {
    type AccountId = Address;

    fn sender_account(&self, sender: &Signer) -> Result<Address, HostError> {
        Address::from_bech32(sender.as_ref()).map_err(|e| HostError::invalid_state(e.log))
    }

    fn receiver_account(&self, receiver: &Signer) -> Result<Address, HostError> {
        let to = Address::from_bech32(receiver.as_ref())
            .map_err(|e| HostError::invalid_state(format!("receiver: {}", e.log)))?;
        // Module accounts take coins only through their module's logic.
        Bank::check_receiver(&to).map_err(|e| HostError::invalid_state(e.log))?;
        Ok(to)
    }

    fn get_port(&self) -> Result<PortId, HostError> {
        Ok(PortId::transfer())
    }

    fn can_send_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn can_receive_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn escrow_coins_validate(
        &self,
        from: &Address,
        _port: &PortId,
        _channel: &ChannelId,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        self.balance_at_least(from, &coins(coin)?)
    }

    fn unescrow_coins_validate(
        &self,
        _to: &Address,
        port: &PortId,
        channel: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        self.balance_at_least(&escrow_address(port, channel), &coins(coin)?)
    }

    fn mint_coins_validate(&self, _to: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        coins(coin).map(|_| ())
    }

    fn burn_coins_validate(
        &self,
        from: &Address,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        self.balance_at_least(from, &coins(coin)?)
    }

    fn denom_hash_string(&self, denom: &PrefixedDenom) -> Option<String> {
        Some(denom_hash(&denom.to_string()))
    }
}

impl TokenTransferExecutionContext for TransferCtx<'_, '_> {
    fn escrow_coins_execute(
        &mut self,
        from: &Address,
        port: &PortId,
        channel: &ChannelId,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        self.send(from, &escrow_address(port, channel), &coins(coin)?)
    }

    fn unescrow_coins_execute(
        &mut self,
        to: &Address,
        port: &PortId,
        channel: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        self.send(&escrow_address(port, channel), to, &coins(coin)?)
    }

    fn mint_coins_execute(&mut self, to: &Address, coin: &PrefixedCoin) -> Result<(), HostError> {
        let minted = coins(coin)?;
        let full = coin.denom.to_string();
        let mut ctx = self.ctx.borrow_mut();
        ctx.put(
            STORE,
            keys::denom_trace(&denom_hash(&full)),
            full.into_bytes(),
        )
        .map_err(bank_err)?;
        self.bank
            .mint(&mut ctx, accounts::TRANSFER, &minted)
            .map_err(bank_err)?;
        self.bank
            .send_from_module(&mut ctx, accounts::TRANSFER, to, &minted)
            .map_err(bank_err)
    }

    fn burn_coins_execute(
        &mut self,
        from: &Address,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        let burnt = coins(coin)?;
        let mut ctx = self.ctx.borrow_mut();
        self.bank
            .send(&mut ctx, from, &Address::module(accounts::TRANSFER), &burnt)
            .map_err(bank_err)?;
        self.bank
            .burn(&mut ctx, accounts::TRANSFER, &burnt)
            .map_err(bank_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voucher_denoms_are_ibc_go_s() {
        // ATOM over Osmosis's channel-0, as every explorer shows it.
        assert_eq!(
            denom_hash("transfer/channel-0/uatom"),
            "27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
    }
}

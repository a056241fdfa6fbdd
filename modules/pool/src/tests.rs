//! The keeper over a real (in-memory) state: bounded, exact accrual; isolated expiries; the
//! capital requirement of a reinsurer that also writes directly; settlement that pays pro rata
//! and records what it could not pay.

use crate::keeper::{
    parse, Keeper, LossItem, Sale, EXPIRY_BUDGET, EXPIRY_RETRY_SECS, TREASURY_BUDGET,
};
use crate::state::{self, PoolState, EXPIRIES, RATE_SCALE};
use surety_framework::error::Error;
use surety_framework::state::Overlay;
use surety_framework::{accounts, Address, BlockInfo, Coins, Ctx, ExecMode, GasMeter};
use surety_proto::surety::pool::v1::{Params, Pool, ProductWeight, Reinsurance};

const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
const USDC: u128 = 1_000_000;

use surety_framework::testing::EmptyState as Empty;

fn run<T>(f: impl FnOnce(&mut Ctx) -> T) -> T {
    let mut state = Overlay::new(&Empty);
    let block = BlockInfo {
        height: 1,
        time_unix_secs: T0,
        ..Default::default()
    };
    let mut ctx = Ctx::new(&mut state, block, ExecMode::Deliver, GasMeter::infinite());
    state::set_params(
        &mut ctx,
        &Params {
            cooldown_secs: 0,
            treasury_bps: 0,
            capital_incidents: 1,
        },
    )
    .unwrap();
    f(&mut ctx)
}

fn k() -> Keeper {
    Keeper::default()
}

fn user(n: u8) -> Address {
    Address([n; 20])
}

fn fund(ctx: &mut Ctx, who: &Address, amount: u128) {
    let coins = Coins::of(amount, "uusdc");
    k().bank.mint(ctx, accounts::TREASURY, &coins).unwrap();
    k().bank
        .send_from_module(ctx, accounts::TREASURY, who, &coins)
        .unwrap();
}

fn pool(products: &[u64], treaty: Option<Reinsurance>) -> PoolState {
    PoolState::from_proto(&Pool {
        name: "p".into(),
        denom: "uusdc".into(),
        products: products
            .iter()
            .map(|&product_id| ProductWeight {
                product_id,
                weight_bps: 10_000,
            })
            .collect(),
        leverage_bps: 100_000,
        reinsurance: treaty,
        ..Default::default()
    })
    .unwrap()
}

fn quota(reinsurer: u64, bps: u32) -> Option<Reinsurance> {
    Some(Reinsurance {
        reinsurer_pool_id: reinsurer,
        quota_share_bps: bps,
        xol_retention: "0".into(),
        xol_limit: "0".into(),
        xol_premium_bps: 0,
    })
}

fn create(ctx: &mut Ctx, p: PoolState, capital: u128) -> u64 {
    let id = k().create_pool(ctx, p).unwrap();
    k().check_treaty(ctx, id).unwrap();
    if capital > 0 {
        fund(ctx, &user(99), capital);
        k().deposit(ctx, &user(99), id, capital).unwrap();
    }
    id
}

/// Sells cover as the policy module does: the premium into the pool account, then the cover.
fn sell(
    ctx: &mut Ctx,
    pool: u64,
    policy: u64,
    product: u64,
    cover: u128,
    premium: u128,
    days: i64,
) -> Result<(), Error> {
    ctx.branch(|c| {
        fund(c, &user(50), premium);
        k().bank.send_to_module(
            c,
            &user(50),
            crate::POOL_ACCOUNT,
            &Coins::of(premium, "uusdc"),
        )?;
        let end = c.block.time_unix_secs + days * DAY;
        let denom = state::load_raw(c, pool)?.denom;
        let desk = k().desk_of(c, product, vec![pool], &denom)?;
        let checked = k().check(
            c,
            desk,
            vec![Sale {
                pool,
                product,
                cover,
            }],
        )?;
        k().write(c, checked, policy, &[premium], end)
    })
}

fn at(ctx: &mut Ctx, time: i64) {
    ctx.block.time_unix_secs = time;
    ctx.block.height += 1;
}

fn invariants(ctx: &mut Ctx) {
    crate::invariants(&k(), ctx).unwrap().unwrap();
}

fn unearned(ctx: &mut Ctx, id: u64) -> u128 {
    k().load(ctx, id).unwrap().unearned
}

#[test]
fn premium_is_earned_in_aggregate_linearly_and_exactly_by_expiry() {
    run(|ctx| {
        let id = create(ctx, pool(&[1, 2], None), 1_000_000 * USDC);
        let premiums = [
            (1u64, 1_000_000u128, 100i64),
            (2, 777_777, 30),
            (3, 5, 45),
            (4, 123_456_789, 365),
        ];
        for (policy, premium, days) in premiums {
            sell(ctx, id, policy, 1 + policy % 2, 1_000 * USDC, premium, days).unwrap();
        }
        let total: u128 = premiums.iter().map(|p| p.1).sum();
        assert_eq!(unearned(ctx, id), total);
        // At every step the pool has earned no more than linear earning would, and at most a
        // unit (plus rate rounding far below one unit per tranche) less.
        for step in [
            1,
            3_600,
            DAY,
            10 * DAY,
            29 * DAY,
            50 * DAY,
            99 * DAY,
            200 * DAY,
            364 * DAY,
        ] {
            at(ctx, T0 + step);
            k().retire_expired(ctx).unwrap();
            let left = unearned(ctx, id);
            let mut exact_left = 0f64;
            for (_, premium, days) in premiums {
                let elapsed = (step as f64).min((days * DAY) as f64);
                exact_left += premium as f64 * (1.0 - elapsed / (days * DAY) as f64);
            }
            assert!(
                left as f64 >= exact_left - 1e-6,
                "step {step}: {left} < {exact_left}"
            );
            assert!(
                left as f64 <= exact_left + 2.0,
                "step {step}: {left} vs {exact_left}"
            );
            invariants(ctx);
        }
        at(ctx, T0 + 365 * DAY);
        assert_eq!(k().retire_expired(ctx).unwrap(), 1);
        let p = k().load(ctx, id).unwrap();
        assert_eq!(
            (p.unearned, p.active_cover),
            (0, 0),
            "every premium earned to the unit"
        );
        assert_eq!(k().accrual(ctx, id).unwrap(), state::Accrual::default());
        assert_eq!(p.capital(), 1_000_000 * USDC + total);
        invariants(ctx);
    });
}

#[test]
fn a_single_tranche_earns_exactly_its_premium_and_no_more() {
    run(|ctx| {
        let id = create(ctx, pool(&[1], None), 100 * USDC);
        sell(ctx, id, 1, 1, 10 * USDC, 1_000_000, 100).unwrap();
        at(ctx, T0 + 50 * DAY);
        // Half the term: 500 000 exactly, less the rounding of the scaled rate.
        let earned = 1_000_000 - unearned(ctx, id);
        assert!((499_999..=500_000).contains(&earned), "{earned}");
        // Past the end without the EndBlock having run: accrual stops at the end.
        at(ctx, T0 + 500 * DAY);
        assert_eq!(unearned(ctx, id), 1);
        assert_eq!(k().load(ctx, id).unwrap().accrued_to, T0 + 100 * DAY);
        // A sale retires the pool's expired cover first (before EndBlock does), then goes on.
        sell(ctx, id, 2, 1, USDC, 10, 30).unwrap();
        let p = k().load(ctx, id).unwrap();
        assert_eq!(
            (p.unearned, p.active_cover, p.accrued_to),
            (10, USDC, T0 + 500 * DAY)
        );
        assert_eq!(
            k().retire_expired(ctx).unwrap(),
            0,
            "nothing left for EndBlock"
        );
        invariants(ctx);
    });
}

#[test]
fn expiries_are_retired_a_budget_per_block_oldest_first() {
    run(|ctx| {
        let id = create(ctx, pool(&[1], None), 10_000 * USDC);
        let n = EXPIRY_BUDGET as u64 + 7;
        for policy in 1..=n {
            sell(ctx, id, policy, 1, USDC, 1_000 + u128::from(policy), 30).unwrap();
        }
        at(ctx, T0 + 30 * DAY);
        assert_eq!(k().retire_expired(ctx).unwrap(), EXPIRY_BUDGET);
        let p = k().load(ctx, id).unwrap();
        assert_eq!(p.active_cover, 7 * USDC, "the rest wait for the next block");
        invariants(ctx);
        at(ctx, T0 + 30 * DAY + 5);
        assert_eq!(k().retire_expired(ctx).unwrap(), 7);
        let p = k().load(ctx, id).unwrap();
        assert_eq!((p.unearned, p.active_cover), (0, 0));
        assert_eq!(k().retire_expired(ctx).unwrap(), 0);
        invariants(ctx);
    });
}

/// Entries in the expiry queue, whatever their time.
fn queue_entries(ctx: &mut Ctx) -> usize {
    ctx.prefix(crate::STORE, &[0x07]).unwrap().len()
}

#[test]
fn a_pool_is_queued_once_not_per_tranche() {
    run(|ctx| {
        let r = create(ctx, pool(&[], None), 1_000 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 5_000)), 1_000 * USDC);
        // Later ends than what the pools hold: no queue entry beyond the pools' first two.
        for (policy, days) in [(1, 30), (2, 60), (3, 90)] {
            sell(ctx, a, policy, 1, USDC, 1_000, days).unwrap();
        }
        assert_eq!(
            queue_entries(ctx),
            2,
            "one entry per pool, the ceding and the reinsurer"
        );
        invariants(ctx);
        // Cover ending before everything the pools hold queues them earlier.
        sell(ctx, a, 4, 1, USDC, 1_000, 10).unwrap();
        assert_eq!(queue_entries(ctx), 4);
        at(ctx, T0 + 10 * DAY);
        assert_eq!(
            k().retire_expired(ctx).unwrap(),
            2,
            "policy 4 in both pools"
        );
        invariants(ctx);
        // The entries at day 30 are still there: re-arming at day 30 wrote nothing new.
        assert_eq!(queue_entries(ctx), 2);
        for (day, retired) in [(30, 2), (60, 2), (90, 2)] {
            at(ctx, T0 + day * DAY);
            assert_eq!(k().retire_expired(ctx).unwrap(), retired, "day {day}");
            invariants(ctx);
        }
        assert_eq!(
            queue_entries(ctx),
            0,
            "pools with nothing left are not queued"
        );
    });
}

#[test]
fn a_poisoned_expiry_fails_alone_and_is_retried_later() {
    run(|ctx| {
        let a = create(ctx, pool(&[1], None), 1_000 * USDC);
        let b = create(ctx, pool(&[1], None), 1_000 * USDC);
        for policy in 1..=3 {
            sell(ctx, a, policy, 1, USDC, 1_000, 30).unwrap();
        }
        sell(ctx, b, 4, 1, USDC, 1_000, 30).unwrap();
        // Policy 2's tranche becomes unreadable.
        ctx.put(
            crate::STORE,
            state::tranche_key(a, T0 + 30 * DAY, 2),
            vec![0xff; 7],
        )
        .unwrap();
        at(ctx, T0 + 30 * DAY);
        ctx.take_events();
        assert_eq!(k().retire_expired(ctx).unwrap(), 3);
        let failed: Vec<_> = ctx
            .take_events()
            .into_iter()
            .filter(|e| e.kind == "item_failed")
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(k().load(ctx, b).unwrap().active_cover, 0);
        assert_eq!(
            k().load(ctx, a).unwrap().active_cover,
            USDC,
            "only the poisoned one is left"
        );
        // It is queued again for later, not retried every block.
        assert!(!EXPIRIES.any_due(ctx, T0 + 30 * DAY).unwrap());
        assert!(EXPIRIES
            .any_due(ctx, T0 + 30 * DAY + EXPIRY_RETRY_SECS)
            .unwrap());
    });
}

#[test]
fn a_paid_claim_releases_its_tranches_at_once() {
    run(|ctx| {
        let r = create(ctx, pool(&[], None), 1_000 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 5_000)), 1_000 * USDC);
        sell(ctx, a, 1, 1, 100 * USDC, 10_000, 90).unwrap();
        sell(ctx, a, 2, 1, 100 * USDC, 20_000, 90).unwrap();
        at(ctx, T0 + DAY);
        k().release(ctx, &[a], 1, T0 + 90 * DAY).unwrap();
        let (pa, pr) = (k().load(ctx, a).unwrap(), k().load(ctx, r).unwrap());
        assert_eq!(pa.active_cover, 100 * USDC);
        assert!(pa.unearned < 10_000 && pr.unearned < 10_000);
        invariants(ctx);
        at(ctx, T0 + 90 * DAY);
        assert_eq!(
            k().retire_expired(ctx).unwrap(),
            2,
            "policy 2 in both pools"
        );
        assert_eq!(k().load(ctx, a).unwrap().unearned, 0);
        assert_eq!(k().load(ctx, r).unwrap().unearned, 0);
        invariants(ctx);
    });
}

#[test]
fn a_reinsurer_writing_direct_cover_counts_both_against_its_capital() {
    run(|ctx| {
        let r = create(ctx, pool(&[1], None), 100 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 5_000)), 1_000 * USDC);
        let sale = |pool, cover| Sale {
            pool,
            product: 1,
            cover,
        };
        // Each part alone fits the reinsurer's 100: 50 ceded, or 60 direct …
        k().check_sales(ctx, &[sale(a, 100 * USDC)]).unwrap();
        k().check_sales(ctx, &[sale(r, 60 * USDC)]).unwrap();
        // … but one purchase split across both would need 110 of it.
        let err = k()
            .check_sales(ctx, &[sale(a, 100 * USDC), sale(r, 60 * USDC)])
            .unwrap_err();
        assert_eq!((err.codespace, err.code), ("pool", 6), "{}", err.log);
        // Written one after the other, the second sees the first.
        sell(ctx, a, 1, 1, 100 * USDC, 0, 30).unwrap();
        let err = sell(ctx, r, 2, 1, 60 * USDC, 0, 30).unwrap_err();
        assert_eq!((err.codespace, err.code), ("pool", 6), "{}", err.log);
        sell(ctx, r, 2, 1, 50 * USDC, 0, 30).unwrap();
        let pr = k().load(ctx, r).unwrap();
        assert_eq!(k().capital_requirement(ctx, &pr).unwrap(), 100 * USDC);
        // The reinsurer's own policy and one it reinsures, side by side.
        sell(ctx, a, 3, 1, 0, 1_000, 30).unwrap();
        sell(ctx, r, 4, 1, 0, 1_000, 30).unwrap();
        invariants(ctx);

        // The incident takes all of the reinsurer: 50 of its own and 50 ceded, and never more.
        let items = [
            LossItem {
                pool_id: r,
                amount: 50 * USDC,
                recipient: user(1),
            },
            LossItem {
                pool_id: a,
                amount: 100 * USDC,
                recipient: user(2),
            },
        ];
        let capital = pr.capital();
        let paid = k().settle(ctx, "i1", &items).unwrap();
        assert_eq!(paid, vec![50 * USDC, 100 * USDC]);
        assert_eq!(capital - k().load(ctx, r).unwrap().capital(), 100 * USDC);
        assert_eq!(k().shortfall(ctx, "i1").unwrap(), 0);
        invariants(ctx);
    });
}

#[test]
fn a_desk_writes_only_sales_it_checked_and_each_pool_once() {
    run(|ctx| {
        let r = create(ctx, pool(&[1], None), 100 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 5_000)), 1_000 * USDC);
        let other = create(ctx, pool(&[2], None), 100 * USDC);
        let sale = |pool, product, cover| Sale {
            pool,
            product,
            cover,
        };
        let d = k().open_desk(ctx, 1, "uusdc").unwrap();
        assert_eq!(d.writers().map(|p| p.id).collect::<Vec<_>>(), [r, a]);
        assert!(k()
            .open_desk(ctx, 1, "uatom")
            .unwrap()
            .writers()
            .next()
            .is_none());
        // Sales the desk does not hold, twice from one pool, or past a pool's room: refused.
        for (sales, code) in [
            (vec![sale(other, 2, USDC)], ("sdk", 1)),
            (vec![sale(other, 1, USDC)], ("sdk", 1)),
            (vec![sale(a, 1, USDC), sale(a, 1, USDC)], ("sdk", 1)),
            (vec![sale(r, 1, 1_000 * USDC + 1)], ("pool", 7)),
            (
                vec![sale(a, 1, 100 * USDC), sale(r, 1, 60 * USDC)],
                ("pool", 6),
            ),
        ] {
            let d = k().open_desk(ctx, 1, "uusdc").unwrap();
            let err = k().check(ctx, d, sales.clone()).unwrap_err();
            assert_eq!((err.codespace, err.code), code, "{sales:?}: {}", err.log);
        }
        // Premiums must match the sales one for one.
        let checked = k().check(ctx, d, vec![sale(a, 1, 10 * USDC)]).unwrap();
        let end = ctx_end(ctx);
        assert!(ctx.branch(|c| k().write(c, checked, 1, &[], end)).is_err());
        // One purchase split across a pool and its reinsurer: the reinsurer's own part and the
        // part ceded to it merge in one tranche of the policy.
        fund(ctx, &user(50), 2_000);
        k().bank
            .send_to_module(
                ctx,
                &user(50),
                crate::POOL_ACCOUNT,
                &Coins::of(2_000, "uusdc"),
            )
            .unwrap();
        let d = k().open_desk(ctx, 1, "uusdc").unwrap();
        let checked = k()
            .check(ctx, d, vec![sale(r, 1, 20 * USDC), sale(a, 1, 40 * USDC)])
            .unwrap();
        k().write(ctx, checked, 7, &[1_000, 1_000], end).unwrap();
        let pa = k().load(ctx, a).unwrap();
        let pr = k().load(ctx, r).unwrap();
        assert_eq!((pa.active_cover, pr.active_cover), (40 * USDC, 20 * USDC));
        let t = state::tranches(ctx, r).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].cover, 20 * USDC);
        // The reinsurer's premium: its own 1 000 and half of `a`'s.
        assert_eq!(t[0].premium, 1_000 + 500);
        invariants(ctx);
    });
}

#[test]
fn the_treasury_is_paid_at_the_end_of_the_block_a_budget_of_pools_at_a_time() {
    run(|ctx| {
        let mut params = state::params(ctx).unwrap();
        params.treasury_bps = 1_000;
        state::set_params(ctx, &params).unwrap();
        let fees = Address::module(surety_auth::FEE_COLLECTOR);
        let a = create(ctx, pool(&[1], None), 1_000 * USDC);
        // A sale owes the treasury its tenth and moves no coins to it.
        sell(ctx, a, 1, 1, 10 * USDC, 5_000, 30).unwrap();
        sell(ctx, a, 2, 1, 10 * USDC, 3_000, 30).unwrap();
        assert_eq!(k().load(ctx, a).unwrap().treasury_due, 800);
        assert_eq!(k().bank.balance(ctx, &fees, "uusdc").unwrap(), 0);
        invariants(ctx);
        assert_eq!(k().pay_treasury(ctx).unwrap(), 1);
        assert_eq!(k().load(ctx, a).unwrap().treasury_due, 0);
        assert_eq!(k().bank.balance(ctx, &fees, "uusdc").unwrap(), 800);
        invariants(ctx);
        assert_eq!(k().pay_treasury(ctx).unwrap(), 0, "nothing owed twice");

        // More pools owe than one block pays for: the rest are paid in the next block.
        let mut ids = vec![a];
        for _ in 1..TREASURY_BUDGET + 2 {
            ids.push(create(ctx, pool(&[1], None), 0));
        }
        for &id in &ids {
            owe(ctx, id, 10);
        }
        invariants(ctx);
        assert_eq!(k().pay_treasury(ctx).unwrap(), TREASURY_BUDGET);
        assert_eq!(state::treasury_cursor(ctx).unwrap(), ids[TREASURY_BUDGET]);
        assert_eq!(k().pay_treasury(ctx).unwrap(), 2);
        assert_eq!(
            state::treasury_cursor(ctx).unwrap(),
            1,
            "back to the first pool"
        );
        assert_eq!(
            k().bank.balance(ctx, &fees, "uusdc").unwrap(),
            800 + 10 * ids.len() as u128
        );
        invariants(ctx);

        // A pool that owes more than the account holds (corrupt state) fails alone and keeps
        // what it owes; the others are paid.
        owe(ctx, ids[1], 10);
        let mut bad = k().load(ctx, ids[2]).unwrap();
        bad.treasury_due = u128::MAX;
        state::save(ctx, &bad).unwrap();
        assert_eq!(k().pay_treasury(ctx).unwrap(), 1);
        assert_eq!(k().load(ctx, ids[2]).unwrap().treasury_due, u128::MAX);
        assert_eq!(k().load(ctx, ids[1]).unwrap().treasury_due, 0);
    });
}

/// Pool `id` owes the treasury `amount` more, held in the pool account as a sale leaves it.
fn owe(ctx: &mut Ctx, id: u64, amount: u128) {
    fund(ctx, &user(51), amount);
    k().bank
        .send_to_module(
            ctx,
            &user(51),
            crate::POOL_ACCOUNT,
            &Coins::of(amount, "uusdc"),
        )
        .unwrap();
    let mut p = k().load(ctx, id).unwrap();
    p.treasury_due += amount;
    state::save(ctx, &p).unwrap();
}

fn ctx_end(ctx: &Ctx) -> i64 {
    ctx.block.time_unix_secs + 30 * DAY
}

#[test]
fn correlated_incidents_in_one_block_are_paid_pro_rata_and_the_shortfall_recorded() {
    run(|ctx| {
        // The reinsurer writes products 1 and 2 directly and takes all of pool A's product 1:
        // its requirement (one incident) is product 1's 100.
        let r = create(ctx, pool(&[1, 2], None), 100 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 10_000)), 100 * USDC);
        sell(ctx, r, 1, 1, 50 * USDC, 0, 30).unwrap();
        sell(ctx, a, 2, 1, 50 * USDC, 0, 30).unwrap();
        sell(ctx, r, 3, 2, 60 * USDC, 0, 30).unwrap();
        let item = |pool_id, amount, n| LossItem {
            pool_id,
            amount,
            recipient: user(n),
        };
        at(ctx, T0 + DAY);
        // Both products are hit in the same block.
        let paid = k().settle(ctx, "on-2", &[item(r, 60 * USDC, 1)]).unwrap();
        assert_eq!(paid, vec![60 * USDC]);
        ctx.take_events();
        let paid = k()
            .settle(ctx, "on-1", &[item(r, 50 * USDC, 2), item(a, 50 * USDC, 3)])
            .unwrap();
        // 40 left for 100 owed (50 own, 50 ceded): each loss gets 40%.
        assert_eq!(paid, vec![20 * USDC, 20 * USDC]);
        assert_eq!(k().bank.balance(ctx, &user(3), "uusdc").unwrap(), 20 * USDC);
        assert_eq!(k().load(ctx, r).unwrap().capital(), 0);
        assert_eq!(
            k().load(ctx, a).unwrap().capital(),
            100 * USDC,
            "A ceded it all"
        );
        assert_eq!(k().shortfall(ctx, "on-1").unwrap(), 60 * USDC);
        assert_eq!(k().shortfall(ctx, "on-2").unwrap(), 0);
        let events = ctx.take_events();
        let short: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "pool_shortfall")
            .collect();
        assert_eq!(short.len(), 2, "one per direct pool short");
        assert!(!k().load(ctx, r).unwrap().selling);
        // A third loss on an empty reinsurer pays nothing and still does not fail.
        let paid = k().settle(ctx, "on-1", &[item(a, 10 * USDC, 3)]).unwrap();
        assert_eq!(paid, vec![0]);
        assert_eq!(k().shortfall(ctx, "on-1").unwrap(), 70 * USDC);
        invariants(ctx);
    });
}

#[test]
fn a_pool_below_its_requirement_stops_selling_until_a_deposit_restores_it() {
    run(|ctx| {
        let id = create(ctx, pool(&[1, 2], None), 100 * USDC);
        sell(ctx, id, 1, 1, 100 * USDC, 0, 30).unwrap();
        sell(ctx, id, 2, 2, 100 * USDC, 0, 30).unwrap();
        assert!(k().load(ctx, id).unwrap().selling);
        ctx.take_events();
        let loss = LossItem {
            pool_id: id,
            amount: 60 * USDC,
            recipient: user(1),
        };
        k().settle(ctx, "hack", &[loss]).unwrap();
        assert!(ctx
            .take_events()
            .iter()
            .any(|e| e.kind == "pool_sales_stopped"));
        let p = k().load(ctx, id).unwrap();
        assert!(!p.selling);
        assert_eq!(k().room(ctx, &p, 2).unwrap(), 0);
        let err = sell(ctx, id, 3, 2, USDC, 0, 30).unwrap_err();
        assert_eq!((err.codespace, err.code), ("pool", 8), "{}", err.log);
        // Product 1's cover is spent (its claim was paid), product 2's 100 still stands.
        k().release(ctx, &[id], 1, T0 + 30 * DAY).unwrap();
        fund(ctx, &user(7), 150 * USDC);
        at(ctx, T0 + 10);
        k().deposit(ctx, &user(7), id, 59 * USDC).unwrap();
        assert!(!k().load(ctx, id).unwrap().selling, "99 < 100");
        k().deposit(ctx, &user(7), id, USDC).unwrap();
        assert!(ctx
            .take_events()
            .iter()
            .any(|e| e.kind == "pool_sales_resumed"));
        assert!(k().load(ctx, id).unwrap().selling);
        sell(ctx, id, 3, 1, 50 * USDC, 0, 30).unwrap();
        invariants(ctx);
    });
}

#[test]
fn accrual_arithmetic_never_panics_on_extremes() {
    assert_eq!(state::tranche_rate(u128::MAX, 0, 0).unwrap(), 0);
    assert_eq!(state::tranche_rate(1, 10, 5).unwrap(), 0);
    assert!(state::tranche_rate(u128::MAX, 0, 1).is_err());
    assert_eq!(state::tranche_rate(1, 0, 1).unwrap(), RATE_SCALE);
    assert!(parse("340282366920938463463374607431768211456").is_err());
    run(|ctx| {
        let id = create(ctx, pool(&[1], None), 10 * USDC);
        // A premium too large for the rate arithmetic is refused, and changes nothing.
        let before = k().load(ctx, id).unwrap();
        assert!(sell(ctx, id, 1, 1, USDC, u128::MAX / 2, 1).is_err());
        assert_eq!(k().load(ctx, id).unwrap(), before);
        invariants(ctx);
    });
}

#[test]
fn pools_list_a_page_at_a_time_with_their_figures() {
    use crate::query::{handle, POOLS};
    use prost::Message;
    use surety_framework::testing::pages;
    use surety_proto::surety::pool::v1::{QueryPoolsRequest, QueryPoolsResponse};
    run(|ctx| {
        for n in 1..=250u128 {
            create(ctx, pool(&[1], None), n * USDC);
        }
        let mut ask = |req: QueryPoolsRequest| {
            let bytes = handle(&k(), ctx, POOLS, &req.encode_to_vec()).unwrap();
            QueryPoolsResponse::decode(bytes.as_slice()).unwrap()
        };
        let all = pages(100, |page| {
            let r = ask(QueryPoolsRequest {
                pagination: Some(page),
            });
            for view in &r.pools {
                let id = view.pool.as_ref().unwrap().id;
                assert_eq!(view.capital, (u128::from(id) * USDC).to_string());
                assert_eq!(view.share_price, "1.000000000000000000");
            }
            let ids = r.pools.iter().map(|v| v.pool.as_ref().unwrap().id);
            (ids.collect::<Vec<_>>(), r.pagination)
        });
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(all.concat(), (1..=250).collect::<Vec<_>>());
        let r = ask(QueryPoolsRequest {
            pagination: Some(surety_framework::PageRequest {
                offset: 249,
                limit: 5,
                count_total: true,
                ..Default::default()
            }),
        });
        assert_eq!(r.pools.len(), 1);
        assert_eq!(r.pagination.unwrap().total, 250);
    });
}

#[test]
fn the_invariants_notice_an_unqueued_tranche_and_a_stray_index_entry() {
    run(|ctx| {
        let r = create(ctx, pool(&[], None), 1_000 * USDC);
        let a = create(ctx, pool(&[1], quota(r, 5_000)), 1_000 * USDC);
        sell(ctx, a, 1, 1, 100 * USDC, 10_000, 30).unwrap();
        invariants(ctx);
        let end = T0 + 30 * DAY;
        ctx.branch(|c| {
            EXPIRIES.remove(c, end, &state::expiry_item(a))?;
            let broken = crate::invariants(&k(), c)?.unwrap_err();
            assert!(broken.contains("not queued"), "{broken}");
            Err::<(), Error>(surety_framework::sdk::internal("roll back"))
        })
        .unwrap_err();
        invariants(ctx);
        // An index naming a product the pool does not underwrite.
        let mut stray = vec![0x0E];
        stray.extend_from_slice(&7u64.to_be_bytes());
        stray.extend_from_slice(&a.to_be_bytes());
        ctx.put(crate::STORE, stray, Vec::new()).unwrap();
        let broken = crate::invariants(&k(), ctx).unwrap().unwrap_err();
        assert!(broken.contains("indexes"), "{broken}");
    });
}

#[test]
fn pools_and_tranches_read_back_as_written_from_compact_records() {
    use crate::reinsurance::Treaty;
    use prost::Message;
    use surety_framework::sdk;
    run(|ctx| {
        let r = create(ctx, pool(&[1], None), 100 * USDC);
        let a = create(ctx, pool(&[1, 2], quota(r, 5_000)), 1_000 * USDC);
        sell(ctx, a, 1, 1, 10 * USDC, 1_000, 30).unwrap();
        let mut extreme = k().load(ctx, a).unwrap();
        extreme.id = 99;
        extreme.accrual.carry = 7;
        extreme.treasury_due = u128::MAX;
        extreme.treaty = extreme.treaty.map(|t| Treaty {
            xol_retention: 1,
            xol_limit: u128::MAX,
            ..t
        });
        for p in [
            k().load(ctx, a).unwrap(),
            k().load(ctx, r).unwrap(),
            extreme,
        ] {
            ctx.branch(|c| {
                state::save(c, &p)?;
                assert_eq!(state::load_raw(c, p.id)?, p);
                let raw = c.get(crate::STORE, &state::pool_key(p.id))?.unwrap();
                if p.id != 99 {
                    let wire = p.to_proto().encoded_len();
                    assert!(raw.len() * 4 < wire * 3, "{} of {wire}", raw.len());
                }
                Err::<(), _>(sdk::internal("discard"))
            })
            .unwrap_err();
        }
        // A tranche's pool, end and policy are its key's; the rest is its record.
        let t = state::tranches(ctx, a).unwrap();
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!((t.pool, t.policy, t.product), (a, 1, 1));
        assert_eq!(
            (t.cover, t.premium, t.end - t.start),
            (10 * USDC, 500, 30 * DAY)
        );
        assert_eq!(state::tranche(ctx, a, t.end, 1).unwrap().as_ref(), Some(t));
        let raw = ctx
            .get(crate::STORE, &state::tranche_key(a, t.end, 1))
            .unwrap()
            .unwrap();
        let wire = t.to_proto(0).encoded_len();
        assert!(raw.len() * 2 < wire, "{} of {wire}", raw.len());
        // Bytes that are not a record are an internal error that names the pool.
        ctx.put(crate::STORE, state::pool_key(a), vec![0x3a, 1, 0])
            .unwrap();
        let err = state::load_raw(ctx, a).unwrap_err();
        assert_eq!((err.codespace, err.code), ("sdk", 1), "{}", err.log);
        assert!(err.log.contains(&format!("pool {a}")), "{}", err.log);
    });
}

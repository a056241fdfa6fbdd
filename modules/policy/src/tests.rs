//! The policy keeper over a real (in-memory) state with real pools.

use crate::keeper::Keeper;
use surety_framework::state::Overlay;
use surety_framework::{accounts, Address, BlockInfo, Coins, Ctx, ExecMode, GasMeter};
use surety_pool::PoolState;
use surety_proto::surety::policy::v1::{ClaimMode, CoverType, Product};
use surety_proto::surety::pool::v1::{Params, Pool, ProductWeight, Reinsurance};

const T0: i64 = 1_700_000_000;
const USDC: u128 = 1_000_000;

use surety_framework::testing::EmptyState as Empty;

fn k() -> Keeper {
    Keeper::default()
}

fn user(n: u8) -> Address {
    Address([n; 20])
}

fn fund(ctx: &mut Ctx, who: &Address, amount: u128) {
    let coins = Coins::of(amount, "uusdc");
    let bank = k().pool.bank;
    bank.mint(ctx, accounts::TREASURY, &coins).unwrap();
    bank.send_from_module(ctx, accounts::TREASURY, who, &coins)
        .unwrap();
}

fn product() -> Product {
    Product {
        name: "Aave".into(),
        protocol: "aave-v3".into(),
        cover_type: CoverType::Protocol as i32,
        denom: "uusdc".into(),
        annual_base_rate_bps: 200,
        min_term_days: 1,
        max_term_days: 365,
        max_cover: (10_000_000 * USDC).to_string(),
        claim_mode: ClaimMode::Parametric as i32,
        ..Default::default()
    }
}

/// A reinsurer (pool 1) that also writes product 1 directly, and pool 2 that writes product 1
/// and cedes half of it to pool 1. Each has `capital`; one incident must be payable.
fn market(ctx: &mut Ctx, capital: u128) {
    surety_pool::state::set_params(
        ctx,
        &Params {
            cooldown_secs: 0,
            treasury_bps: 1_000,
            capital_incidents: 1,
        },
    )
    .unwrap();
    let pool = |reinsurance| Pool {
        name: "p".into(),
        denom: "uusdc".into(),
        products: vec![ProductWeight {
            product_id: 1,
            weight_bps: 10_000,
        }],
        leverage_bps: 100_000,
        reinsurance,
        ..Default::default()
    };
    let p = k().pool;
    for treaty in [
        None,
        Some(Reinsurance {
            reinsurer_pool_id: 1,
            quota_share_bps: 5_000,
            xol_retention: "0".into(),
            xol_limit: "0".into(),
            xol_premium_bps: 0,
        }),
    ] {
        let id = p
            .create_pool(ctx, PoolState::from_proto(&pool(treaty)).unwrap())
            .unwrap();
        p.check_treaty(ctx, id).unwrap();
        fund(ctx, &user(9), capital);
        p.deposit(ctx, &user(9), id, capital).unwrap();
    }
    assert_eq!(k().create_product(ctx, product()).unwrap(), 1);
}

fn run<T>(f: impl FnOnce(&mut Ctx) -> T) -> T {
    let mut state = Overlay::new(&Empty);
    let block = BlockInfo {
        height: 1,
        time_unix_secs: T0,
        ..Default::default()
    };
    let mut ctx = Ctx::new(&mut state, block, ExecMode::Deliver, GasMeter::infinite());
    f(&mut ctx)
}

#[test]
fn a_purchase_split_between_a_pool_and_its_reinsurer_is_checked_as_one() {
    run(|ctx| {
        market(ctx, 100 * USDC);
        // Equal room, so a purchase splits evenly. 120 → 60 each: pool 1 would hold 60 of its
        // own and 30 ceded = 90 ≤ 100.
        let q = k().quote(ctx, 1, 120 * USDC, 30).unwrap();
        assert_eq!(
            q.allocations.iter().map(|a| a.1).collect::<Vec<_>>(),
            vec![60 * USDC, 60 * USDC]
        );
        // 140 → 70 each: 70 + 35 = 105 > 100, though each part alone (70, or 35) would fit.
        let err = k().quote(ctx, 1, 140 * USDC, 30).unwrap_err();
        assert_eq!((err.codespace, err.code), ("pool", 6), "{}", err.log);

        // The quote is exactly what the purchase charges.
        fund(ctx, &user(1), 1_000 * USDC);
        let (id, premium) = ctx
            .branch(|c| k().buy(c, &user(1), order(120 * USDC, q.premium)))
            .unwrap();
        assert_eq!(premium, q.premium);
        let policy = k().policy(ctx, id).unwrap();
        assert_eq!(policy.end - policy.start, 30 * 86_400);
        assert_eq!(
            k().pool.bank.balance(ctx, &user(1), "uusdc").unwrap(),
            1_000 * USDC - premium
        );
        // One unit of slippage short: refused, nothing charged.
        let before = k().pool.bank.balance(ctx, &user(1), "uusdc").unwrap();
        let q = k().quote(ctx, 1, USDC, 30).unwrap();
        let err = ctx
            .branch(|c| k().buy(c, &user(1), order(USDC, q.premium - 1)))
            .unwrap_err();
        assert_eq!((err.codespace, err.code), ("policy", 7));
        assert_eq!(
            k().pool.bank.balance(ctx, &user(1), "uusdc").unwrap(),
            before
        );
    });
}

#[test]
fn purchases_at_the_edge_of_time_and_amounts_fail_cleanly() {
    run(|ctx| {
        market(ctx, 100 * USDC);
        fund(ctx, &user(1), 1_000 * USDC);
        for (cover, days) in [(0, 30), (10_000_000 * USDC + 1, 30), (USDC, 0), (USDC, 366)] {
            assert!(
                k().quote(ctx, 1, cover, days).is_err(),
                "{cover} for {days} days"
            );
        }
        assert!(k().quote(ctx, 2, USDC, 30).is_err(), "no such product");
        ctx.block.time_unix_secs = i64::MAX - 1_000;
        let err = ctx
            .branch(|c| k().buy(c, &user(1), order(USDC, 1_000 * USDC)))
            .unwrap_err();
        assert_eq!(err.codespace, "sdk", "{}", err.log);
    });
}

#[test]
fn a_policy_goes_only_to_another_plain_account_of_its_owners_choosing() {
    run(|ctx| {
        let id = one_policy_sold(ctx);
        let err = k().transfer(ctx, &user(2), id, &user(3)).unwrap_err();
        assert_eq!((err.codespace, err.code), ("policy", 9));
        assert!(k().transfer(ctx, &user(1), id, &user(1)).is_err());
        assert!(k().transfer(ctx, &user(1), id + 1, &user(2)).is_err());
        k().transfer(ctx, &user(1), id, &user(2)).unwrap();
        assert_eq!(k().policy(ctx, id).unwrap().owner, user(2).to_string());
    });
}

#[test]
fn updating_a_products_terms_never_lifts_its_pause() {
    run(|ctx| {
        let id = k().create_product(ctx, product()).unwrap();
        k().set_paused(ctx, id, true).unwrap();
        // A repricing written before the pause carries `paused: false`.
        let repriced = Product {
            id,
            annual_base_rate_bps: 150,
            ..product()
        };
        k().update_product(ctx, repriced).unwrap();
        let now = crate::state::product(ctx, id).unwrap();
        assert_eq!(now.annual_base_rate_bps, 150);
        assert!(now.paused, "only MsgSetProductPaused resumes sales");
    });
}

#[test]
fn a_policy_names_its_terms_which_are_stored_once_per_version() {
    run(|ctx| {
        market(ctx, 100 * USDC);
        fund(ctx, &user(1), 1_000 * USDC);
        let (first, _) = k().buy(ctx, &user(1), order(USDC, 1_000 * USDC)).unwrap();
        let (second, _) = k().buy(ctx, &user(1), order(USDC, 1_000 * USDC)).unwrap();
        let sold_on = crate::state::product(ctx, 1).unwrap();
        // The stored certificate holds the hash, not a copy of the terms; read back without
        // them, it is the policy clients see, from a record under 3/4 the size of theirs.
        let raw = ctx
            .get(crate::state::STORE, &crate::state::policy_key(first))
            .unwrap()
            .unwrap();
        let stored = crate::state::decode_policy(first, &raw).unwrap();
        assert_eq!(stored.terms, None);
        assert_eq!(stored.terms_hash, crate::state::terms_hash(&sold_on));
        let wire = surety_proto::surety::policy::v1::Policy {
            terms: None,
            ..k().policy(ctx, first).unwrap()
        };
        assert_eq!(stored, wire);
        let wire_len = prost::Message::encoded_len(&wire);
        assert!(raw.len() * 4 < wire_len * 3, "{} of {wire_len}", raw.len());
        // Read back, both carry the terms they were sold on.
        for id in [first, second] {
            assert_eq!(k().policy(ctx, id).unwrap().terms.as_ref(), Some(&sold_on));
        }
        // A repricing is a new version; policies already sold keep theirs.
        let repriced = Product {
            id: 1,
            annual_base_rate_bps: 900,
            ..product()
        };
        k().update_product(ctx, repriced).unwrap();
        let (third, _) = k().buy(ctx, &user(1), order(USDC, 1_000 * USDC)).unwrap();
        assert_eq!(
            k().policy(ctx, first).unwrap().terms.as_ref(),
            Some(&sold_on)
        );
        let third = k().policy(ctx, third).unwrap();
        assert_eq!(third.terms.unwrap().annual_base_rate_bps, 900);
        assert_ne!(third.terms_hash, stored.terms_hash);
        // Every policy read by any path has its terms.
        let all = crate::state::all_policies(ctx).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|p| p.terms.is_some()));
    });
}

fn ask<Resp: prost::Message + Default>(
    ctx: &mut Ctx,
    path: &str,
    req: impl prost::Message,
) -> Resp {
    let bytes = crate::query::handle(&k(), ctx, path, &req.encode_to_vec()).unwrap();
    Resp::decode(bytes.as_slice()).unwrap()
}

#[test]
fn products_and_policies_list_a_page_at_a_time() {
    use crate::query::{POLICIES, PRODUCTS};
    use surety_framework::testing::pages;
    use surety_proto::surety::policy::v1::*;
    run(|ctx| {
        market(ctx, 1_000 * USDC);
        for _ in 2..=250 {
            k().create_product(ctx, product()).unwrap();
        }
        let products = pages(100, |page| {
            let r: QueryProductsResponse = ask(
                ctx,
                PRODUCTS,
                QueryProductsRequest {
                    pagination: Some(page),
                },
            );
            (r.products.iter().map(|p| p.id).collect(), r.pagination)
        });
        assert_eq!(
            products.iter().map(Vec::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert_eq!(products.concat(), (1..=250).collect::<Vec<u64>>());

        // 250 policies, every third user 1's, the rest user 2's; then user 1 gives one away.
        fund(ctx, &user(1), 1_000 * USDC);
        fund(ctx, &user(2), 1_000 * USDC);
        for id in 1..=250u64 {
            let buyer = if id % 3 == 0 { user(1) } else { user(2) };
            let (bought, _) = k().buy(ctx, &buyer, order(USDC, 1_000 * USDC)).unwrap();
            assert_eq!(bought, id);
        }
        k().transfer(ctx, &user(1), 3, &user(2)).unwrap();
        let list = |ctx: &mut Ctx, owner: String, limit| {
            pages(limit, |page| {
                let r: QueryPoliciesResponse = ask(
                    ctx,
                    POLICIES,
                    QueryPoliciesRequest {
                        owner: owner.clone(),
                        pagination: Some(page),
                    },
                );
                assert!(r
                    .policies
                    .iter()
                    .all(|p| owner.is_empty() || p.owner == owner));
                (
                    r.policies.iter().map(|p| p.id).collect::<Vec<_>>(),
                    r.pagination,
                )
            })
        };
        let all = list(ctx, String::new(), 100);
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        assert_eq!(all.concat(), (1..=250).collect::<Vec<_>>());
        let mine = list(ctx, user(1).to_bech32(), 40);
        assert_eq!(mine.iter().map(Vec::len).collect::<Vec<_>>(), [40, 40, 2]);
        assert_eq!(mine.concat(), (6..=250).step_by(3).collect::<Vec<_>>());
        let theirs = list(ctx, user(2).to_bech32(), 1_000);
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].len(), 168);

        // Offset pages report the total when asked.
        let r: QueryPoliciesResponse = ask(
            ctx,
            POLICIES,
            QueryPoliciesRequest {
                owner: user(1).to_bech32(),
                pagination: Some(surety_framework::PageRequest {
                    offset: 80,
                    count_total: true,
                    ..Default::default()
                }),
            },
        );
        let ids: Vec<u64> = r.policies.iter().map(|p| p.id).collect();
        assert_eq!(ids, [246, 249]);
        assert_eq!(r.pagination.unwrap().total, 82);
    });
}

/// An order for `cover` of product 1 over 30 days, paying at most `max_premium`.
/// The demo market with user 1's policy of one USDC of cover; its id.
fn one_policy_sold(ctx: &mut Ctx) -> u64 {
    market(ctx, 100 * USDC);
    fund(ctx, &user(1), 1_000 * USDC);
    k().buy(ctx, &user(1), order(USDC, 1_000 * USDC)).unwrap().0
}

fn order(cover: u128, max_premium: u128) -> crate::Order {
    crate::Order {
        product_id: 1,
        cover,
        days: 30,
        max_premium,
        entry_price: None,
        validator: None,
    }
}

#[test]
fn a_policy_reads_back_its_claimed_cover_as_written() {
    run(|ctx| {
        let id = one_policy_sold(ctx);
        assert_eq!(k().policy(ctx, id).unwrap().claimed_cover, "");
        k().use_cover(ctx, id, 0).unwrap();
        assert_eq!(k().policy(ctx, id).unwrap().claimed_cover, "0");
        k().use_cover(ctx, id, 7).unwrap();
        assert_eq!(k().policy(ctx, id).unwrap().claimed_cover, "7");
    });
}

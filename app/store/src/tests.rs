//! Store tests against real RocksDB databases in temporary directories.

use std::collections::BTreeMap;

use tempfile::TempDir;

use crate::db::cf;
use crate::*;

type Kv = KeyValue;
/// (substore, key, value or delete)
type Change<'a> = (&'a str, &'a [u8], Option<&'a [u8]>);

fn open(dir: &TempDir, keep_recent: u64) -> Storage {
    Storage::open(
        dir.path(),
        StorageConfig {
            keep_recent,
            ..Default::default()
        },
    )
    .expect("open store")
}

/// Builds a change set from (substore, key, value-or-delete) triples.
fn changes(entries: &[Change<'_>]) -> ChangeSet {
    let mut cs = ChangeSet::default();
    for (store, key, value) in entries {
        cs.verifiable
            .entry(store.to_string())
            .or_default()
            .insert(key.to_vec(), value.map(<[u8]>::to_vec));
    }
    cs
}

fn commit(store: &Storage, cs: &ChangeSet) -> AppHash {
    let version = store.latest_version() + 1;
    let prepared = store.prepare(version, cs).expect("prepare");
    assert_eq!(prepared.version(), version);
    let expected = prepared.app_hash();
    let hash = store.commit(prepared).expect("commit");
    assert_eq!(hash, expected);
    assert_eq!(store.latest_version(), version);
    hash
}

fn kv(k: &[u8], v: &[u8]) -> Kv {
    (k.to_vec(), v.to_vec())
}

fn count(store: &Storage, cf_name: &str) -> usize {
    store.inner().db.count_entries(cf_name).expect("count")
}

fn assert_member(snap: &Snapshot, substore: &str, key: &[u8], expected: &[u8]) {
    let app_hash = snap.app_hash().expect("app hash");
    let (value, proofs) = snap.get_with_proof(substore, key).expect("proof");
    assert_eq!(value.as_deref(), Some(expected), "value of {key:?}");
    assert!(
        verify_membership(&app_hash, substore, key, expected, &proofs),
        "membership of {key:?} in {substore} at {}",
        snap.version()
    );
    assert!(!verify_non_membership(&app_hash, substore, key, &proofs));
}

fn assert_non_member(snap: &Snapshot, substore: &str, key: &[u8]) {
    let app_hash = snap.app_hash().expect("app hash");
    let (value, proofs) = snap.get_with_proof(substore, key).expect("proof");
    assert_eq!(value, None, "value of {key:?}");
    assert!(
        verify_non_membership(&app_hash, substore, key, &proofs),
        "non-membership of {key:?} in {substore} at {}",
        snap.version()
    );
    assert!(!verify_membership(&app_hash, substore, key, b"x", &proofs));
}

#[test]
fn empty_store() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    assert_eq!(store.latest_version(), 0);
    assert_eq!(store.latest_app_hash(), None);
    assert_eq!(store.oldest_version(), 0);
    let snap = store.latest_snapshot();
    assert_eq!(snap.version(), 0);
    assert_eq!(snap.app_hash(), None);
    assert_eq!(snap.get("bank", b"k").unwrap(), None);
    assert!(snap.prefix("bank", b"").unwrap().is_empty());
    assert_eq!(snap.substore_root("bank").unwrap(), EMPTY_ROOT_HASH);
    assert!(matches!(
        store.snapshot(1),
        Err(StoreError::VersionNotFound {
            version: 1,
            latest: 0
        })
    ));
    assert!(matches!(
        store.app_hash(1),
        Err(StoreError::VersionNotFound { .. })
    ));
    assert!(store.snapshot(0).is_ok());
}

#[test]
fn commit_drop_reopen() {
    let dir = TempDir::new().unwrap();
    let mut hashes = Vec::new();
    let before: Vec<(Vec<Kv>, Option<Vec<u8>>)>;
    {
        let store = open(&dir, 0);
        hashes.push(commit(
            &store,
            &changes(&[("bank", b"a", Some(b"1")), ("auth", b"x", Some(b"2"))]),
        ));
        hashes.push(commit(
            &store,
            &changes(&[("bank", b"b", Some(b"3")), ("bank", b"a", None)]),
        ));
        let mut cs = changes(&[("staking", b"v", Some(b"4"))]);
        cs.nonverifiable
            .insert(b"local".to_vec(), Some(b"idx".to_vec()));
        hashes.push(commit(&store, &cs));
        before = (1..=3)
            .map(|v| {
                let snap = store.snapshot(v).unwrap();
                (
                    snap.prefix("bank", b"").unwrap(),
                    snap.get("auth", b"x").unwrap(),
                )
            })
            .collect();
        assert_eq!(store.latest_app_hash(), Some(hashes[2]));
    }
    let store = open(&dir, 0);
    assert_eq!(store.latest_version(), 3);
    assert_eq!(store.latest_app_hash(), Some(hashes[2]));
    assert_eq!(store.oldest_version(), 1);
    for v in 1..=3u64 {
        assert_eq!(store.app_hash(v).unwrap(), hashes[v as usize - 1]);
        let snap = store.snapshot(v).unwrap();
        assert_eq!(snap.app_hash(), Some(hashes[v as usize - 1]));
        let after = (
            snap.prefix("bank", b"").unwrap(),
            snap.get("auth", b"x").unwrap(),
        );
        assert_eq!(after, before[v as usize - 1]);
    }
    let snap = store.latest_snapshot();
    assert_eq!(
        snap.get_nonverifiable(b"local").unwrap(),
        Some(b"idx".to_vec())
    );
    // The reopened store keeps committing on top of the same state.
    let next = commit(&store, &changes(&[("bank", b"c", Some(b"5"))]));
    assert_ne!(next, hashes[2]);
    assert_eq!(
        store.latest_snapshot().prefix("bank", b"").unwrap(),
        vec![kv(b"b", b"3"), kv(b"c", b"5")]
    );
}

#[test]
fn dropped_prepare_leaves_previous_version_intact() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    let h1 = commit(&store, &changes(&[("bank", b"a", Some(b"1"))]));

    let mut cs = changes(&[("bank", b"a", Some(b"changed")), ("gov", b"p", Some(b"1"))]);
    cs.nonverifiable.insert(b"n".to_vec(), Some(b"v".to_vec()));
    let dropped = store.prepare(2, &cs).unwrap();
    assert_ne!(dropped.app_hash(), h1);
    drop(dropped);

    assert_eq!(store.latest_version(), 1);
    assert_eq!(store.latest_app_hash(), Some(h1));
    {
        let snap = store.latest_snapshot();
        assert_eq!(snap.get("bank", b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(snap.get("gov", b"p").unwrap(), None);
        assert_eq!(snap.get_nonverifiable(b"n").unwrap(), None);
        assert!(store.snapshot(2).is_err());
    }

    // A different version 2 can be committed.
    let h2 = commit(&store, &changes(&[("bank", b"b", Some(b"2"))]));
    let snap = store.latest_snapshot();
    assert_eq!(snap.app_hash(), Some(h2));
    assert_eq!(snap.get("bank", b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(snap.get("bank", b"b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(snap.get("gov", b"p").unwrap(), None);
    assert_member(&snap, "bank", b"a", b"1");

    // The same reopened (every snapshot dropped first: they keep the database open): the
    // dropped prepare left no trace on disk either.
    drop(snap);
    drop(store);
    let store = open(&dir, 0);
    assert_eq!(store.latest_app_hash(), Some(h2));
    assert_eq!(store.latest_snapshot().get("gov", b"p").unwrap(), None);
}

#[test]
fn prepare_and_commit_errors() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    commit(&store, &changes(&[("bank", b"a", Some(b"1"))]));
    assert!(matches!(
        store.prepare(3, &ChangeSet::default()),
        Err(StoreError::InvalidVersion {
            requested: 3,
            expected: 2
        })
    ));
    assert!(matches!(
        store.prepare(1, &ChangeSet::default()),
        Err(StoreError::InvalidVersion { .. })
    ));
    assert!(matches!(
        store.prepare(2, &changes(&[("bank", b"", Some(b"1"))])),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        store.prepare(2, &changes(&[("", b"k", Some(b"1"))])),
        Err(StoreError::InvalidInput(_))
    ));

    // Two competing prepares: the second commit conflicts.
    let first = store
        .prepare(2, &changes(&[("bank", b"b", Some(b"1"))]))
        .unwrap();
    let second = store
        .prepare(2, &changes(&[("bank", b"c", Some(b"1"))]))
        .unwrap();
    let h2 = store.commit(first).unwrap();
    assert!(matches!(
        store.commit(second),
        Err(StoreError::Conflict {
            prepared_on: 1,
            latest: 2
        })
    ));
    assert_eq!(store.latest_app_hash(), Some(h2));
    assert_eq!(store.latest_snapshot().get("bank", b"c").unwrap(), None);

    // A prepared commit cannot be written into another store.
    let other_dir = TempDir::new().unwrap();
    let other = open(&other_dir, 0);
    let foreign = other.prepare(1, &ChangeSet::default()).unwrap();
    assert!(matches!(
        store.commit(foreign),
        Err(StoreError::ForeignCommit)
    ));

    let snap = store.latest_snapshot();
    assert!(matches!(
        snap.get("", b"a"),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        snap.get_with_proof("bank", b""),
        Err(StoreError::InvalidInput(_))
    ));
    assert_eq!(snap.get("bank", b"").unwrap(), None);
}

#[test]
fn determinism_across_stores_and_orders() {
    let sequence = [
        changes(&[("bank", b"a", Some(b"1")), ("auth", b"acct", Some(b"x"))]),
        changes(&[("bank", b"b", Some(b"2")), ("bank", b"a", None)]),
        ChangeSet::default(),
        changes(&[("staking", b"val", Some(b"3")), ("bank", b"a", Some(b"4"))]),
    ];
    let run = |dir: &TempDir| -> Vec<AppHash> {
        let store = open(dir, 0);
        sequence.iter().map(|cs| commit(&store, cs)).collect()
    };
    let (d1, d2) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let hashes = run(&d1);
    assert_eq!(hashes, run(&d2));
    // An empty version still changes nothing in the state, so the hash repeats.
    assert_eq!(hashes[1], hashes[2]);

    // Same final state reached through different histories and insertion orders.
    let final_state: Vec<(&str, &[u8], &[u8])> = vec![
        ("bank", b"k1", b"v1"),
        ("bank", b"k2", b"v2"),
        ("bank", b"k3", b"v3"),
        ("auth", b"a1", b"w1"),
        ("auth", b"a2", b"w2"),
    ];
    let d3 = TempDir::new().unwrap();
    let one_shot = open(&d3, 0);
    let all: Vec<_> = final_state
        .iter()
        .map(|(s, k, v)| (*s, *k, Some(*v)))
        .collect();
    let h_one_shot = commit(&one_shot, &changes(&all));

    let d4 = TempDir::new().unwrap();
    let stepwise = open(&d4, 0);
    commit(
        &stepwise,
        &changes(&[("auth", b"a2", Some(b"w2")), ("bank", b"k3", Some(b"old"))]),
    );
    commit(
        &stepwise,
        &changes(&[("bank", b"tmp", Some(b"t")), ("bank", b"k3", Some(b"v3"))]),
    );
    commit(
        &stepwise,
        &changes(&[("bank", b"k2", Some(b"v2")), ("auth", b"a1", Some(b"w1"))]),
    );
    let h_stepwise = commit(
        &stepwise,
        &changes(&[("bank", b"tmp", None), ("bank", b"k1", Some(b"v1"))]),
    );
    assert_eq!(h_one_shot, h_stepwise);
    assert_eq!(
        one_shot.latest_snapshot().substore_root("bank").unwrap(),
        stepwise.latest_snapshot().substore_root("bank").unwrap()
    );
}

/// Versions without deletions are written as one batch (`tree::put_value_set`); the roots must be
/// those of jmt's key-by-key inserts into an in-memory tree, version after version, with versions
/// that delete (which go key by key) in between.
#[test]
fn batched_tree_writes_match_key_by_key_inserts() {
    use jmt::mock::MockTreeStore;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    let reference = MockTreeStore::default();
    let mut live: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for version in 1..=40u64 {
        let mut cs = ChangeSet::default();
        let entries = cs.verifiable.entry("pool".to_string()).or_default();
        for _ in 0..rng.gen_range(1..300) {
            let key = format!("k{}", rng.gen_range(0..2_000)).into_bytes();
            let value = format!("v{version}-{}", rng.gen::<u32>()).into_bytes();
            entries.insert(key, Some(value));
        }
        if version % 5 == 0 {
            for key in live.keys().take(20) {
                entries.insert(key.clone(), None);
            }
        }
        for (k, v) in entries.iter() {
            match v {
                Some(v) => live.insert(k.clone(), v.clone()),
                None => live.remove(k),
            };
        }
        let kvs: Vec<_> = entries
            .iter()
            .map(|(k, v)| (tree::key_hash(k), v.clone()))
            .collect();
        let (root, batch) = jmt::JellyfishMerkleTree::<_, sha2::Sha256>::new(&reference)
            .put_value_set(kvs, version)
            .unwrap();
        reference.write_tree_update_batch(batch).unwrap();
        // A second substore with the same writes: large versions update the two trees on
        // threads of their own, which must change neither root.
        let same = cs.verifiable["pool"].clone();
        cs.verifiable.insert("policy".to_string(), same);
        commit(&store, &cs);
        let snap = store.latest_snapshot();
        for substore in ["pool", "policy"] {
            assert_eq!(
                snap.substore_root(substore).unwrap(),
                root.0,
                "{substore} at version {version}"
            );
        }
    }
    let snap = store.latest_snapshot();
    for (k, v) in live.iter().take(50) {
        assert_member(&snap, "pool", k, v);
    }
}

#[test]
fn historical_point_reads_and_iteration() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    commit(
        &store,
        &changes(&[
            ("bank", b"ab", Some(b"1")),
            ("bank", b"ab\0x", Some(b"2")),
            ("bank", b"ab\0", Some(b"z")),
            ("bank", b"abc", Some(b"3")),
            ("bank", b"b", Some(b"4")),
            ("bank", b"a", Some(b"5")),
            ("auth", b"ab", Some(b"other")),
        ]),
    );
    commit(
        &store,
        &changes(&[
            ("bank", b"ab", None),
            ("bank", b"ab\0x", Some(b"22")),
            ("bank", b"never", None),
        ]),
    );
    commit(&store, &changes(&[("bank", b"ab", Some(b"111"))]));
    commit(&store, &changes(&[("auth", b"zz", Some(b"9"))]));

    let at = |v: Version| store.snapshot(v).unwrap();
    assert_eq!(at(1).get("bank", b"ab").unwrap(), Some(b"1".to_vec()));
    assert_eq!(at(2).get("bank", b"ab").unwrap(), None);
    assert_eq!(at(3).get("bank", b"ab").unwrap(), Some(b"111".to_vec()));
    assert_eq!(at(4).get("bank", b"ab").unwrap(), Some(b"111".to_vec()));
    assert_eq!(at(1).get("bank", b"ab\0x").unwrap(), Some(b"2".to_vec()));
    assert_eq!(at(4).get("bank", b"ab\0x").unwrap(), Some(b"22".to_vec()));
    assert_eq!(at(4).get("bank", b"never").unwrap(), None);
    assert_eq!(at(1).get("auth", b"zz").unwrap(), None);
    assert_eq!(at(4).get("auth", b"zz").unwrap(), Some(b"9".to_vec()));

    assert_eq!(
        at(1).prefix("bank", b"ab").unwrap(),
        vec![
            kv(b"ab", b"1"),
            kv(b"ab\0", b"z"),
            kv(b"ab\0x", b"2"),
            kv(b"abc", b"3")
        ]
    );
    assert_eq!(
        at(2).prefix("bank", b"ab").unwrap(),
        vec![kv(b"ab\0", b"z"), kv(b"ab\0x", b"22"), kv(b"abc", b"3")]
    );
    assert_eq!(
        at(3).prefix("bank", b"ab").unwrap(),
        vec![
            kv(b"ab", b"111"),
            kv(b"ab\0", b"z"),
            kv(b"ab\0x", b"22"),
            kv(b"abc", b"3")
        ]
    );
    assert_eq!(
        at(3).prefix("bank", b"ab\0").unwrap(),
        vec![kv(b"ab\0", b"z"), kv(b"ab\0x", b"22")]
    );
    assert_eq!(
        at(3).prefix("bank", b"").unwrap(),
        vec![
            kv(b"a", b"5"),
            kv(b"ab", b"111"),
            kv(b"ab\0", b"z"),
            kv(b"ab\0x", b"22"),
            kv(b"abc", b"3"),
            kv(b"b", b"4")
        ]
    );
    // Substores do not leak into each other.
    assert_eq!(
        at(3).prefix("auth", b"").unwrap(),
        vec![kv(b"ab", b"other")]
    );
    assert!(at(3).prefix("nope", b"").unwrap().is_empty());

    // Pagination: start is inclusive, limit bounds the page.
    let snap = at(3);
    assert_eq!(
        snap.range("bank", b"", None, 2).unwrap(),
        vec![kv(b"a", b"5"), kv(b"ab", b"111")]
    );
    assert_eq!(
        snap.range("bank", b"", Some(b"ab\0"), 2).unwrap(),
        vec![kv(b"ab\0", b"z"), kv(b"ab\0x", b"22")]
    );
    assert_eq!(
        snap.range("bank", b"ab", Some(b"ab\0\x01"), 10).unwrap(),
        vec![kv(b"ab\0x", b"22"), kv(b"abc", b"3")]
    );
    assert_eq!(
        snap.range("bank", b"ab", Some(b"a"), 1).unwrap(),
        vec![kv(b"ab", b"111")]
    );
    assert!(snap
        .range("bank", b"ab", Some(b"b"), 10)
        .unwrap()
        .is_empty());
    assert!(snap.range("bank", b"", None, 0).unwrap().is_empty());
}

#[test]
fn proofs_verify_against_app_hash() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..50u32 {
        entries.push((format!("key{i:03}"), format!("value{i}").into_bytes()));
    }
    let mut cs = ChangeSet::default();
    for (k, v) in &entries {
        cs.verifiable
            .entry("bank".into())
            .or_default()
            .insert(k.as_bytes().to_vec(), Some(v.clone()));
    }
    cs.verifiable
        .entry("auth".into())
        .or_default()
        .insert(b"acct".to_vec(), Some(b"a".to_vec()));
    commit(&store, &cs);
    commit(
        &store,
        &changes(&[("bank", b"key007", Some(b"new")), ("bank", b"key008", None)]),
    );

    for version in [1, 2] {
        let snap = store.snapshot(version).unwrap();
        assert_member(&snap, "bank", b"key000", b"value0");
        assert_member(&snap, "bank", b"key049", b"value49");
        assert_member(&snap, "auth", b"acct", b"a");
        assert_non_member(&snap, "bank", b"missing");
        assert_non_member(&snap, "bank", b"key0071");
        assert_non_member(&snap, "auth", b"nope");
    }
    let v1 = store.snapshot(1).unwrap();
    let v2 = store.snapshot(2).unwrap();
    assert_member(&v1, "bank", b"key007", b"value7");
    assert_member(&v2, "bank", b"key007", b"new");
    assert_member(&v1, "bank", b"key008", b"value8");
    assert_non_member(&v2, "bank", b"key008");

    // Tampering fails.
    let h2 = v2.app_hash().unwrap();
    let (_, proofs) = v2.get_with_proof("bank", b"key007").unwrap();
    assert!(!verify_membership(
        &h2, "bank", b"key007", b"value7", &proofs
    ));
    assert!(!verify_membership(&h2, "auth", b"key007", b"new", &proofs));
    assert!(!verify_membership(&h2, "bank", b"key006", b"new", &proofs));
    let h1 = v1.app_hash().unwrap();
    assert!(!verify_membership(&h1, "bank", b"key007", b"new", &proofs));
    let mut tampered = proofs.clone();
    if let Some(ics23::commitment_proof::Proof::Exist(e)) = &mut tampered[0].proof {
        e.value = b"evil".to_vec();
    }
    assert!(!verify_membership(
        &h2, "bank", b"key007", b"evil", &tampered
    ));
    // A non-membership proof does not prove a present key absent.
    let (_, absent) = v2.get_with_proof("bank", b"key008").unwrap();
    assert!(!verify_non_membership(&h2, "bank", b"key007", &absent));
    // And a neighbour-less "empty tree" proof is refused for a non-empty substore.
    let (_, unknown) = v2.get_with_proof("gov", b"key007").unwrap();
    assert!(!verify_non_membership(
        &h2,
        "bank",
        b"key007",
        &[unknown[0].clone(), proofs[1].clone()]
    ));

    // The main-tree proof proves the substore root, which matches substore_root().
    let root = v2.substore_root("bank").unwrap();
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
        &proofs[1],
        &proof_spec(),
        &h2.to_vec(),
        b"bank",
        &root
    ));
}

#[test]
fn proofs_for_empty_and_unknown_substores() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    // Version 1: no substore at all (empty main tree).
    let h1 = commit(&store, &ChangeSet::default());
    assert_eq!(h1, EMPTY_ROOT_HASH);
    assert_non_member(&store.snapshot(1).unwrap(), "bank", b"k");

    // Version 2: "bank" exists but is empty; "gov" does not exist.
    let mut cs = ChangeSet::default();
    cs.verifiable.insert("bank".into(), BTreeMap::new());
    cs.verifiable
        .entry("auth".into())
        .or_default()
        .insert(b"a".to_vec(), Some(b"1".to_vec()));
    commit(&store, &cs);
    let snap = store.snapshot(2).unwrap();
    assert_eq!(snap.substore_root("bank").unwrap(), EMPTY_ROOT_HASH);
    assert_non_member(&snap, "bank", b"k");
    assert_non_member(&snap, "gov", b"k");
    assert_member(&snap, "auth", b"a", b"1");

    // Deleting every key makes a substore empty again.
    commit(&store, &changes(&[("auth", b"a", None)]));
    let snap = store.snapshot(3).unwrap();
    assert_eq!(snap.substore_root("auth").unwrap(), EMPTY_ROOT_HASH);
    assert_non_member(&snap, "auth", b"a");
    // A wrong key in the empty-tree proof is refused.
    let (_, proofs) = snap.get_with_proof("auth", b"a").unwrap();
    assert!(!verify_non_membership(
        &snap.app_hash().unwrap(),
        "auth",
        b"b",
        &proofs
    ));
}

#[test]
fn substore_added_at_later_version() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    commit(&store, &changes(&[("auth", b"a", Some(b"1"))]));
    commit(&store, &changes(&[("auth", b"b", Some(b"2"))]));
    let h3 = commit(&store, &changes(&[("auth", b"c", Some(b"3"))]));
    // Upgrade at version 4 adds "gov".
    let h4 = commit(
        &store,
        &changes(&[("gov", b"p1", Some(b"x")), ("gov", b"p2", Some(b"y"))]),
    );
    assert_ne!(h3, h4);
    commit(
        &store,
        &changes(&[("gov", b"p1", None), ("auth", b"a", None)]),
    );

    let v3 = store.snapshot(3).unwrap();
    assert_eq!(v3.get("gov", b"p1").unwrap(), None);
    assert_eq!(v3.substore_root("gov").unwrap(), EMPTY_ROOT_HASH);
    assert_non_member(&v3, "gov", b"p1");
    let v4 = store.snapshot(4).unwrap();
    assert_eq!(
        v4.prefix("gov", b"").unwrap(),
        vec![kv(b"p1", b"x"), kv(b"p2", b"y")]
    );
    assert_member(&v4, "gov", b"p1", b"x");
    assert_member(&v4, "auth", b"c", b"3");
    let v5 = store.snapshot(5).unwrap();
    assert_eq!(v5.prefix("gov", b"").unwrap(), vec![kv(b"p2", b"y")]);
    assert_non_member(&v5, "gov", b"p1");
    assert_member(&v5, "gov", b"p2", b"y");

    // Same result on a store where the substore existed from the start but stayed empty.
    let dir2 = TempDir::new().unwrap();
    let other = open(&dir2, 0);
    let mut first = changes(&[("auth", b"a", Some(b"1"))]);
    first.verifiable.insert("gov".into(), BTreeMap::new());
    commit(&other, &first);
    commit(&other, &changes(&[("auth", b"b", Some(b"2"))]));
    commit(&other, &changes(&[("auth", b"c", Some(b"3"))]));
    let h4_other = commit(
        &other,
        &changes(&[("gov", b"p1", Some(b"x")), ("gov", b"p2", Some(b"y"))]),
    );
    assert_eq!(h4, h4_other);

    // Survives a reopen.
    drop((v3, v4, v5));
    drop(store);
    let store = open(&dir, 0);
    commit(&store, &changes(&[("gov", b"p3", Some(b"z"))]));
    assert_member(&store.latest_snapshot(), "gov", b"p3", b"z");
}

#[test]
fn pruning_keeps_recent_versions_and_frees_space() {
    let (dir_pruned, dir_archive) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let pruned = open(&dir_pruned, 2);
    let archive = open(&dir_archive, 0);
    let mut first = ChangeSet::default();
    for i in 0..40u32 {
        first
            .verifiable
            .entry("bank".into())
            .or_default()
            .insert(format!("acct{i:02}").into_bytes(), Some(vec![0; 8]));
    }
    first
        .verifiable
        .entry("static".into())
        .or_default()
        .insert(b"constant".to_vec(), Some(b"c".to_vec()));
    let change_at = |version: u64| {
        let mut cs = ChangeSet::default();
        let bank = cs.verifiable.entry("bank".into()).or_default();
        for i in 0..40u32 {
            if i % 5 == (version % 5) as u32 {
                bank.insert(
                    format!("acct{i:02}").into_bytes(),
                    Some(version.to_be_bytes().to_vec()),
                );
            }
        }
        // A key deleted and re-created on alternate versions exercises tombstones.
        let value = (version % 2 != 1).then(|| version.to_be_bytes().to_vec());
        bank.insert(b"flip".to_vec(), value);
        cs
    };
    let mut hashes = vec![commit(&pruned, &first)];
    assert_eq!(commit(&archive, &first), hashes[0]);
    let mut counts_at_10 = None;
    for version in 2..=20u64 {
        let cs = change_at(version);
        let h = commit(&pruned, &cs);
        assert_eq!(commit(&archive, &cs), h, "pruning must not change hashes");
        hashes.push(h);
        if version == 10 {
            counts_at_10 = Some(
                [cf::NODES, cf::VALUES, cf::INDEX, cf::STALE, cf::SUPERSEDED]
                    .map(|cf_name| count(&pruned, cf_name)),
            );
        }
    }
    assert_eq!(pruned.oldest_version(), 19);
    assert_eq!(archive.oldest_version(), 1);

    for version in 1..19 {
        assert!(matches!(
            pruned.snapshot(version),
            Err(StoreError::VersionPruned { oldest: 19, .. })
        ));
        assert!(matches!(
            pruned.app_hash(version),
            Err(StoreError::VersionPruned { .. })
        ));
    }
    for version in 19..=20u64 {
        let p = pruned.snapshot(version).unwrap();
        let a = archive.snapshot(version).unwrap();
        assert_eq!(p.app_hash(), Some(hashes[version as usize - 1]));
        assert_eq!(
            p.prefix("bank", b"").unwrap(),
            a.prefix("bank", b"").unwrap()
        );
        assert_eq!(
            p.prefix("static", b"").unwrap(),
            vec![kv(b"constant", b"c")]
        );
        assert_eq!(
            p.get("bank", b"flip").unwrap(),
            a.get("bank", b"flip").unwrap()
        );
        assert_member(
            &p,
            "bank",
            b"acct07",
            &a.get("bank", b"acct07").unwrap().unwrap(),
        );
        assert_member(&p, "static", b"constant", b"c");
        assert_non_member(&p, "bank", b"nobody");
        if version == 19 {
            assert_non_member(&p, "bank", b"flip");
        } else {
            assert_member(&p, "bank", b"flip", &version.to_be_bytes());
        }
    }

    // Space is reclaimed: far fewer entries than the archive, and no growth over time.
    for cf_name in [cf::NODES, cf::VALUES, cf::INDEX, cf::STALE, cf::SUPERSEDED] {
        let (p, a) = (count(&pruned, cf_name), count(&archive, cf_name));
        assert!(p < a, "{cf_name}: pruned {p} vs archive {a}");
    }
    let [nodes_at_10, rest_at_10 @ ..] = counts_at_10.unwrap();
    let nodes_at_20 = count(&pruned, cf::NODES);
    assert!(
        nodes_at_20 <= nodes_at_10 + 5,
        "{nodes_at_20} vs {nodes_at_10}"
    );
    // The workload repeats every 10 versions, so a store that leaks no value, index or log
    // entry holds exactly as many at version 20 as at version 10.
    for (cf_name, at_10) in [cf::VALUES, cf::INDEX, cf::STALE, cf::SUPERSEDED]
        .into_iter()
        .zip(rest_at_10)
    {
        assert_eq!(count(&pruned, cf_name), at_10, "{cf_name}");
    }
    // Only the app hashes of the kept versions remain.
    let hashes_kept = {
        let db = &pruned.inner().db;
        let mut it = db.raw_iter(cf::META).unwrap();
        it.seek(crate::keys::app_hash_key_prefix());
        let mut n = 0;
        while it.valid()
            && it
                .key()
                .unwrap()
                .starts_with(crate::keys::app_hash_key_prefix())
        {
            n += 1;
            it.next();
        }
        n
    };
    assert_eq!(hashes_kept, 2);

    // A snapshot taken before its version is pruned fails cleanly afterwards.
    let old = pruned.snapshot(20).unwrap();
    commit(&pruned, &change_at(21));
    commit(&pruned, &change_at(22));
    assert!(matches!(
        old.get("bank", b"acct00"),
        Err(StoreError::VersionPruned {
            version: 20,
            oldest: 21
        })
    ));
    assert!(matches!(
        old.prefix("bank", b""),
        Err(StoreError::VersionPruned { .. })
    ));

    // Reopen keeps the pruning state; a smaller keep_recent prunes further on open.
    drop(old);
    drop(pruned);
    let reopened = open(&dir_pruned, 1);
    assert_eq!(reopened.oldest_version(), 22);
    assert!(reopened.snapshot(21).is_err());
    let snap = reopened.latest_snapshot();
    assert_member(&snap, "bank", b"acct02", &22u64.to_be_bytes());
    commit(&reopened, &change_at(23));
    assert_eq!(reopened.oldest_version(), 23);
    assert_member(&reopened.latest_snapshot(), "static", b"constant", b"c");
}

#[test]
fn snapshots_are_stable_while_committing() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    commit(
        &store,
        &changes(&[("bank", b"a", Some(b"1")), ("bank", b"b", Some(b"1"))]),
    );
    let snap = store.snapshot(1).unwrap();
    let reader = {
        let snap = snap.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                assert_eq!(
                    snap.prefix("bank", b"").unwrap(),
                    vec![kv(b"a", b"1"), kv(b"b", b"1")]
                );
                assert_eq!(snap.get("bank", b"c").unwrap(), None);
            }
        })
    };
    for i in 0..20u8 {
        commit(
            &store,
            &changes(&[("bank", b"a", Some(&[i])), ("bank", b"c", Some(&[i]))]),
        );
    }
    reader.join().expect("reader thread");
    assert_member(&snap, "bank", b"a", b"1");
}

#[test]
fn nonverifiable_data() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    let mut cs = ChangeSet::default();
    cs.nonverifiable
        .insert(b"idx/1".to_vec(), Some(b"a".to_vec()));
    cs.nonverifiable
        .insert(b"idx/2".to_vec(), Some(b"b".to_vec()));
    cs.nonverifiable
        .insert(b"other".to_vec(), Some(b"c".to_vec()));
    let h1 = commit(&store, &cs);
    // Nonverifiable data does not affect the app hash.
    assert_eq!(h1, EMPTY_ROOT_HASH);
    let mut cs = ChangeSet::default();
    cs.nonverifiable.insert(b"idx/1".to_vec(), None);
    commit(&store, &cs);
    let snap = store.latest_snapshot();
    assert_eq!(snap.get_nonverifiable(b"idx/1").unwrap(), None);
    assert_eq!(
        snap.get_nonverifiable(b"idx/2").unwrap(),
        Some(b"b".to_vec())
    );
    assert_eq!(
        snap.prefix_nonverifiable(b"idx/").unwrap(),
        vec![kv(b"idx/2", b"b")]
    );
}

#[test]
fn storage_is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Storage>();
    check::<Snapshot>();
    // A prepared commit moves between the threads that execute and commit a block.
    fn check_send<T: Send + Clone>() {}
    check_send::<PreparedCommit>();
    assert_eq!(EMPTY_ROOT_HASH, *b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
}

/// Deterministic pseudo-random workload: a pruned store must read and prove every kept version
/// exactly like an archive store.
#[test]
fn pruned_store_matches_archive_under_random_workload() {
    pruned_matches_archive(false);
}

/// The same with pruning on its own thread, as a node runs: every kept version reads and proves
/// the same while the thread deletes behind it, and a store dropped and reopened at once finds
/// its database free (the thread is joined).
#[test]
fn background_pruning_matches_archive_and_releases_the_database() {
    let dir = pruned_matches_archive(true);
    let reopened = Storage::open(
        dir.path(),
        StorageConfig {
            keep_recent: 3,
            prune_in_background: true,
        },
    )
    .unwrap();
    assert_eq!(reopened.latest_version(), 40);
    assert_eq!(reopened.oldest_version(), 38);
}

/// substore -> key -> value.
type Model = BTreeMap<&'static str, BTreeMap<Vec<u8>, Vec<u8>>>;

fn pruned_matches_archive(background: bool) -> TempDir {
    let (dir_pruned, dir_archive) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let pruned = Storage::open(
        dir_pruned.path(),
        StorageConfig {
            keep_recent: 3,
            prune_in_background: background,
        },
    )
    .unwrap();
    let archive = open(&dir_archive, 0);
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let substores = ["auth", "bank", "staking", "gov"];
    // What each version must read, by version.
    let mut models: Vec<Model> = vec![BTreeMap::new()];
    for version in 1..=40u64 {
        let mut cs = ChangeSet::default();
        for _ in 0..(next() % 12) {
            // "gov" only appears from version 15 on, like a module added by an upgrade.
            let store = substores[(next() % if version < 15 { 3 } else { 4 }) as usize];
            let mut key = vec![b'k', (next() % 4) as u8];
            if next() % 3 == 0 {
                key.push((next() % 3) as u8);
            }
            let value = (next() % 4 != 0).then(|| next().to_be_bytes().to_vec());
            cs.verifiable
                .entry(store.to_string())
                .or_default()
                .insert(key, value);
        }
        let mut model = models.last().cloned().unwrap_or_default();
        for (store, kvs) in &cs.verifiable {
            let name = substores.iter().find(|s| **s == store.as_str()).unwrap();
            let entries = model.entry(*name).or_default();
            for (k, v) in kvs {
                match v {
                    Some(v) => entries.insert(k.clone(), v.clone()),
                    None => entries.remove(k),
                };
            }
        }
        models.push(model);
        let h = commit(&pruned, &cs);
        assert_eq!(commit(&archive, &cs), h);
        for kept in pruned.oldest_version()..=version {
            let p = pruned.snapshot(kept).unwrap();
            let a = archive.snapshot(kept).unwrap();
            assert_eq!(p.app_hash(), a.app_hash());
            for store in substores {
                // The newest version reads kv_latest, older ones the versioned index: both must
                // give what the model says, whole or a page at a time.
                let want: Vec<Kv> = models[kept as usize]
                    .get(store)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let items = a.prefix(store, b"").unwrap();
                assert_eq!(items, want, "{store} at {kept} of {version}");
                assert_eq!(p.prefix(store, b"").unwrap(), items, "{store} at {kept}");
                let page: Vec<Kv> = want
                    .iter()
                    .filter(|(k, _)| k.as_slice() >= &b"k\x01"[..] && k.starts_with(b"k"))
                    .take(2)
                    .cloned()
                    .collect();
                assert_eq!(p.range(store, b"k", Some(b"k\x01"), 2).unwrap(), page);
                assert_eq!(
                    p.substore_root(store).unwrap(),
                    a.substore_root(store).unwrap()
                );
                for probe in [&b"k\x00"[..], b"k\x01\x02", b"k\x03", b"zz"] {
                    match a.get(store, probe).unwrap() {
                        Some(v) => assert_member(&p, store, probe, &v),
                        None => assert_non_member(&p, store, probe),
                    }
                }
            }
        }
    }
    assert_eq!(pruned.oldest_version(), 38);
    pruned.wait_for_pruning();
    let (p, a) = (count(&pruned, cf::NODES), count(&archive, cf::NODES));
    assert!(p * 2 < a, "nodes: pruned {p} vs archive {a}");
    dir_pruned
}

/// A store written before `kv_latest` existed gets it built when opened, and reads the same.
#[test]
fn latest_values_are_rebuilt_for_an_older_store() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    commit(
        &store,
        &changes(&[
            ("bank", b"a", Some(b"1")),
            ("bank", b"b", Some(b"2")),
            ("auth", b"x\x00y", Some(b"3")),
        ]),
    );
    commit(
        &store,
        &changes(&[("bank", b"a", None), ("bank", b"c", Some(b"4"))]),
    );
    let reads = |store: &Storage| {
        let snap = store.latest_snapshot();
        let old = store.snapshot(1).unwrap();
        (
            snap.prefix("bank", b"").unwrap(),
            snap.prefix("auth", b"").unwrap(),
            snap.get("bank", b"a").unwrap(),
            old.prefix("bank", b"").unwrap(),
        )
    };
    let before = reads(&store);
    assert_eq!(before.0, vec![kv(b"b", b"2"), kv(b"c", b"4")]);
    assert_eq!(before.1, vec![kv(b"x\x00y", b"3")]);
    // Back to what an older node wrote: no latest values and no flag.
    let mut wipe = crate::db::Batch::default();
    for k in store.inner().db.keys(cf::LATEST).unwrap() {
        wipe.delete(cf::LATEST, k);
    }
    wipe.delete(cf::META, crate::keys::META_LATEST_KV_BUILT.to_vec());
    store.inner().db.write(&wipe, true).unwrap();
    assert_eq!(count(&store, cf::LATEST), 0);
    drop(store);
    let store = open(&dir, 0);
    assert_eq!(count(&store, cf::LATEST), 3);
    assert_eq!(reads(&store), before);
}

/// Deleting a key that is not there writes nothing and leaves the app hash alone.
#[test]
fn deleting_an_absent_key_leaves_no_trace() {
    let (dir_a, dir_b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let (a, b) = (open(&dir_a, 0), open(&dir_b, 0));
    let first = changes(&[("bank", b"k", Some(b"v"))]);
    assert_eq!(commit(&a, &first), commit(&b, &first));
    let index_before = count(&a, cf::INDEX);
    let with_absent = changes(&[("bank", b"gone", None), ("bank", b"k2", Some(b"w"))]);
    let without = changes(&[("bank", b"k2", Some(b"w"))]);
    assert_eq!(commit(&a, &with_absent), commit(&b, &without));
    assert_eq!(count(&a, cf::INDEX), index_before + 1);
    assert_eq!(count(&a, cf::SUPERSEDED), count(&b, cf::SUPERSEDED));
    // A key deleted in a substore's very first version is absent too.
    let new_store = changes(&[("gov", b"never", None)]);
    commit(&a, &new_store);
    assert_eq!(a.latest_snapshot().prefix("gov", b"").unwrap(), vec![]);
}

#[test]
fn an_empty_store_may_start_at_any_version() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 3);
    let cs = changes(&[
        ("bank", b"a", Some(b"1")),
        ("pool", b"p", Some(b"2")),
        ("pool", b"q", Some(b"")),
    ]);
    let h = store.commit(store.prepare(41, &cs).unwrap()).unwrap();
    assert_eq!((store.latest_version(), store.oldest_version()), (41, 41));
    assert_eq!(
        store.substores(),
        vec!["bank".to_string(), "pool".to_string()]
    );
    // The same state has the same root whatever version it starts at.
    let other_dir = TempDir::new().unwrap();
    let other = open(&other_dir, 0);
    assert_eq!(other.commit(other.prepare(1, &cs).unwrap()).unwrap(), h);
    assert!(store.snapshot(40).is_err());
    assert_member(&store.snapshot(41).unwrap(), "bank", b"a", b"1");
    assert_eq!(
        store.latest_snapshot().prefix("pool", b"").unwrap(),
        vec![kv(b"p", b"2"), kv(b"q", b"")]
    );
    // After the first version, versions follow one another.
    assert!(matches!(
        store.prepare(43, &ChangeSet::default()),
        Err(StoreError::InvalidVersion {
            requested: 43,
            expected: 42
        })
    ));
    for v in 42..=46 {
        store
            .commit(
                store
                    .prepare(v, &changes(&[("bank", b"a", Some(&[v as u8]))]))
                    .unwrap(),
            )
            .unwrap();
    }
    store.wait_for_pruning();
    assert_eq!(store.oldest_version(), 44);
    drop(store);
    let store = open(&dir, 3);
    assert_eq!((store.latest_version(), store.oldest_version()), (46, 44));
    assert_member(&store.latest_snapshot(), "pool", b"p", b"2");
}

/// Everything a reader can see of a store's latest version.
fn contents(store: &Storage) -> (Option<AppHash>, Vec<(String, Vec<Kv>)>) {
    let snap = store.latest_snapshot();
    let stores = store
        .substores()
        .into_iter()
        .map(|name| {
            let kvs = snap.prefix(&name, b"").unwrap();
            (name, kvs)
        })
        .collect();
    (store.latest_app_hash(), stores)
}

#[test]
fn rollback_undoes_the_latest_version_exactly() {
    let history = [
        changes(&[("bank", b"a", Some(b"1")), ("bank", b"b", Some(b"2"))]),
        changes(&[("bank", b"c", Some(b"3")), ("pool", b"p", Some(b""))]),
        changes(&[("bank", b"a", Some(b"1'")), ("pool", b"q", Some(b"4"))]),
        changes(&[("bank", b"c", None)]),
    ];
    let (dir, reference_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let (store, reference) = (open(&dir, 3), open(&reference_dir, 3));
    for cs in &history {
        commit(&store, cs);
        commit(&reference, cs);
    }
    // Version 5 changes, deletes and adds keys, re-adds a deleted one and creates a substore.
    commit(
        &store,
        &changes(&[
            ("bank", b"a", Some(b"five")),
            ("bank", b"b", None),
            ("bank", b"c", Some(b"back")),
            ("bank", b"new", Some(b"n")),
            ("pool", b"q", Some(b"rolled back")),
            ("claims", b"k", Some(b"v")),
        ]),
    );
    assert_eq!(store.rollback().unwrap(), 4);
    assert_eq!(store.latest_version(), 4);
    assert_eq!(contents(&store), contents(&reference));
    let snap = store.latest_snapshot();
    assert_member(&snap, "bank", b"b", b"2");
    assert_non_member(&snap, "bank", b"c");
    assert_non_member(&snap, "bank", b"new");
    assert!(!store.substores().contains(&"claims".to_string()));

    // Reopened, and then going on with another version 5: the same as never having had it.
    drop((snap, store));
    let store = open(&dir, 3);
    assert_eq!(contents(&store), contents(&reference));
    let other = changes(&[("bank", b"b", Some(b"other")), ("oracle", b"o", Some(b"x"))]);
    assert_eq!(commit(&store, &other), commit(&reference, &other));
    assert_eq!(contents(&store), contents(&reference));
    assert_member(&store.latest_snapshot(), "bank", b"b", b"other");
    for _ in 0..3 {
        let next = changes(&[("bank", b"a", Some(b"again"))]);
        assert_eq!(commit(&store, &next), commit(&reference, &next));
    }
    store.wait_for_pruning();
    reference.wait_for_pruning();
    assert_eq!(contents(&store), contents(&reference));
    // Pruning went past version 5: what the rolled-back version had made stale is still there.
    assert!(store.oldest_version() > 5);
    assert_member(&store.latest_snapshot(), "pool", b"q", b"4");
}

#[test]
fn rollback_refuses_without_an_earlier_readable_version() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 1);
    assert!(store.rollback().is_err(), "an empty store");
    commit(&store, &changes(&[("bank", b"a", Some(b"1"))]));
    assert!(matches!(store.rollback(), Err(StoreError::InvalidInput(_))));
    commit(&store, &changes(&[("bank", b"a", Some(b"2"))]));
    store.wait_for_pruning();
    // keep_recent 1: version 1 is gone.
    assert!(matches!(
        store.rollback(),
        Err(StoreError::VersionPruned { version: 1, .. })
    ));
    assert_member(&store.latest_snapshot(), "bank", b"a", b"2");
}

/// The tree id at the start of a `nodes` or `stale_nodes` key.
fn tree_id_len(key: &[u8]) -> usize {
    if key[0] == 0 {
        1
    } else {
        2 + usize::from(key[1])
    }
}

/// The internal nodes of the latest trees, read from RocksDB (an archive store: every node ever
/// written is there, and every stale one is listed as stale).
fn live_internal_nodes(store: &Storage) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let db = &store.inner().db;
    let stale: std::collections::BTreeSet<Vec<u8>> = db
        .keys(cf::STALE)
        .unwrap()
        .into_iter()
        .map(|k| {
            let tree = tree_id_len(&k);
            [&k[..tree], &k[tree + 8..]].concat()
        })
        .collect();
    db.keys(cf::NODES)
        .unwrap()
        .into_iter()
        .filter(|k| !stale.contains(k))
        .map(|k| {
            let raw = db.get(cf::NODES, &k).unwrap().unwrap();
            (k, raw)
        })
        .filter(|(_, raw)| {
            matches!(
                borsh::from_slice::<jmt::storage::Node>(raw).unwrap(),
                jmt::storage::Node::Internal(_)
            )
        })
        .collect()
}

#[test]
fn live_nodes_are_the_latest_internal_nodes() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let dir = TempDir::new().unwrap();
    let store = open(&dir, 0);
    let mut live: BTreeMap<(String, Vec<u8>), ()> = BTreeMap::new();
    for version in 1..=30u64 {
        let mut cs = ChangeSet::default();
        for substore in ["bank", "policy", "pool"] {
            // A version that leaves a tree unchanged copies its root and stales the old one.
            if substore == "bank" && version % 2 == 1 && version > 1 {
                continue;
            }
            // Some versions are large enough for the trees' own threads.
            let n = if version % 3 == 0 { 400 } else { 40 };
            let entries = cs.verifiable.entry(substore.to_string()).or_default();
            for _ in 0..rng.gen_range(1..n) {
                let key = format!("k{}", rng.gen_range(0..3_000)).into_bytes();
                entries.insert(key.clone(), Some(rng.gen::<u64>().to_be_bytes().to_vec()));
                live.insert((substore.to_string(), key), ());
            }
            if version % 4 == 0 {
                let doomed: Vec<Vec<u8>> = live
                    .keys()
                    .filter(|(s, _)| s == substore)
                    .take(30)
                    .map(|(_, k)| k.clone())
                    .collect();
                for key in doomed {
                    live.remove(&(substore.to_string(), key.clone()));
                    entries.insert(key, None);
                }
            }
        }
        commit(&store, &cs);
        let expected = live_internal_nodes(&store);
        let live_nodes = &store.inner().db.live_nodes;
        let mut held = live_nodes.keys();
        held.sort();
        assert_eq!(
            held,
            expected.keys().cloned().collect::<Vec<_>>(),
            "version {version}: what is held is exactly the live internal nodes"
        );
        for (key, raw) in &expected {
            assert_eq!(live_nodes.get(key).as_deref(), Some(raw.as_slice()));
        }
    }
    assert!(store.inner().db.live_nodes.held().0 > 300);
}

#[test]
fn a_rollback_forgets_the_live_nodes_of_the_version_it_undoes() {
    // Key `a` alone under its first nibble is a leaf there. The version that is rolled back adds
    // a key with the same first nibble, so it writes an internal node at that path; the version
    // written in its place changes `a` only, so it writes a leaf at the same node key. A cache
    // that still held the internal node would give the next change of `a` a wrong root.
    let nibble = |k: &[u8]| tree::key_hash(k).0[0] >> 4;
    let twin = (0..)
        .map(|i| format!("b{i}").into_bytes())
        .find(|k| nibble(k) == nibble(b"a"))
        .unwrap();
    let other = (0..)
        .map(|i| format!("c{i}").into_bytes())
        .find(|k| nibble(k) != nibble(b"a"))
        .unwrap();
    let (dir, reference_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let (store, reference) = (open(&dir, 5), open(&reference_dir, 5));
    let start = changes(&[("bank", b"a", Some(b"1")), ("bank", &other, Some(b"2"))]);
    commit(&store, &start);
    commit(&reference, &start);
    commit(&store, &changes(&[("bank", &twin, Some(b"rolled back"))]));
    assert!(store.inner().db.live_nodes.held().0 > 0);
    assert_eq!(store.rollback().unwrap(), 1);
    assert_eq!(store.inner().db.live_nodes.held(), (0, 0));
    // The second reads the node key the first wrote `a`'s leaf at.
    for cs in [
        changes(&[("bank", b"a", Some(b"2"))]),
        changes(&[("bank", b"a", Some(b"3"))]),
    ] {
        assert_eq!(commit(&store, &cs), commit(&reference, &cs));
    }
    assert_eq!(contents(&store), contents(&reference));
}

/// Every entry of every column family but the preimages: a key's preimage is the same whichever
/// version writes it, so one written ahead by a version never committed may stay.
fn raw_entries(store: &Storage) -> Vec<(&'static str, Vec<Kv>)> {
    let db = &store.inner().db;
    cf::ALL
        .into_iter()
        .filter(|name| *name != cf::PREIMAGES)
        .map(|name| {
            let mut it = db.raw_iter(name).unwrap();
            it.seek_to_first();
            let mut out = Vec::new();
            while let Some((k, v)) = crate::db::iter_item(&it).unwrap() {
                out.push(kv(k, v));
                it.next();
            }
            (name, out)
        })
        .collect()
}

fn write_ahead_history() -> [ChangeSet; 3] {
    [
        changes(&[("bank", b"a", Some(b"1")), ("bank", b"b", Some(b"2"))]),
        changes(&[("bank", b"c", Some(b"3")), ("pool", b"p", Some(b"p"))]),
        changes(&[("bank", b"a", Some(b"1'")), ("pool", b"q", Some(b"4"))]),
    ]
}

/// Two stores (keeping 2 versions) with the same 3 versions committed: one to write ahead, and
/// a reference that never does.
fn two_stores_at_version_3() -> (TempDir, Storage, TempDir, Storage) {
    let (dir, reference_dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let (store, reference) = (open(&dir, 2), open(&reference_dir, 2));
    for cs in &write_ahead_history() {
        commit(&store, cs);
        commit(&reference, cs);
    }
    (dir, store, reference_dir, reference)
}

/// A version that changes, deletes and adds keys and creates a substore.
fn busy_version() -> ChangeSet {
    let mut cs = changes(&[
        ("bank", b"a", Some(b"ahead")),
        ("bank", b"b", None),
        ("bank", b"new", Some(b"n")),
        ("pool", b"q", Some(b"ahead")),
        ("claims", b"k", Some(b"v")),
    ]);
    cs.nonverifiable
        .insert(b"nv".to_vec(), Some(b"ahead".to_vec()));
    cs
}

#[test]
fn a_version_written_ahead_is_unseen_until_its_commit() {
    let (_dir, store, _reference_dir, reference) = two_stores_at_version_3();
    let before = contents(&store);
    let old = store.snapshot(2).unwrap().prefix("bank", b"").unwrap();

    let mut prepared = store.prepare(4, &busy_version()).unwrap();
    store.write_ahead(&mut prepared).unwrap();
    // Written twice (a retry): the second is a no-op.
    store.write_ahead(&mut prepared).unwrap();
    assert_eq!(contents(&store), before);
    assert_eq!(store.snapshot(2).unwrap().prefix("bank", b"").unwrap(), old);
    assert!(store.snapshot(4).is_err());
    let snap = store.latest_snapshot();
    assert_member(&snap, "bank", b"b", b"2");
    assert_non_member(&snap, "bank", b"new");
    assert_eq!(snap.get_nonverifiable(b"nv").unwrap(), None);
    assert!(!store.substores().contains(&"claims".to_string()));
    drop(snap);

    let expected = commit(&reference, &busy_version());
    assert_eq!(store.commit(prepared).unwrap(), expected);
    assert_eq!(contents(&store), contents(&reference));
    assert_eq!(raw_entries(&store), raw_entries(&reference));
    // Pruning past it, and the versions after, as if it had been written in one batch.
    for i in 0..3u8 {
        let next = changes(&[("bank", b"a", Some(&[i])), ("claims", b"k", None)]);
        assert_eq!(commit(&store, &next), commit(&reference, &next));
    }
    assert_eq!(raw_entries(&store), raw_entries(&reference));
}

#[test]
fn a_version_written_ahead_and_never_committed_is_discarded() {
    let (dir, store, _reference_dir, reference) = two_stores_at_version_3();

    // The node dies between executing block 4 and committing it.
    let mut prepared = store.prepare(4, &busy_version()).unwrap();
    store.write_ahead(&mut prepared).unwrap();
    assert_ne!(raw_entries(&store), raw_entries(&reference));
    drop((prepared, store));
    let store = open(&dir, 2);
    assert_eq!(store.latest_version(), 3);
    assert_eq!(raw_entries(&store), raw_entries(&reference));

    // Block 4 executed again, differently (another binary), twice over without a commit: each
    // write ahead discards the last, and the one written ahead before is refused.
    let mut first = store.prepare(4, &busy_version()).unwrap();
    store.write_ahead(&mut first).unwrap();
    let other = changes(&[("bank", b"c", None), ("oracle", b"o", Some(b"x"))]);
    let mut second = store.prepare(4, &other).unwrap();
    store.write_ahead(&mut second).unwrap();
    assert!(matches!(
        store.commit(first),
        Err(StoreError::InvalidInput(_))
    ));
    assert_eq!(store.commit(second).unwrap(), commit(&reference, &other));
    assert_eq!(raw_entries(&store), raw_entries(&reference));
    assert_non_member(&store.latest_snapshot(), "bank", b"c");

    // A rollback with a version written ahead on top discards that one as well.
    let mut doomed = store.prepare(5, &busy_version()).unwrap();
    store.write_ahead(&mut doomed).unwrap();
    drop(doomed);
    assert_eq!(store.rollback().unwrap(), 3);
    drop(store);
    let store = open(&dir, 2);
    let (redo, redo_dir) = (other.clone(), TempDir::new().unwrap());
    let fresh = open(&redo_dir, 2);
    for cs in &write_ahead_history() {
        commit(&fresh, cs);
    }
    // The store has pruned further (it had reached version 4), so only what readers see is the
    // same until both have pruned past it.
    assert_eq!(contents(&store), contents(&fresh));
    assert_eq!(commit(&store, &redo), commit(&fresh, &redo));
    for i in 0..3u8 {
        let next = changes(&[("pool", b"p", Some(&[i]))]);
        assert_eq!(commit(&store, &next), commit(&fresh, &next));
    }
    assert_eq!(raw_entries(&store), raw_entries(&fresh));
}

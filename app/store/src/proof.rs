//! ics23 proofs: generation from the trees and two-level (substore, then main tree) verification.
//!
//! A proof is a pair `[substore_proof, main_proof]`:
//! - `substore_proof` proves the key (existence or non-existence) against the substore root;
//! - `main_proof` proves `substore name -> substore root` against the app hash.
//!
//! The verifier never needs the substore root from elsewhere: it recomputes it from the substore
//! proof (the existence proof, or a neighbour of the non-existence proof).
//!
//! **Empty trees.** ics23 cannot express a non-existence proof in an empty tree (it needs a
//! neighbour). The store then returns a `NonExistenceProof` with the queried key and *no*
//! neighbours, which stands for "this tree is empty". [`verify_non_membership`] accepts it when
//! the next level proves the tree's root is the empty root ([`EMPTY_ROOT_HASH`]):
//! - empty substore: `main_proof` is an existence proof of `name -> EMPTY_ROOT_HASH`;
//! - unknown substore: `main_proof` is a non-existence proof of `name` in the main tree;
//! - empty main tree (no substore at all): `main_proof` is also neighbour-less, and the app hash
//!   must equal `EMPTY_ROOT_HASH`.
//!
//! Plain ics23 verifiers reject neighbour-less proofs, so these cases need these helpers.
//! Values must be non-empty to be provable (ics23 refuses empty values in existence proofs).

use ics23::commitment_proof::Proof;
use ics23::{CommitmentProof, HostFunctionsManager, NonExistenceProof};
use jmt::Version;

use crate::db::Db;
use crate::error::{tree_err, StoreError};
use crate::keys;
use crate::tree::{Jmt, TreeStore, EMPTY_ROOT};
use crate::AppHash;

/// Root hash of an empty tree: the app hash of a store without substores, and the root of an
/// empty substore.
pub const EMPTY_ROOT_HASH: [u8; 32] = EMPTY_ROOT;

/// The ics23 proof spec of every tree in the store (jmt's spec).
pub fn proof_spec() -> ics23::ProofSpec {
    jmt::ics23_spec()
}

/// The neighbour-less non-existence proof that stands for "this tree is empty".
fn empty_tree_proof(key: &[u8]) -> CommitmentProof {
    CommitmentProof {
        proof: Some(Proof::Nonexist(NonExistenceProof {
            key: key.to_vec(),
            left: None,
            right: None,
        })),
    }
}

/// Value of `key` in `substore` at `version` with its two proofs.
pub(crate) fn prove(
    db: &Db,
    version: Version,
    substore: &str,
    key: &[u8],
) -> Result<(Option<Vec<u8>>, [CommitmentProof; 2]), StoreError> {
    let main_store = TreeStore::new(db, keys::MAIN_TREE_ID);
    let main = Jmt::new(&main_store);
    let main_root = main.get_root_hash(version).map_err(tree_err)?;
    if main_root.0 == EMPTY_ROOT {
        return Ok((
            None,
            [empty_tree_proof(key), empty_tree_proof(substore.as_bytes())],
        ));
    }

    let (root, main_proof) = main
        .get_with_ics23_proof(substore.as_bytes().to_vec(), version)
        .map_err(tree_err)?;
    let Some(root) = root else {
        // Unknown substore: the main proof shows its absence.
        return Ok((None, [empty_tree_proof(key), main_proof]));
    };
    let root: [u8; 32] = root.as_slice().try_into().map_err(|_| {
        StoreError::Corrupt(format!("root of substore {substore:?} is not 32 bytes"))
    })?;
    if root == EMPTY_ROOT {
        return Ok((None, [empty_tree_proof(key), main_proof]));
    }

    let tree = keys::substore_tree_id(substore)?;
    let sub_store = TreeStore::new(db, &tree);
    let sub = Jmt::new(&sub_store);
    let actual_root = sub.get_root_hash(version).map_err(tree_err)?;
    if actual_root.0 != root {
        return Err(StoreError::Corrupt(format!(
            "substore {substore:?} root at version {version} does not match the main tree"
        )));
    }
    let (value, sub_proof) = sub
        .get_with_ics23_proof(key.to_vec(), version)
        .map_err(tree_err)?;
    Ok((value, [sub_proof, main_proof]))
}

fn existence_root(proof: &ics23::ExistenceProof) -> Option<Vec<u8>> {
    ics23::calculate_existence_root::<HostFunctionsManager>(proof).ok()
}

/// Checks that `key -> value` is in `substore` under `app_hash`.
pub fn verify_membership(
    app_hash: &AppHash,
    substore: &str,
    key: &[u8],
    value: &[u8],
    proofs: &[CommitmentProof; 2],
) -> bool {
    let spec = proof_spec();
    let Some(Proof::Exist(exist)) = &proofs[0].proof else {
        return false;
    };
    let Some(substore_root) = existence_root(exist) else {
        return false;
    };
    ics23::verify_membership::<HostFunctionsManager>(&proofs[0], &spec, &substore_root, key, value)
        && ics23::verify_membership::<HostFunctionsManager>(
            &proofs[1],
            &spec,
            &app_hash.to_vec(),
            substore.as_bytes(),
            &substore_root,
        )
}

/// Checks that `key` is absent from `substore` under `app_hash` (including when the substore is
/// empty or does not exist; see the module docs).
pub fn verify_non_membership(
    app_hash: &AppHash,
    substore: &str,
    key: &[u8],
    proofs: &[CommitmentProof; 2],
) -> bool {
    let spec = proof_spec();
    let Some(Proof::Nonexist(nonexist)) = &proofs[0].proof else {
        return false;
    };
    match nonexist.left.as_ref().or(nonexist.right.as_ref()) {
        Some(neighbour) => {
            let Some(substore_root) = existence_root(neighbour) else {
                return false;
            };
            ics23::verify_non_membership::<HostFunctionsManager>(
                &proofs[0],
                &spec,
                &substore_root,
                key,
            ) && ics23::verify_membership::<HostFunctionsManager>(
                &proofs[1],
                &spec,
                &app_hash.to_vec(),
                substore.as_bytes(),
                &substore_root,
            )
        }
        None => {
            // "Empty substore": valid only if the main tree maps the substore to the empty root,
            // or does not contain it at all.
            nonexist.key == key
                && (ics23::verify_membership::<HostFunctionsManager>(
                    &proofs[1],
                    &spec,
                    &app_hash.to_vec(),
                    substore.as_bytes(),
                    &EMPTY_ROOT,
                ) || verify_absent_in_main(app_hash, substore, &proofs[1]))
        }
    }
}

/// `name` is not in the main tree: a regular non-existence proof, or a neighbour-less one when
/// the main tree itself is empty.
fn verify_absent_in_main(app_hash: &AppHash, name: &str, proof: &CommitmentProof) -> bool {
    match &proof.proof {
        Some(Proof::Nonexist(NonExistenceProof {
            key,
            left: None,
            right: None,
        })) => key == name.as_bytes() && *app_hash == EMPTY_ROOT,
        Some(Proof::Nonexist(_)) => ics23::verify_non_membership::<HostFunctionsManager>(
            proof,
            &proof_spec(),
            &app_hash.to_vec(),
            name.as_bytes(),
        ),
        _ => false,
    }
}

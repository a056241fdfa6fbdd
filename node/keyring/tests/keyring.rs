use std::fs;

use surety_keyring::{
    address_of, derive_from_mnemonic, Backend, Keyring, Passphrase, ADDRESS_PREFIX, DEFAULT_HD_PATH,
};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const COSMOS_ABANDON_ADDR: &str = "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4";

/// The error's full message (with context); `unwrap_err` needs `T: Debug`, which
/// `SigningKey` deliberately is not.
fn err_msg<T>(result: anyhow::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => format!("{e:#}"),
    }
}

fn test_keyring() -> (tempfile::TempDir, Keyring) {
    let home = tempfile::tempdir().unwrap();
    let kr = Keyring::open(home.path(), Backend::Test).unwrap();
    (home, kr)
}

fn file_keyring(home: &std::path::Path, passphrase: &str) -> Keyring {
    Keyring::open_with_passphrase(home, Backend::File, Passphrase::fixed(passphrase)).unwrap()
}

#[test]
fn known_vector_matches_cosmos_address() {
    let key = derive_from_mnemonic(ABANDON, "m/44'/118'/0'/0/0").unwrap();
    let address = address_of(&key.public_key());

    let (cosmos_hrp, cosmos_data) = bech32::decode(COSMOS_ABANDON_ADDR).unwrap();
    let (hrp, data) = bech32::decode(&address).unwrap();
    assert_eq!(cosmos_hrp.as_str(), "cosmos");
    assert_eq!(hrp.as_str(), ADDRESS_PREFIX);
    assert_eq!(data.len(), 20);
    assert_eq!(data, cosmos_data);
    assert_eq!(key.public_key().to_bytes().len(), 33);

    // The cosmrs helper named in the brief agrees.
    assert_eq!(
        key.public_key()
            .account_id(ADDRESS_PREFIX)
            .unwrap()
            .to_string(),
        address
    );
}

#[test]
fn hd_path_changes_the_key() {
    let a = derive_from_mnemonic(ABANDON, DEFAULT_HD_PATH).unwrap();
    let b = derive_from_mnemonic(ABANDON, "m/44'/118'/0'/0/1").unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let err = err_msg(derive_from_mnemonic(ABANDON, "not/a/path"));
    assert!(err.contains("invalid HD path"), "{err}");

    let home = tempfile::tempdir().unwrap();
    let kr = Keyring::open(home.path(), Backend::Test)
        .unwrap()
        .with_hd_path("m/44'/118'/0'/0/1")
        .unwrap();
    let info = kr.recover("idx1", ABANDON, false).unwrap();
    assert_eq!(info.address, address_of(&b.public_key()));
}

#[test]
fn backend_from_str() {
    assert_eq!("test".parse::<Backend>().unwrap(), Backend::Test);
    assert_eq!("file".parse::<Backend>().unwrap(), Backend::File);
    let err = "os".parse::<Backend>().unwrap_err().to_string();
    assert!(err.contains("unknown keyring backend 'os'"), "{err}");
}

#[test]
fn add_list_get_sign_delete() {
    let (home, kr) = test_keyring();
    let new = kr.add("alice", false).unwrap();
    assert_eq!(new.mnemonic.split_whitespace().count(), 24);
    assert!(new.info.address.starts_with("surety1"));
    assert_eq!(new.info.pubkey.len(), 33);
    kr.add("bob", false).unwrap();

    let names: Vec<_> = kr.list().unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["alice", "bob"]);

    assert_eq!(kr.get("alice").unwrap(), new.info);
    assert_eq!(kr.get(&new.info.address).unwrap(), new.info);

    let key = kr.signing_key(&new.info.address).unwrap();
    assert_eq!(key.public_key().to_bytes(), new.info.pubkey);
    assert_eq!(new.info.public_key().unwrap(), key.public_key());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(home.path().join("keyring-test/alice.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    kr.delete("alice").unwrap();
    let err = err_msg(kr.get("alice"));
    assert!(err.contains("key 'alice' not found"), "{err}");
    assert!(kr.get(&new.info.address).is_err());
    assert!(err_msg(kr.delete("alice")).contains("not found"));
    assert_eq!(kr.list().unwrap().len(), 1);
}

#[test]
fn recover_matches_add_and_rejects_bad_input() {
    let (_home, kr) = test_keyring();
    let new = kr.add("orig", false).unwrap();
    kr.delete("orig").unwrap();
    let recovered = kr.recover("copy", &new.mnemonic, false).unwrap();
    assert_eq!(recovered.address, new.info.address);

    // Duplicate name, then explicit overwrite.
    let err = err_msg(kr.recover("copy", ABANDON, false));
    assert!(err.contains("already exists"), "{err}");
    let replaced = kr.recover("copy", ABANDON, true).unwrap();
    assert_ne!(replaced.address, new.info.address);

    // Same address under a second name would make address lookups ambiguous.
    let err = err_msg(kr.recover("other", ABANDON, false));
    assert!(err.contains("already stored as key 'copy'"), "{err}");

    for bad in ["", "a b", "../x", "x/y", "é", &"n".repeat(65)] {
        let err = err_msg(kr.add(bad, false));
        assert!(err.contains("invalid key name"), "{bad:?}: {err}");
    }
    kr.add(&"n".repeat(64), false).unwrap();
    kr.add("A.b_c-9", false).unwrap();

    let bad_checksum = ABANDON.replace("about", "abandon");
    for bad in [
        "",
        "hello world",
        "abandon abandon abandon",
        bad_checksum.as_str(),
    ] {
        let err = err_msg(kr.recover("m", bad, false));
        assert!(err.contains("invalid mnemonic"), "{bad:?}: {err}");
    }
}

#[test]
fn import_export_roundtrip() {
    let (_home, kr) = test_keyring();
    let info = kr.recover("a", ABANDON, false).unwrap();
    let hex = kr.export_private_hex("a").unwrap();
    assert_eq!(hex.len(), 64);

    let (_home2, kr2) = test_keyring();
    let imported = kr2.import_private_hex("b", &format!("0x{hex}\n")).unwrap();
    assert_eq!(imported.address, info.address);
    assert_eq!(kr2.export_private_hex("b").unwrap(), hex);

    assert!(err_msg(kr2.import_private_hex("c", "zz")).contains("invalid private key"));
    assert!(err_msg(kr2.import_private_hex("c", "abcd")).contains("32 bytes"));
    assert!(err_msg(kr2.import_private_hex("b", &hex)).contains("already exists"));
}

#[test]
fn file_backend_encrypts_at_rest() {
    let home = tempfile::tempdir().unwrap();
    let kr = file_keyring(home.path(), "correct horse battery staple");
    let info = kr.recover("val", ABANDON, false).unwrap();

    let secret_hex = {
        let (_h, plain) = test_keyring();
        plain.recover("val", ABANDON, false).unwrap();
        plain.export_private_hex("val").unwrap()
    };
    let secret = hex::decode(&secret_hex).unwrap();
    let at_rest = fs::read(home.path().join("keyring-file/val.json")).unwrap();
    let at_rest_text = String::from_utf8_lossy(&at_rest).to_lowercase();
    assert!(
        !at_rest_text.contains(&secret_hex),
        "hex private key stored in clear"
    );
    assert!(
        !at_rest.windows(secret.len()).any(|w| w == secret),
        "raw private key stored in clear"
    );
    assert!(!at_rest_text.contains("abandon"), "mnemonic stored");

    // Public info needs no passphrase: a keyring with the wrong one still lists/shows.
    let wrong = file_keyring(home.path(), "wrong passphrase");
    assert_eq!(wrong.list().unwrap(), vec![info.clone()]);
    assert_eq!(wrong.get(&info.address).unwrap(), info);

    let err = err_msg(wrong.signing_key("val"));
    assert!(err.contains("passphrase"), "{err}");
    assert!(wrong.export_private_hex("val").is_err());

    let right = file_keyring(home.path(), "correct horse battery staple");
    assert_eq!(
        right.signing_key("val").unwrap().public_key().to_bytes(),
        info.pubkey
    );
    assert_eq!(right.export_private_hex("val").unwrap(), secret_hex);

    let empty =
        Keyring::open_with_passphrase(home.path(), Backend::File, Passphrase::fixed("")).unwrap();
    let err = err_msg(empty.signing_key("val"));
    assert!(err.contains("passphrase must not be empty"), "{err}");
}

#[test]
fn file_backend_detects_swapped_ciphertext() {
    let home = tempfile::tempdir().unwrap();
    let kr = file_keyring(home.path(), "pw-pw-pw-pw");
    kr.add("a", false).unwrap();
    kr.add("b", false).unwrap();
    // Graft b's sealed private key into a's file: the AEAD binding to a's pubkey must reject it.
    let dir = home.path().join("keyring-file");
    let mut a: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("a.json")).unwrap()).unwrap();
    let b: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("b.json")).unwrap()).unwrap();
    a["crypto"] = b["crypto"].clone();
    fs::write(dir.join("a.json"), serde_json::to_vec(&a).unwrap()).unwrap();
    assert!(kr.signing_key("a").is_err());
    assert!(kr.signing_key("b").is_ok());
}

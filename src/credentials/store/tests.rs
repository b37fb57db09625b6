//! The stores' own tests: entry names and the secrets file.

use super::*;

fn file_store() -> (tempfile::TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(
        &Paths {
            dir: dir.path().to_path_buf(),
        },
        Notes::default(),
    );
    (dir, store)
}

#[test]
fn file_store_round_trip() {
    let (_dir, store) = file_store();
    let key = SecretKey::app_secret("p", "app");
    assert_eq!(store.get(&key).unwrap(), None);
    store.set(&key, &Secret::new("s1")).unwrap();
    store
        .set(&SecretKey::refresh_token("p", "i"), &Secret::new("r1"))
        .unwrap();
    assert_eq!(store.get(&key).unwrap().unwrap().expose(), "s1");
    store.delete(&key).unwrap();
    store.delete(&key).unwrap();
    assert_eq!(store.get(&key).unwrap(), None);
    assert_eq!(
        store
            .get(&SecretKey::refresh_token("p", "i"))
            .unwrap()
            .unwrap()
            .expose(),
        "r1"
    );
}

#[test]
fn malformed_secrets_file_error_does_not_quote_it() {
    let (_dir, store) = file_store();
    std::fs::write(&store.path, "\"p/app-secret\" = \"topsecret\nbroken").unwrap();
    let err = store.get(&SecretKey::app_secret("p", "app")).unwrap_err();
    assert!(!err.to_string().contains("topsecret"), "{err}");
    assert!(err.to_string().contains("malformed"), "{err}");
}

#[test]
fn file_store_is_removed_when_empty() {
    let (_dir, store) = file_store();
    let key = SecretKey::app_secret("p", "app");
    store.set(&key, &Secret::new("s1")).unwrap();
    store.delete(&key).unwrap();
    assert!(!store.path.exists());
}

#[test]
fn entry_names_are_distinct() {
    assert_ne!(
        SecretKey::legacy_app_secret("a").entry_name(),
        SecretKey::refresh_token("a", "app-secret").entry_name()
    );
}

#[test]
fn a_profile_owns_exactly_its_own_entries() {
    let of_ci = |name: &str| entry_of(name, "ci");
    for mine in [
        "ci/app-secret",
        "ci/app-secret#app-1",
        "ci/inst-1/refresh-token",
        "ci/headless-client/refresh-token",
        "ci/webhook-dev-key#k1",
        "ci/client-secret#client-1",
        "ci/api-key",
    ] {
        assert!(of_ci(mine), "{mine}");
    }
    for theirs in [
        "ci/staging/app-secret",
        "ci/staging/app-secret#app-1",
        "ci/staging/inst-1/refresh-token",
        "ci/staging/webhook-dev-key#k1",
        "cib/app-secret",
        "ci",
        "ci/app-secret#a/b",
        "ci/staging/api-key",
        "ci/staging/client-secret#client-1",
    ] {
        assert!(!of_ci(theirs), "{theirs}");
    }
    assert!(entry_of("ci/staging/app-secret", "ci/staging"));
}

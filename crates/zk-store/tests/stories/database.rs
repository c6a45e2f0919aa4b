//! The database as a whole: migrations, timestamps.

#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn migrations_apply_fully_and_are_idempotent() {
    each_database(|db| async move {
        let store = db.open_unmigrated_store().await;
        assert_eq!(store.backend(), db.backend(), "the store reports the backend it was opened on");
        let (applied, known) = store.migration_status().await.unwrap();
        assert!(known >= 1, "the backend ships at least the foundation migration");
        assert_eq!(applied, 0, "a never-migrated database has no migration applied");

        store.migrate().await.unwrap();
        assert_eq!(store.migration_status().await.unwrap(), (known, known), "migrate applies every known migration");

        store.migrate().await.expect("migrating an up-to-date database is a no-op, not an error");
        assert_eq!(store.migration_status().await.unwrap(), (known, known), "a second migrate applies nothing new");

        store.ping().await.expect("ping is a round trip to a live database");
        store.close().await;
        assert!(store.ping().await.is_err(), "a closed store cannot reach its database");

        // The schema lives in the database, not in the process: a new store sees it migrated.
        let reopened = db.open_unmigrated_store().await;
        assert_eq!(reopened.migration_status().await.unwrap(), (known, known), "migrations persist across opens");
        reopened.close().await;
    })
    .await;
}

#[tokio::test]
async fn timestamps_round_trip_identically_on_both_backends() {
    each_backend(|store| async move {
        let instants = [
            ("the epoch", 0),
            ("one millisecond before the epoch", -1),
            ("odd milliseconds", T0_MILLIS),
            ("the last millisecond of 9999", 253_402_300_799_999),
        ];
        for (label, millis) in instants {
            let t = Timestamp::from_millis(millis).unwrap();
            let key = format!("instant.{millis}");
            store.set_config_entry(&key, &json!(label), None, t).await.unwrap();
            let stored = store.config_entry(&key).await.unwrap().unwrap().updated_at;
            assert_eq!(stored, t, "{label} ({millis} ms) is stored and read back exactly");
            assert_eq!(stored.millis(), millis, "{label} keeps its milliseconds");
        }
    })
    .await;
}

#[tokio::test]
async fn pool_stats_tell_open_idle_and_most_connections() {
    each_backend(|store| async move {
        store.ping().await.unwrap();
        let stats = store.pool_stats();
        assert!(stats.size >= 1, "a round trip left a connection open: {stats:?}");
        assert!(stats.idle <= stats.size && stats.size <= stats.max, "idle <= open <= most: {stats:?}");
    })
    .await;
}

//! The outbox of object-storage sync: queued with the file row, claimed under a lease, resumed,
//! finished, deferred, failed, requeued, and turned into a tombstone with the last reference.

#![allow(clippy::unwrap_used)]

use zk_store::{SyncOp, SyncRecord, SyncState};

use super::*;

fn file_row(id: &str, sha: &str, size: i64, now: Timestamp) -> FileRecord {
    FileRecord {
        id: id.to_owned(),
        sha256: sha.repeat(64),
        size,
        media_type: "text/plain".into(),
        original_name: format!("{id}.txt"),
        uploaded_by: None,
        created_at: now,
    }
}

async fn row(store: &Arc<dyn Store>, sha: &str) -> SyncRecord {
    store.sync_record(&sha.repeat(64)).await.unwrap().expect("the content has an outbox row")
}

fn state(record: &SyncRecord) -> (Option<SyncOp>, Option<SyncState>) {
    (record.op(), record.state())
}

#[tokio::test]
async fn every_stored_file_queues_its_content_once_in_the_same_transaction() {
    each_backend(|store| async move {
        store.insert_file(&file_row("f1", "a", 5 * 1024 * 1024 * 1024, at(1))).await.unwrap();
        let queued = row(&store, "a").await;
        assert_eq!(state(&queued), (Some(SyncOp::Upload), Some(SyncState::Pending)));
        assert_eq!((queued.size, queued.attempts, queued.next_attempt_at), (5 * 1024 * 1024 * 1024, 0, at(1)));
        assert!(queued.parts.0.is_empty() && queued.upload_id.is_none() && queued.claimed_by.is_none());

        // The same content again: still one row, unchanged.
        store.insert_file(&file_row("f2", "a", 5 * 1024 * 1024 * 1024, at(2))).await.unwrap();
        assert_eq!(format!("{:?}", row(&store, "a").await), format!("{queued:?}"), "one row per content");

        // A file whose row fails (duplicate id) queues nothing.
        assert!(store.insert_file(&file_row("f1", "b", 3, at(3))).await.is_err());
        assert!(store.sync_record(&"b".repeat(64)).await.unwrap().is_none(), "a refused file queues nothing");

        // Through a unit of work: nothing before the commit, nothing after a rollback.
        let mut unit = store.begin().await.unwrap();
        unit.insert_file(&file_row("f3", "c", 3, at(3))).await.unwrap();
        drop(unit);
        assert!(store.sync_record(&"c".repeat(64)).await.unwrap().is_none(), "a rolled-back unit queues nothing");
        let mut unit = store.begin().await.unwrap();
        unit.insert_file(&file_row("f3", "c", 3, at(3))).await.unwrap();
        unit.commit().await.unwrap();
        assert_eq!(state(&row(&store, "c").await), (Some(SyncOp::Upload), Some(SyncState::Pending)));

        let counts = store.sync_counts().await.unwrap();
        assert_eq!((counts.pending, counts.pending_bytes), (2, 5 * 1024 * 1024 * 1024 + 3), "{counts:?}");
        assert_eq!((counts.deleting, counts.failed, counts.synced), (0, 0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_claimed_row_belongs_to_its_lease_until_it_runs_out() {
    each_backend(|store| async move {
        store.insert_file(&file_row("f1", "a", 10, at(1))).await.unwrap();
        store.insert_file(&file_row("f2", "b", 20, at(5))).await.unwrap();
        assert!(store.claim_sync("x", at(0), at(60)).await.unwrap().is_none(), "nothing is due before its time");

        let first = store.claim_sync("x", at(10), at(70)).await.unwrap().expect("the most overdue row");
        assert_eq!(
            (first.sha256.as_str(), first.state(), first.attempts),
            ("a".repeat(64).as_str(), Some(SyncState::Uploading), 1)
        );
        assert_eq!((first.claimed_by.as_deref(), first.lease_until), (Some("x"), Some(at(70))));
        let second = store.claim_sync("y", at(10), at(70)).await.unwrap().expect("the other row");
        assert_eq!(second.sha256, "b".repeat(64), "a claimed row is never handed out twice");
        assert!(store.claim_sync("z", at(10), at(70)).await.unwrap().is_none(), "both are claimed");

        // Only the lease holder moves a row.
        assert!(!store.finish_sync(&first.sha256, "y", SyncOp::Upload, at(11)).await.unwrap(), "not y's lease");
        assert!(!store.sync_progress(&first.sha256, "y", Some("u"), &[], at(11), at(80)).await.unwrap());
        assert!(!store.defer_sync(&first.sha256, "y", "no", at(20), at(11)).await.unwrap());
        assert!(!store.fail_sync(&first.sha256, "y", "no", at(11)).await.unwrap());

        // x's lease runs out: z takes the row over, and x can no longer finish it.
        let taken = store.claim_sync("z", at(71), at(131)).await.unwrap().expect("an expired lease is claimed again");
        assert_eq!((taken.sha256.as_str(), taken.attempts), (first.sha256.as_str(), 2));
        assert!(!store.finish_sync(&first.sha256, "x", SyncOp::Upload, at(72)).await.unwrap(), "x lost the lease");
        assert!(store.finish_sync(&first.sha256, "z", SyncOp::Upload, at(72)).await.unwrap());
        let done = row(&store, "a").await;
        assert_eq!(state(&done), (Some(SyncOp::Upload), Some(SyncState::Synced)));
        assert_eq!((done.synced_at, done.claimed_by.as_deref(), done.lease_until), (Some(at(72)), None, None));
        let counts = store.sync_counts().await.unwrap();
        assert_eq!((counts.pending, counts.pending_bytes, counts.synced), (1, 20, 1), "{counts:?}");
    })
    .await;
}

#[tokio::test]
async fn a_multipart_upload_keeps_its_parts_across_deferrals_until_it_finishes() {
    each_backend(|store| async move {
        store.insert_file(&file_row("f1", "a", 10, at(1))).await.unwrap();
        let claimed = store.claim_sync("x", at(2), at(62)).await.unwrap().unwrap();
        let parts = vec!["\"etag-1\"".to_owned(), "\"etag-2\"".to_owned()];
        assert!(store.sync_progress(&claimed.sha256, "x", Some("upload-1"), &parts, at(3), at(90)).await.unwrap());
        let progressed = row(&store, "a").await;
        assert_eq!((progressed.upload_id.as_deref(), &progressed.parts.0), (Some("upload-1"), &parts));
        assert_eq!(progressed.lease_until, Some(at(90)), "progress extends the lease");

        // The store went away: pending again after a backoff, the parts kept for the next attempt.
        assert!(store.defer_sync(&claimed.sha256, "x", "the bucket answers 503", at(30), at(4)).await.unwrap());
        let deferred = row(&store, "a").await;
        assert_eq!(state(&deferred), (Some(SyncOp::Upload), Some(SyncState::Pending)));
        assert_eq!(
            (deferred.next_attempt_at, deferred.last_error.as_deref()),
            (at(30), Some("the bucket answers 503"))
        );
        assert_eq!((deferred.upload_id.as_deref(), &deferred.parts.0), (Some("upload-1"), &parts), "resumable");
        assert_eq!(store.last_sync_error().await.unwrap().as_deref(), Some("the bucket answers 503"));
        assert!(store.claim_sync("x", at(29), at(89)).await.unwrap().is_none(), "not before the backoff ends");

        let again = store.claim_sync("y", at(30), at(90)).await.unwrap().expect("due again");
        assert_eq!((again.attempts, again.upload_id.as_deref(), again.parts.0.len()), (2, Some("upload-1"), 2));
        assert!(store.finish_sync(&again.sha256, "y", SyncOp::Upload, at(31)).await.unwrap());
        let done = row(&store, "a").await;
        assert!(done.upload_id.is_none() && done.parts.0.is_empty() && done.last_error.is_none(), "{done:?}");
        assert!(store.last_sync_error().await.unwrap().is_none(), "a synced row's old error is not shown");
    })
    .await;
}

#[tokio::test]
async fn failed_rows_wait_for_a_requeue_and_sync_now_makes_pending_rows_due() {
    each_backend(|store| async move {
        store.insert_file(&file_row("f1", "a", 10, at(1))).await.unwrap();
        store.insert_file(&file_row("f2", "b", 10, at(1))).await.unwrap();
        let a = store.claim_sync("x", at(2), at(62)).await.unwrap().unwrap();
        assert!(store.fail_sync(&a.sha256, "x", "the local copy is gone", at(3)).await.unwrap());
        let b = store.claim_sync("x", at(3), at(63)).await.unwrap().unwrap();
        assert!(store.defer_sync(&b.sha256, "x", "timed out", at(600), at(4)).await.unwrap());
        assert!(store.claim_sync("x", at(5), at(65)).await.unwrap().is_none(), "failed is not claimed, b waits");
        let counts = store.sync_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (1, 1), "{counts:?}");

        assert_eq!(store.requeue_sync(at(6)).await.unwrap(), 2);
        let requeued = row(&store, "a").await;
        assert_eq!(
            (requeued.state(), requeued.attempts, requeued.next_attempt_at),
            (Some(SyncState::Pending), 0, at(6))
        );
        assert_eq!(row(&store, "b").await.next_attempt_at, at(6), "sync now: due at once");
        assert_eq!(row(&store, "b").await.attempts, 1, "a deferral's attempts are kept (its backoff grows)");
        assert!(store.claim_sync("x", at(6), at(66)).await.unwrap().is_some());
        assert!(store.claim_sync("x", at(6), at(66)).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn the_last_reference_going_leaves_a_tombstone_and_a_new_reference_revives_the_content() {
    each_backend(|store| async move {
        store.insert_file(&file_row("f1", "a", 10, at(1))).await.unwrap();
        store.insert_file(&file_row("f2", "a", 10, at(1))).await.unwrap();
        let claimed = store.claim_sync("x", at(2), at(62)).await.unwrap().unwrap();
        assert!(store.finish_sync(&claimed.sha256, "x", SyncOp::Upload, at(3)).await.unwrap());

        assert_eq!(store.delete_file("f1").await.unwrap(), Some(1));
        assert_eq!(state(&row(&store, "a").await), (Some(SyncOp::Upload), Some(SyncState::Synced)), "f2 holds it");
        assert_eq!(store.delete_file("f2").await.unwrap(), Some(0));
        assert_eq!(state(&row(&store, "a").await), (Some(SyncOp::Delete), Some(SyncState::Pending)), "a tombstone");
        assert_eq!(store.sync_counts().await.unwrap().deleting, 1);

        let tomb = store.claim_sync("x", at(4), at(64)).await.unwrap().expect("the tombstone is due");
        assert_eq!(tomb.op(), Some(SyncOp::Delete));
        // Stored again while the deletion is in flight: the deletion finishes, then the upload is due.
        store.insert_file(&file_row("f3", "a", 10, at(5))).await.unwrap();
        assert_eq!(state(&row(&store, "a").await), (Some(SyncOp::Upload), Some(SyncState::Uploading)));
        assert!(store.finish_sync(&tomb.sha256, "x", SyncOp::Delete, at(6)).await.unwrap());
        let revived = row(&store, "a").await;
        assert_eq!(state(&revived), (Some(SyncOp::Upload), Some(SyncState::Pending)), "uploaded again");
        assert_eq!((revived.attempts, revived.next_attempt_at), (0, at(6)));

        // Deleted during its upload: the upload finishes, then the deletion is due.
        let up = store.claim_sync("x", at(7), at(67)).await.unwrap().unwrap();
        assert_eq!(store.delete_file("f3").await.unwrap(), Some(0));
        assert!(store.finish_sync(&up.sha256, "x", SyncOp::Upload, at(8)).await.unwrap());
        assert_eq!(state(&row(&store, "a").await), (Some(SyncOp::Delete), Some(SyncState::Pending)));
        let tomb = store.claim_sync("x", at(8), at(68)).await.unwrap().unwrap();
        assert!(store.finish_sync(&tomb.sha256, "x", SyncOp::Delete, at(9)).await.unwrap());
        assert_eq!(state(&row(&store, "a").await), (Some(SyncOp::Delete), Some(SyncState::Synced)));

        // Stored again after the deletion was applied: pending upload.
        store.insert_file(&file_row("f4", "a", 10, at(10))).await.unwrap();
        let again = row(&store, "a").await;
        assert_eq!(state(&again), (Some(SyncOp::Upload), Some(SyncState::Pending)));
        assert_eq!(again.next_attempt_at, at(10));
        let listed: Vec<String> = store.sync_records(None, 10).await.unwrap().into_iter().map(|r| r.sha256).collect();
        assert_eq!(listed, ["a".repeat(64)]);
        assert!(store.sync_records(Some(&"a".repeat(64)), 10).await.unwrap().is_empty(), "after pages on");
    })
    .await;
}

#[tokio::test]
async fn claimers_at_once_never_share_a_row() {
    each_backend(|store| async move {
        for i in 0..40 {
            let mut file = file_row(&format!("f{i:02}"), "0", 1, at(1));
            file.sha256 = format!("{i:064x}");
            store.insert_file(&file).await.unwrap();
        }
        let claimers = (0..4).map(|c| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(row) = store.claim_sync(&format!("c{c}"), at(2), at(62)).await.unwrap() {
                    mine.push(row.sha256);
                }
                mine
            })
        });
        let mut all = Vec::new();
        for claimer in claimers.collect::<Vec<_>>() {
            all.extend(claimer.await.unwrap());
        }
        let distinct: BTreeSet<_> = all.iter().cloned().collect();
        assert_eq!((all.len(), distinct.len()), (40, 40), "every row claimed exactly once");
    })
    .await;
}

//! Files' metadata.

#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn files_are_inserted_listed_by_id_and_deleted_with_a_reference_count() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        let file = |id: &str, sha: &str, secs: i64| FileRecord {
            id: id.to_owned(),
            sha256: sha.repeat(64),
            size: 5 * 1024 * 1024 * 1024, // beyond 32 bits, to catch a narrowing column
            media_type: "image/vnd.dxf".to_owned(),
            original_name: format!("平面图-{id}.dxf"),
            uploaded_by: Some(gina.id),
            created_at: at(secs),
        };
        // Ids sort in upload order, as the file service's time-ordered ids do.
        let (a, b, c) = (file("f-0001", "a", 1), file("f-0002", "b", 2), file("f-0003", "a", 3));
        for f in [&a, &b, &c] {
            store.insert_file(f).await.unwrap();
        }
        let err = store.insert_file(&a).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "file ids are unique, got {err:?}");

        let read = store.file("f-0001").await.unwrap().expect("the file is found by id");
        assert_eq!(read.sha256, "a".repeat(64));
        assert_eq!(read.size, 5 * 1024 * 1024 * 1024, "the size keeps all 64 bits");
        assert_eq!(read.media_type, "image/vnd.dxf");
        assert_eq!(read.original_name, "平面图-f-0001.dxf", "the original name round-trips in any script");
        assert_eq!((read.uploaded_by, read.created_at), (Some(gina.id), at(1)));
        assert!(store.file("f-9999").await.unwrap().is_none(), "an unknown id finds no file");

        let ids_of = |files: Vec<FileRecord>| files.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(
            ids_of(store.list_files(None, 10).await.unwrap()),
            ["f-0003", "f-0002", "f-0001"],
            "newest id first"
        );
        assert_eq!(ids_of(store.list_files(None, 2).await.unwrap()), ["f-0003", "f-0002"], "limit caps the page");
        assert_eq!(ids_of(store.list_files(Some("f-0002"), 2).await.unwrap()), ["f-0001"], "before pages backwards");
        assert!(store.list_files(Some("f-0001"), 2).await.unwrap().is_empty(), "nothing is older than the first");

        assert_eq!(store.delete_file("f-0001").await.unwrap(), Some(1), "f-0003 still holds the same content");
        assert!(store.file("f-0001").await.unwrap().is_none(), "a deleted file is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), Some(0), "the last reference to the content is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), None, "deleting twice finds nothing the second time");
        assert_eq!(store.delete_file("f-9999").await.unwrap(), None, "an unknown file cannot be deleted");
        assert_eq!(ids_of(store.list_files(None, 10).await.unwrap()), ["f-0002"], "only the unrelated file remains");
    })
    .await;
}

//! Files' metadata.

#![allow(clippy::unwrap_used)]

use zk_store::FileScope;

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
            ids_of(store.list_files(FileScope::All, None, 10).await.unwrap()),
            ["f-0003", "f-0002", "f-0001"],
            "newest id first"
        );
        assert_eq!(
            ids_of(store.list_files(FileScope::All, None, 2).await.unwrap()),
            ["f-0003", "f-0002"],
            "limit caps the page"
        );
        assert_eq!(
            ids_of(store.list_files(FileScope::All, Some("f-0002"), 2).await.unwrap()),
            ["f-0001"],
            "before pages backwards"
        );
        assert!(
            store.list_files(FileScope::All, Some("f-0001"), 2).await.unwrap().is_empty(),
            "nothing is older than the first"
        );

        assert_eq!(store.delete_file("f-0001").await.unwrap(), Some(1), "f-0003 still holds the same content");
        assert!(store.file("f-0001").await.unwrap().is_none(), "a deleted file is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), Some(0), "the last reference to the content is gone");
        assert_eq!(store.delete_file("f-0003").await.unwrap(), None, "deleting twice finds nothing the second time");
        assert_eq!(store.delete_file("f-9999").await.unwrap(), None, "an unknown file cannot be deleted");
        assert_eq!(
            ids_of(store.list_files(FileScope::All, None, 10).await.unwrap()),
            ["f-0002"],
            "only the unrelated file remains"
        );
    })
    .await;
}

#[tokio::test]
async fn a_scope_holds_a_users_uploads_and_the_files_of_library_drawings() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        let hugo = store.create_user(new_user("hugo", Role::Designer, at(0))).await.unwrap();
        let vera = store.create_user(new_user("vera", Role::Viewer, at(0))).await.unwrap();
        let file = |id: &str, uploader: Option<i64>, secs: i64| FileRecord {
            id: id.to_owned(),
            sha256: "d".repeat(64),
            size: 10,
            media_type: "image/vnd.dxf".to_owned(),
            original_name: format!("{id}.dxf"),
            uploaded_by: uploader,
            created_at: at(secs),
        };
        // f-1: gina's chat attachment; f-2: the file of her drawing in the CAD library; f-3: hugo's
        // attachment; f-4: an upload whose uploader was deleted.
        for f in [file("f-1", Some(gina.id), 1), file("f-2", Some(gina.id), 2), file("f-3", Some(hugo.id), 3)] {
            store.insert_file(&f).await.unwrap();
        }
        store.insert_file(&file("f-4", None, 4)).await.unwrap();
        let content = zk_store::CadDrawingWrite {
            name: "f-2.dxf".into(),
            format: "dxf".into(),
            sha256: "d".repeat(64),
            size_bytes: 10,
            acad_version: None,
            release: None,
            units: None,
            entity_count: 0,
            layouts: json!(["Model"]),
            status: "ready".into(),
            error: None,
            facts: None,
            diagnostics: json!([]),
            thumbnail: None,
            thumbnail_sha256: None,
            now: at(5),
        };
        store
            .insert_cad_drawing(&zk_store::NewCadDrawing {
                id: "d-1".into(),
                source: "upload".into(),
                file_id: Some("f-2".into()),
                folder_root: None,
                folder_path: None,
                uploaded_by: Some(gina.id),
                content,
            })
            .await
            .unwrap();

        let ids = |files: Vec<FileRecord>| files.into_iter().map(|f| f.id).collect::<Vec<_>>();
        let listed = |scope| {
            let store = store.clone();
            async move { ids(store.list_files(scope, None, 10).await.unwrap()) }
        };
        assert_eq!(listed(FileScope::All).await, ["f-4", "f-3", "f-2", "f-1"], "every file");
        assert_eq!(listed(FileScope::OwnAndShared(gina.id)).await, ["f-2", "f-1"], "her uploads");
        assert_eq!(listed(FileScope::OwnAndShared(hugo.id)).await, ["f-3", "f-2"], "his upload and the drawing's file");
        assert_eq!(listed(FileScope::OwnAndShared(vera.id)).await, ["f-2"], "only the drawing's file");
        assert_eq!(
            ids(store.list_files(FileScope::OwnAndShared(hugo.id), Some("f-3"), 10).await.unwrap()),
            ["f-2"],
            "before pages backwards within the scope"
        );
        assert_eq!(
            ids(store.list_files(FileScope::OwnAndShared(hugo.id), None, 1).await.unwrap()),
            ["f-3"],
            "limit caps the page within the scope"
        );

        let found = |id: &'static str, scope| {
            let store = store.clone();
            async move { store.scoped_file(id, scope).await.unwrap().map(|f| f.id) }
        };
        assert_eq!(found("f-1", FileScope::OwnAndShared(gina.id)).await.as_deref(), Some("f-1"), "her own");
        assert_eq!(found("f-1", FileScope::OwnAndShared(hugo.id)).await, None, "not another user's upload");
        assert_eq!(found("f-1", FileScope::OwnAndShared(vera.id)).await, None);
        assert_eq!(found("f-2", FileScope::OwnAndShared(vera.id)).await.as_deref(), Some("f-2"), "a drawing's file");
        assert_eq!(found("f-4", FileScope::OwnAndShared(gina.id)).await, None, "an upload of nobody is no one's");
        assert_eq!(found("f-4", FileScope::All).await.as_deref(), Some("f-4"));
        assert_eq!(found("f-9", FileScope::All).await, None, "an unknown id");

        // The drawing deleted, its file is its uploader's alone again.
        store.delete_cad_drawing("d-1").await.unwrap();
        assert_eq!(found("f-2", FileScope::OwnAndShared(vera.id)).await, None);
        assert_eq!(found("f-2", FileScope::OwnAndShared(gina.id)).await.as_deref(), Some("f-2"));
    })
    .await;
}

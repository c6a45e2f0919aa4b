//! The CAD library: drawings, thumbnails, analyses.

#![allow(clippy::unwrap_used)]

use super::*;

fn drawing_content(name: &str, sha: &str, thumbnail: Option<&[u8]>, now: Timestamp) -> zk_store::CadDrawingWrite {
    zk_store::CadDrawingWrite {
        name: name.to_owned(),
        format: "dxf".into(),
        sha256: sha.repeat(64),
        size_bytes: 5 * 1024 * 1024 * 1024,
        acad_version: Some("AC1015".into()),
        release: Some("R2000".into()),
        units: Some("millimeters".into()),
        entity_count: 4,
        layouts: json!(["Model", "布局1"]),
        status: "ready".into(),
        error: None,
        facts: Some(json!({ "version": "AC1015", "texts": [{ "text": "客厅" }] })),
        diagnostics: json!([{ "severity": "info", "code": "undeclared_name", "message": "layer Notes", "location": null }]),
        thumbnail: thumbnail.map(<[u8]>::to_vec),
        thumbnail_sha256: thumbnail.map(|_| "c".repeat(64)),
        now,
    }
}

/// A drawing of the watched folder `root`, at `path` in it (named as the file).
fn folder_drawing(id: &str, root: &str, path: &str, sha: &str, now: Timestamp) -> zk_store::NewCadDrawing {
    zk_store::NewCadDrawing {
        id: id.to_owned(),
        source: "folder".into(),
        file_id: None,
        folder_root: Some(root.to_owned()),
        folder_path: Some(path.to_owned()),
        uploaded_by: None,
        content: drawing_content(path.rsplit('/').next().unwrap_or(path), sha, None, now),
    }
}

#[tokio::test]
async fn cad_drawings_are_stored_listed_searched_updated_and_deleted() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        let file = FileRecord {
            id: "f-0001".into(),
            sha256: "a".repeat(64),
            size: 100,
            media_type: "image/vnd.dxf".into(),
            original_name: "平面图.dxf".into(),
            uploaded_by: Some(gina.id),
            created_at: at(1),
        };
        store.insert_file(&file).await.unwrap();
        let png = b"\x89PNG\r\n\x1a\nthumbnail".as_slice();
        let upload = store
            .insert_cad_drawing(&zk_store::NewCadDrawing {
                id: "d-0001".into(),
                source: "upload".into(),
                file_id: Some(file.id.clone()),
                folder_root: None,
                folder_path: None,
                uploaded_by: Some(gina.id),
                content: drawing_content("一层平面图.dxf", "a", Some(png), at(2)),
            })
            .await
            .unwrap();
        assert_eq!((upload.name.as_str(), upload.size_bytes), ("一层平面图.dxf", 5 * 1024 * 1024 * 1024));
        assert_eq!((upload.created_at, upload.updated_at, upload.uploaded_by), (at(2), at(2), Some(gina.id)));
        assert_eq!(upload.layouts.0, json!(["Model", "布局1"]));
        assert_eq!(upload.latest_analysis_id, None, "no analysis yet");
        let folder = store
            .insert_cad_drawing(&folder_drawing("d-0002", "host-a:/data/drawings", "A 栋/立面.dxf", "b", at(3)))
            .await
            .unwrap();
        let err = store
            .insert_cad_drawing(&folder_drawing("d-0003", "host-a:/data/drawings", "A 栋/立面.dxf", "b", at(3)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "one drawing per folder file, got {err:?}");
        // Another server's folder may hold a file of the same path.
        store
            .insert_cad_drawing(&folder_drawing("d-0000", "host-b:/data/drawings", "A 栋/立面.dxf", "b", at(1)))
            .await
            .unwrap();
        assert_eq!((folder.source.as_str(), folder.folder_path.as_deref()), ("folder", Some("A 栋/立面.dxf")));

        let ids = |records: Vec<zk_store::CadDrawingRecord>| records.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list_cad_drawings(None, None, 10).await.unwrap()),
            ["d-0002", "d-0001", "d-0000"],
            "newest first"
        );
        assert_eq!(ids(store.list_cad_drawings(None, Some("d-0002"), 1).await.unwrap()), ["d-0001"], "paged by id");
        assert_eq!(
            ids(store.list_cad_drawings(None, Some("d-0002"), 10).await.unwrap()),
            ["d-0001", "d-0000"],
            "everything after the cursor, in order"
        );
        assert_eq!(
            ids(store.list_cad_drawings(Some("平面"), None, 10).await.unwrap()),
            ["d-0001"],
            "Chinese substrings"
        );
        assert_eq!(ids(store.list_cad_drawings(Some("50%"), None, 10).await.unwrap()), Vec::<String>::new());
        assert_eq!(
            ids(store.folder_cad_drawings("host-a:/data/drawings").await.unwrap()),
            ["d-0002"],
            "only that folder's"
        );
        assert_eq!(ids(store.folder_cad_drawings("host-b:/data/drawings").await.unwrap()), ["d-0000"]);
        let by_path = store
            .cad_drawing_by_folder_path("host-a:/data/drawings", "A 栋/立面.dxf")
            .await
            .unwrap()
            .expect("found by its folder and path");
        assert_eq!((by_path.id.as_str(), by_path.file_id.as_deref()), ("d-0002", None));

        let (facts, diagnostics) = store.cad_drawing_facts("d-0001").await.unwrap().expect("stored facts");
        assert_eq!(facts.unwrap()["texts"][0]["text"], "客厅");
        assert_eq!(diagnostics[0]["code"], "undeclared_name");
        assert_eq!(store.cad_thumbnail("d-0001").await.unwrap().as_deref(), Some(png), "the PNG round-trips");
        assert_eq!(store.cad_thumbnail("d-0002").await.unwrap(), None);

        // The folder file changed, and now the reader refuses it: same row, new content, no thumbnail.
        let mut changed = drawing_content("立面.dxf", "e", None, at(9));
        changed.status = "failed".into();
        changed.error = Some("this is not a DXF drawing".into());
        changed.facts = None;
        let updated = store.update_cad_drawing("d-0002", &changed).await.unwrap().expect("updated");
        assert_eq!((updated.status.as_str(), updated.error.as_deref()), ("failed", Some("this is not a DXF drawing")));
        assert_eq!((updated.created_at, updated.updated_at, updated.sha256), (at(3), at(9), "e".repeat(64)));
        assert_eq!(store.cad_drawing_facts("d-0002").await.unwrap().unwrap().0, None);
        let refreshed = drawing_content("一层平面图.dxf", "a", None, at(10));
        store.update_cad_drawing("d-0001", &refreshed).await.unwrap();
        assert_eq!(store.cad_thumbnail("d-0001").await.unwrap(), None, "a write without a thumbnail removes it");
        assert!(store.update_cad_drawing("d-9999", &refreshed).await.unwrap().is_none());

        assert!(store.delete_cad_drawing("d-0002").await.unwrap());
        assert!(!store.delete_cad_drawing("d-0002").await.unwrap(), "deleting twice finds nothing");
        assert_eq!(store.delete_file("f-0001").await.unwrap(), Some(0));
        assert!(store.cad_drawing("d-0001").await.unwrap().is_none(), "an upload goes with its file");
    })
    .await;
}

#[tokio::test]
async fn cad_analyses_are_recorded_once_per_task_and_follow_it() {
    each_backend(|store| async move {
        let gina = store.create_user(new_user("gina", Role::Designer, at(0))).await.unwrap();
        store
            .insert_cad_drawing(&folder_drawing("d-0001", "host-a:/data/drawings", "plan.dxf", "a", at(1)))
            .await
            .unwrap();
        let first = store.enqueue_task(&new_task("cad.analyse", at(2), Some(gina.id), at(2))).await.unwrap();
        let second = store.enqueue_task(&new_task("cad.analyse", at(3), Some(gina.id), at(3))).await.unwrap();
        let new = |id: &str, task_id: i64, secs: i64| zk_store::NewCadAnalysis {
            id: id.to_owned(),
            drawing_id: "d-0001".into(),
            task_id,
            agent_id: None,
            agent_name: Some("图纸分析".into()),
            created_by: Some(gina.id),
            now: at(secs),
        };
        let a = store.insert_cad_analysis(&new("a-0001", first.id, 2)).await.unwrap();
        assert_eq!((a.state.as_str(), a.task_state.as_deref()), ("queued", Some("queued")), "the task is joined in");
        let again = store.insert_cad_analysis(&new("a-other", first.id, 2)).await.unwrap();
        assert_eq!(again.id, "a-0001", "a task has one analysis, however often it is inserted");
        store.insert_cad_analysis(&new("a-0002", second.id, 3)).await.unwrap();
        let drawing = store.cad_drawing("d-0001").await.unwrap().unwrap();
        assert_eq!(drawing.latest_analysis_id.as_deref(), Some("a-0002"), "the newest analysis is the latest");
        let ids: Vec<String> = store.cad_analyses("d-0001").await.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["a-0002", "a-0001"], "newest first");

        assert!(store.start_cad_analysis("a-0001", at(4)).await.unwrap());
        store.note_cad_analysis_error("a-0001", &json!({ "code": "upstream_error", "message": "busy" })).await.unwrap();
        let running = store.cad_analysis_by_task(first.id).await.unwrap().unwrap();
        assert_eq!((running.state.as_str(), running.started_at), ("running", Some(at(4))));
        assert_eq!(running.error.unwrap().0["message"], "busy", "a failed attempt is noted");
        let outcome = zk_store::CadAnalysisOutcome {
            state: "succeeded".into(),
            agent_name: None,
            agent_version: Some(3),
            answer: Some("一套住宅平面".into()),
            note: None,
            error: None,
            facts_sent: Some(json!({ "texts": ["客厅"] })),
            timings: json!({ "totalMs": 12 }),
            now: at(5),
        };
        assert!(store.finish_cad_analysis("a-0001", &outcome).await.unwrap());
        let failed = zk_store::CadAnalysisOutcome { state: "failed".into(), ..outcome.clone() };
        assert!(!store.finish_cad_analysis("a-0001", &failed).await.unwrap(), "an outcome is recorded once");
        assert!(!store.start_cad_analysis("a-0001", at(6)).await.unwrap(), "a finished analysis does not restart");
        let done = store.cad_analysis_by_task(first.id).await.unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.answer.as_deref()), ("succeeded", Some("一套住宅平面")));
        assert_eq!((done.agent_name.as_deref(), done.agent_version), (Some("图纸分析"), Some(3)), "the name stays");
        assert_eq!((done.finished_at, done.error.map(|e| e.0)), (Some(at(5)), None));
        assert_eq!(done.facts_sent.unwrap().0["texts"][0], "客厅");

        assert!(store.delete_cad_drawing("d-0001").await.unwrap());
        assert!(store.cad_analysis_by_task(first.id).await.unwrap().is_none(), "analyses go with their drawing");
    })
    .await;
}

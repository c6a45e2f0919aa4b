//! The CAD library over the real HTTP API, on SQLite and on PostgreSQL: uploads (a drawing written
//! here and a corpus file), the viewer's data (thumbnail, facts, scene, picked entities, exports,
//! the source), refusals (unreadable, wrong type, over `CAD_MAX_BYTES`, DWG), roles, the watched
//! drawings folder, and analyses against the model-API double.
//!
//! The corpus is `$ZK_CAD_CORPUS`, or `../shared/cad-corpus` beside the repository: required under
//! `CI=true`, skipped with a message elsewhere.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zk_core::store::Role;
use zk_tests::cad_bombs;
use zk_tests::db::{TestDatabase, each_database};
use zk_tests::model_double::ModelDouble;
use zk_tests::server::{SignedIn, TestServer};

/// An R2000 drawing in millimetres: a red line (0,0)–(100,50) with handle 2A on layer Walls, a
/// circle, a Chinese TEXT, and an INSERT of the block DOOR with an attribute. `extra` goes into
/// ENTITIES after them.
fn plan(extra: &str) -> Vec<u8> {
    format!(
        "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n\
0\nSECTION\n2\nTABLES\n0\nTABLE\n2\nLAYER\n0\nLAYER\n2\nWalls\n70\n0\n62\n1\n6\nCONTINUOUS\n0\nENDTAB\n0\nENDSEC\n\
0\nSECTION\n2\nBLOCKS\n0\nBLOCK\n8\n0\n2\nDOOR\n70\n0\n10\n0\n20\n0\n30\n0\n0\nLINE\n8\n0\n10\n0\n20\n0\n11\n10\n21\n0\n0\nENDBLK\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n\
0\nLINE\n5\n2A\n8\nWalls\n10\n0\n20\n0\n30\n0\n11\n100\n21\n50\n31\n0\n\
0\nCIRCLE\n5\n2B\n8\nWalls\n10\n50\n20\n25\n30\n0\n40\n10\n\
0\nTEXT\n5\n2C\n8\nNotes\n10\n10\n20\n10\n30\n0\n40\n2.5\n1\n客厅\n\
0\nINSERT\n5\n2D\n8\n0\n66\n1\n2\nDOOR\n10\n20\n20\n0\n30\n0\n\
0\nATTRIB\n5\n2E\n8\n0\n10\n20\n20\n0\n30\n0\n40\n2\n1\nD-01\n2\nNO\n70\n0\n0\nSEQEND\n8\n0\n\
{extra}0\nENDSEC\n0\nEOF\n"
    )
    .into_bytes()
}

/// Sniffs as DXF (a `999` comment first) but is none: the reader refuses it.
const NOT_A_DRAWING: &str = "999\nexported by hand\nthis is not a drawing\nat all\n";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The shared CAD corpus, or `None` (after saying so) outside CI when it is absent.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("ZK_CAD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cad-corpus"));
    if dir.join("manifest.csv").is_file() {
        return Some(dir);
    }
    assert!(!ci(), "the CAD corpus is required under CI=true: set ZK_CAD_CORPUS or provide {}", dir.display());
    eprintln!("SKIPPED: no CAD corpus at {} (the corpus parts of the library tests)", dir.display());
    None
}

async fn upload(server: &TestServer, token: &str, name: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = server
        .http
        .post(server.url("/api/cad/drawings"))
        .query(&[("name", name)])
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null))
}

async fn fetch(server: &TestServer, token: &str, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = server.http.get(server.url(path)).bearer_auth(token).send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// A GET of `path` with `If-None-Match: etag`: the status.
async fn revalidate(server: &TestServer, token: &str, path: &str, etag: &str) -> StatusCode {
    let request = server.http.get(server.url(path)).bearer_auth(token).header(reqwest::header::IF_NONE_MATCH, etag);
    request.send().await.unwrap().status()
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> &str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The scene's header (JSON) and payload, checking the framing of `zk_cad::wire`.
fn decode_scene(doc: &[u8]) -> (Value, &[u8]) {
    assert_eq!(&doc[..8], b"ZKSCENE1", "the scene's magic");
    let length = u32::from_le_bytes(doc[8..12].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&doc[12..12 + length]).unwrap();
    let start = (12 + length).next_multiple_of(8);
    (header, &doc[start..])
}

fn f32_at(payload: &[u8], slice: &Value, index: usize) -> f32 {
    let at = slice["offset"].as_u64().unwrap() as usize + index * 4;
    f32::from_le_bytes(payload[at..at + 4].try_into().unwrap())
}

fn u32_at(payload: &[u8], slice: &Value, index: usize) -> u32 {
    let at = slice["offset"].as_u64().unwrap() as usize + index * 4;
    u32::from_le_bytes(payload[at..at + 4].try_into().unwrap())
}

fn property<'v>(entity: &'v Value, name: &str) -> &'v str {
    entity["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
        .unwrap_or_default()
}

/// Polls `check` every 50 ms until it gives a value, for at most `limit`; returns it and how long
/// it took.
async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> (T, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return (value, started.elapsed());
        }
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn list(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, page) = server.call(Method::GET, &format!("/api/cad/drawings{query}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

#[tokio::test]
async fn an_uploaded_drawing_gives_its_thumbnail_facts_scene_entities_exports_and_source() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        let vera = server.user("vera", Role::Viewer).await;
        let bytes = plan("");
        let (status, drawing) = upload(&server, &dan.access, "一层平面图.dxf", bytes.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{drawing}");
        let id = drawing["id"].as_str().unwrap().to_owned();
        assert_eq!(
            (drawing["status"].as_str(), drawing["format"].as_str(), drawing["source"].as_str()),
            (Some("ready"), Some("dxf"), Some("upload"))
        );
        assert_eq!((drawing["acadVersion"].as_str(), drawing["release"].as_str()), (Some("AC1015"), Some("R2000")));
        assert_eq!((drawing["units"].as_str(), drawing["entityCount"].as_i64()), (Some("millimeters"), Some(4)));
        assert_eq!(drawing["layouts"], json!(["Model"]));
        assert_eq!(drawing["sizeBytes"].as_u64(), Some(bytes.len() as u64));
        assert_eq!((drawing["uploadedBy"].as_i64(), &drawing["latestAnalysis"]), (Some(dan.user_id), &Value::Null));
        assert_eq!(drawing["folderPath"], Value::Null);

        // Listed for everyone signed in, found by a part of its Chinese name, paged by cursor.
        upload(&server, &dan.access, "立面.dxf", plan("")).await;
        let page = list(&server, &vera.access, "").await;
        let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["立面.dxf", "一层平面图.dxf"], "newest first");
        let found = list(&server, &vera.access, "?q=%E5%B9%B3%E9%9D%A2").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "平面 finds one: {found}");
        assert_eq!(found["items"][0]["id"], id.as_str());
        let first = list(&server, &vera.access, "?limit=1").await;
        let cursor = first["nextCursor"].as_str().expect("a next page").to_owned();
        let second = list(&server, &vera.access, &format!("?limit=1&cursor={cursor}")).await;
        assert_eq!((second["items"][0]["id"].as_str(), &second["nextCursor"]), (Some(id.as_str()), &Value::Null));

        // The thumbnail: a real PNG that fits 320 × 240, cacheable, revalidated by its ETag.
        let url = drawing["thumbnailUrl"].as_str().expect("a thumbnail").to_owned();
        let (status, headers, png) = fetch(&server, &vera.access, &url).await;
        assert_eq!((status, header(&headers, CONTENT_TYPE)), (StatusCode::OK, "image/png"));
        let image = tiny_skia::Pixmap::decode_png(&png).expect("a PNG that decodes");
        assert!(
            image.width() <= 320 && image.height() <= 240 && image.width() >= 16,
            "{}x{}",
            image.width(),
            image.height()
        );
        assert!(image.pixels().iter().any(|p| p.red() > 200 && p.green() < 80), "the red line is drawn");
        assert!(header(&headers, reqwest::header::CACHE_CONTROL).contains("immutable"));
        let etag = header(&headers, reqwest::header::ETAG).to_owned();
        let status = revalidate(&server, &vera.access, &url, &etag).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "an unchanged thumbnail is not sent again");

        // The detail: facts (Chinese text decoded), diagnostics, layouts.
        let (status, detail) =
            server.call(Method::GET, &format!("/api/cad/drawings/{id}"), Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["facts"]["entity_counts"]["LINE"], 2, "one drawn, one in the block");
        assert!(detail["facts"]["texts"].as_array().unwrap().iter().any(|t| t["text"] == "客厅"), "{detail}");
        assert_eq!(detail["facts"]["blocks"][0]["name"], "DOOR");
        assert!(detail["diagnostics"].is_array());
        assert_eq!((&detail["layouts"], &detail["drawing"]["id"]), (&json!(["Model"]), &json!(id)));

        // The scene of model space: the wire format, the red line where the file put it.
        let (status, headers, doc) = fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene")).await;
        assert_eq!((status, header(&headers, CONTENT_TYPE)), (StatusCode::OK, "application/vnd.zk-agent.scene"));
        assert_eq!(header(&headers, CONTENT_LENGTH), doc.len().to_string());
        let (scene, payload) = decode_scene(&doc);
        assert_eq!((scene["layout"].as_str(), scene["entityCount"].as_u64()), (Some("Model"), Some(4)));
        let walls = scene["layers"].as_array().unwrap().iter().position(|l| l["name"] == "Walls").unwrap();
        let batch = scene["batches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["layer"] == walls && b["lines"]["count"].as_u64() > Some(0))
            .unwrap();
        let origin = [scene["origin"][0].as_f64().unwrap(), scene["origin"][1].as_f64().unwrap()];
        let line_end = |i: usize| f64::from(f32_at(payload, &batch["lines"], i));
        let segment =
            [line_end(0) + origin[0], line_end(1) + origin[1], line_end(2) + origin[0], line_end(3) + origin[1]];
        for (got, want) in segment.iter().zip([0.0, 0.0, 100.0, 50.0]) {
            assert!((got - want).abs() < 1e-3, "the line runs (0,0)–(100,50): {segment:?}");
        }
        assert_eq!(u32_at(payload, &batch["lineOwners"], 0), 0, "owned by the layout's first entity");
        let (_, again_headers, again) =
            fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene?layout=model")).await;
        assert_eq!(again, doc, "layout names ignore case; the cached scene is served");
        let etag = header(&headers, reqwest::header::ETAG).to_owned();
        assert_eq!(header(&again_headers, reqwest::header::ETAG), etag);
        let opened = server.core.cad.cache_stats();
        let status = revalidate(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene"), &etag).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "a scene the browser has is not sent again");
        let status =
            revalidate(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene?layout=MODEL"), &etag).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "the same scene by another spelling of its layout");
        let after = server.core.cad.cache_stats();
        assert_eq!(
            (after.hits, after.misses),
            (opened.hits, opened.misses),
            "confirmed from the row: no drawing opened"
        );
        let status = revalidate(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene"), "\"stale\"").await;
        assert_eq!(status, StatusCode::OK, "a copy of other content gets the scene");
        let (status, missing) = server
            .call(Method::GET, &format!("/api/cad/drawings/{id}/scene?layout=Sheet%209"), Some(&vera.access), None)
            .await;
        assert_eq!((status, missing["code"].as_str()), (StatusCode::NOT_FOUND, Some("no_such_layout")), "{missing}");
        assert_eq!(missing["details"]["layouts"], json!(["Model"]));
        assert!(missing["message"].as_str().unwrap().contains("Model"), "{missing}");

        // Picking: the entity behind owner 0 is the line; owner 3 the insert with its attribute.
        let (status, line) =
            server.call(Method::GET, &format!("/api/cad/drawings/{id}/entities/0"), Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::OK, "{line}");
        assert_eq!(
            (line["type"].as_str(), line["handle"].as_str(), line["layer"].as_str()),
            (Some("LINE"), Some("2A"), Some("Walls"))
        );
        assert_eq!((property(&line, "Start"), property(&line, "End")), ("0, 0", "100, 50"));
        assert_eq!(property(&line, "Length"), "111.8034");
        let (_, insert) =
            server.call(Method::GET, &format!("/api/cad/drawings/{id}/entities/3"), Some(&vera.access), None).await;
        assert_eq!((insert["type"].as_str(), property(&insert, "Block")), (Some("INSERT"), "DOOR"), "{insert}");
        assert_eq!(property(&insert, "Attribute NO"), "D-01");
        let (status, _) =
            server.call(Method::GET, &format!("/api/cad/drawings/{id}/entities/99"), Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Exports, as downloads with the exact name encoded.
        let (status, headers, png) = fetch(
            &server,
            &vera.access,
            &format!("/api/cad/drawings/{id}/render?format=png&width=300&background=dark"),
        )
        .await;
        assert_eq!((status, header(&headers, CONTENT_TYPE)), (StatusCode::OK, "image/png"));
        assert_eq!(tiny_skia::Pixmap::decode_png(&png).unwrap().width(), 300);
        let disposition = header(&headers, CONTENT_DISPOSITION);
        assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"), "{disposition}");
        assert!(disposition.contains("-Model.png"), "{disposition}");
        let (status, headers, svg) =
            fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/render?format=svg")).await;
        assert_eq!((status, header(&headers, CONTENT_TYPE)), (StatusCode::OK, "image/svg+xml"));
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
        let (status, _, _) = fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/render?format=gif")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // The source, byte for byte.
        let (status, headers, source) = fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/source")).await;
        assert_eq!((status, source), (StatusCode::OK, bytes));
        assert!(header(&headers, CONTENT_DISPOSITION).contains("%E4%B8%80%E5%B1%82"), "{headers:?}");

        // A corpus drawing goes the same way.
        if let Some(corpus) = corpus() {
            let file = corpus.join("skymakerolof__dxf/test/resources/dimensions.dxf");
            let (status, drawing) = upload(&server, &dan.access, "dimensions.dxf", std::fs::read(file).unwrap()).await;
            assert_eq!((status, drawing["status"].as_str()), (StatusCode::CREATED, Some("ready")), "{drawing}");
            let id = drawing["id"].as_str().unwrap();
            let (_, _, png) = fetch(&server, &vera.access, drawing["thumbnailUrl"].as_str().unwrap()).await;
            assert!(tiny_skia::Pixmap::decode_png(&png).is_ok(), "the corpus drawing's thumbnail is a PNG");
            let (status, _, doc) = fetch(&server, &vera.access, &format!("/api/cad/drawings/{id}/scene")).await;
            assert_eq!(status, StatusCode::OK);
            let (scene, _) = decode_scene(&doc);
            assert!(scene["entityCount"].as_u64().unwrap() > 0 && !scene["batches"].as_array().unwrap().is_empty());
            let (_, detail) =
                server.call(Method::GET, &format!("/api/cad/drawings/{id}"), Some(&vera.access), None).await;
            assert!(!detail["facts"]["dimensions"].as_array().unwrap().is_empty(), "its dimension values are facts");
            // A DWG: a drawing when it can be read (LibreDWG's dwg2dxf, a DWG reader), else the
            // message that says how to convert it, and nothing stored.
            let file = corpus.join("LibreDWG__libredwg/test/test-data/2007/Polyline.dwg");
            let (status, body) = upload(&server, &dan.access, "Polyline.dwg", std::fs::read(file).unwrap()).await;
            match status {
                StatusCode::CREATED => assert_eq!(body["format"], "dwg"),
                _ => {
                    assert_eq!(
                        (status, body["code"].as_str()),
                        (StatusCode::UNPROCESSABLE_ENTITY, Some("unsupported_dwg"))
                    );
                    let message = body["message"].as_str().unwrap();
                    assert!(
                        message.contains("DWG") && message.contains("dwg2dxf"),
                        "says how to convert it: {message}"
                    );
                    let page = list(&server, &vera.access, "?q=polyline").await;
                    assert!(page["items"].as_array().unwrap().is_empty(), "a refused DWG is not stored");
                }
            }
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn refused_uploads_store_nothing() {
    each_database(|db| async move {
        // The general upload limit is small; drawings have their own, CAD_MAX_BYTES.
        let server = TestServer::start_with(&db, |config| {
            config.files.upload_max_bytes = 500;
            config.cad.max_bytes = 16 * 1024;
        })
        .await;
        let dan = server.user("dan", Role::Designer).await;
        let drawing = plan("");
        assert!(drawing.len() > 500);
        let (status, body) = upload(&server, &dan.access, "plan.dxf", drawing.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "CAD_MAX_BYTES, not UPLOAD_MAX_BYTES, limits drawings: {body}");
        let (status, _) = server
            .call(
                Method::DELETE,
                &format!("/api/cad/drawings/{}", body["id"].as_str().unwrap()),
                Some(&dan.access),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let (status, body) = upload(&server, &dan.access, "plan.dxf", NOT_A_DRAWING.into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_drawing")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains("not a DXF"), "the reader's reason: {body}");
        let (status, body) = upload(&server, &dan.access, "plan.dxf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_type")));
        let (status, body) = upload(&server, &dan.access, "notes.txt", "设计说明".as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

        // Over the cap: a declared length is refused before the body is read, a streamed one as
        // soon as it passes the limit.
        let (status, body) = upload(&server, &dan.access, "big.dxf", vec![b'0'; 20 * 1024]).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{body}");
        assert!(body["message"].as_str().unwrap().contains("CAD_MAX_BYTES"), "{body}");
        let chunks = futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'0'; 1024])));
        let response = server
            .http
            .post(server.url("/api/cad/drawings?name=big.dxf"))
            .bearer_auth(&dan.access)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

        // A DWG that is garbage after its magic cannot be read, converter or not.
        let dwg = [b"AC1018".as_slice(), &[0u8; 1024]].concat();
        let (status, body) = upload(&server, &dan.access, "old.dwg", dwg).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "garbage after a DWG magic is unreadable: {body}");
        // A DWG over an eighth of CAD_MAX_BYTES (2 KiB here) is refused before the DWG reader runs.
        let dwg = [b"AC1018".as_slice(), &[0u8; 4096]].concat();
        let (status, body) = upload(&server, &dan.access, "large.dwg", dwg).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{body}");
        assert!(body["message"].as_str().unwrap().contains("an eighth of CAD_MAX_BYTES"), "{body}");
        let page = list(&server, &dan.access, "").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 0, "nothing refused is listed: {page}");
        let (_, files) = server.call(Method::GET, "/api/files", Some(&dan.access), None).await;
        assert_eq!(files.as_array().unwrap().len(), 0, "and nothing is stored: {files}");
        let tmp = server.core.config.files.upload_dir.join("tmp");
        assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0, "no temporary file is left");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn viewers_read_designers_upload_and_only_the_uploader_or_an_admin_deletes() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        let dora = server.user("dora", Role::Designer).await;
        let vera = server.user("vera", Role::Viewer).await;
        let ada = server.user("ada", Role::Admin).await;
        let (status, _) = upload(&server, &vera.access, "plan.dxf", plan("")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot upload");
        let (_, drawing) = upload(&server, &dan.access, "plan.dxf", plan("")).await;
        let path = format!("/api/cad/drawings/{}", drawing["id"].as_str().unwrap());
        let (status, _) =
            server.call(Method::POST, &format!("{path}/analyses"), Some(&vera.access), Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot analyse");
        let (status, _) = server.call(Method::DELETE, &path, Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot delete");
        let (status, body) = server.call(Method::DELETE, &path, Some(&dora.access), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "not her upload");
        assert!(body["message"].as_str().unwrap().contains("uploader"), "{body}");
        let (status, _) = server.call(Method::DELETE, &path, Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "the uploader deletes it");
        let (status, _) = server.call(Method::GET, &path, Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, files) = server.call(Method::GET, "/api/files", Some(&dan.access), None).await;
        assert_eq!(files.as_array().unwrap().len(), 0, "its file went with it");

        let (_, drawing) = upload(&server, &dora.access, "plan.dxf", plan("")).await;
        let path = format!("/api/cad/drawings/{}", drawing["id"].as_str().unwrap());
        let (status, _) = server.call(Method::DELETE, &path, Some(&ada.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "an admin deletes anyone's");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_watched_folder_imports_updates_and_removes_its_drawings() {
    each_database(|db| async move {
        // Present before the server (and its watch) starts: imported by the scan at start.
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(folder.path().join("A 栋")).unwrap();
        std::fs::write(folder.path().join("A 栋/east.dxf"), plan("")).unwrap();
        let dir = folder.path().to_path_buf();
        let server = TestServer::start_with(&db, |config| config.cad.dir = dir.clone()).await;
        let dan = server.user("dan", Role::Designer).await;
        let by_path = |path: &'static str| {
            let (server, token) = (&server, dan.access.clone());
            move || {
                let token = token.clone();
                async move {
                    let page = list(server, &token, "").await;
                    page["items"].as_array().unwrap().iter().find(|d| d["folderPath"] == path).cloned()
                }
            }
        };
        let (east, _) = wait_for("the scan at start", Duration::from_secs(10), by_path("A 栋/east.dxf")).await;
        assert_eq!((east["source"].as_str(), east["name"].as_str()), (Some("folder"), Some("east.dxf")));

        std::fs::write(dir.join("plan.dxf"), plan("")).unwrap();
        let (drawing, took) = wait_for("a new file", Duration::from_secs(10), by_path("plan.dxf")).await;
        assert!(took < Duration::from_secs(2), "a new file appears within 2 s: {took:?}");
        assert_eq!((drawing["status"].as_str(), drawing["entityCount"].as_i64()), (Some("ready"), Some(4)));
        let id = drawing["id"].as_str().unwrap().to_owned();
        let (_, _, source) = fetch(&server, &dan.access, &format!("/api/cad/drawings/{id}/source")).await;
        assert_eq!(source, plan(""), "the source is the folder's file");
        let (status, body) =
            server.call(Method::DELETE, &format!("/api/cad/drawings/{id}"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["message"].as_str().unwrap().contains("remove the file from the folder"), "{body}");

        // A change updates the same entry.
        std::fs::write(dir.join("plan.dxf"), plan("0\nCIRCLE\n8\nWalls\n10\n0\n20\n0\n40\n5\n")).unwrap();
        let changed = || {
            let check = by_path("plan.dxf");
            async move { check().await.filter(|d| d["entityCount"] == 5) }
        };
        let (updated, took) = wait_for("a change", Duration::from_secs(10), changed).await;
        assert!(took < Duration::from_secs(2), "a change applies within 2 s: {took:?}");
        assert_eq!(updated["id"], id.as_str(), "the entry keeps its id");
        assert_ne!(updated["thumbnailUrl"], drawing["thumbnailUrl"], "a new thumbnail");

        // A file the reader refuses is listed, failed, with its reason, and reported.
        std::fs::write(dir.join("notes.dxf"), NOT_A_DRAWING).unwrap();
        let (failed, _) = wait_for("a refused file", Duration::from_secs(10), by_path("notes.dxf")).await;
        assert_eq!(failed["status"], "failed");
        assert!(failed["error"].as_str().unwrap().contains("not a DXF"), "{failed}");
        assert_eq!(failed["thumbnailUrl"], Value::Null);
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/api/cad/drawings/{}/scene", failed["id"].as_str().unwrap()),
                Some(&dan.access),
                None,
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_drawing")));
        let (status, folder) = server.call(Method::GET, "/api/cad/folder", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((folder["enabled"].as_bool(), folder["drawings"].as_u64()), (Some(true), Some(3)), "{folder}");
        assert_eq!(folder["path"], dir.display().to_string());
        assert_eq!(folder["problems"][0]["path"], "notes.dxf", "{folder}");

        // A deleted file takes its entry with it.
        std::fs::remove_file(dir.join("plan.dxf")).unwrap();
        let gone = || {
            let (server, token) = (&server, dan.access.clone());
            async move {
                let page = list(server, &token, "").await;
                (!page["items"].as_array().unwrap().iter().any(|d| d["folderPath"] == "plan.dxf")).then_some(())
            }
        };
        let (_, took) = wait_for("a removal", Duration::from_secs(10), gone).await;
        assert!(took < Duration::from_secs(2), "a deletion applies within 2 s: {took:?}");
        let (status, _) = server.call(Method::GET, &format!("/api/cad/drawings/{id}"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        server.stop().await;
    })
    .await;
}

async fn create_agent(server: &TestServer, admin: &SignedIn, spec: Value, key: &str) -> i64 {
    let (status, agent) = server
        .call(Method::POST, "/api/agents", Some(&admin.access), Some(json!({ "spec": spec, "api_key": key })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "agent created: {agent}");
    agent["id"].as_i64().unwrap()
}

/// Waits until the analysis ends and returns it.
async fn finished_analysis(server: &TestServer, token: &str, drawing: &str, analysis: &str) -> Value {
    let check = || async move {
        let (_, list) =
            server.call(Method::GET, &format!("/api/cad/drawings/{drawing}/analyses"), Some(token), None).await;
        list.as_array()?
            .iter()
            .find(|a| {
                a["id"] == analysis
                    && ["succeeded", "failed", "cancelled"].contains(&a["state"].as_str().unwrap_or_default())
            })
            .cloned()
    };
    wait_for("the analysis to end", Duration::from_secs(30), check).await.0
}

async fn analyse(server: &TestServer, user: &SignedIn, drawing: &str, body: Value) -> Value {
    let path = format!("/api/cad/drawings/{drawing}/analyses");
    let (status, analysis) = server.call(Method::POST, &path, Some(&user.access), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{analysis}");
    // Queued, or already claimed (even finished: the answer follows the task) by an idle worker.
    let state = analysis["state"].as_str().unwrap_or_default();
    assert!(["queued", "running", "succeeded", "failed"].contains(&state), "{analysis}");
    analysis
}

/// Puts a finished task back in the queue, as if its worker had died before recording the end.
async fn requeue(db: &TestDatabase, task: i64) {
    let sql = "UPDATE tasks SET state = 'queued', run_after = created_at, lease_token = NULL, lease_until = NULL, \
               finished_at = NULL WHERE id = $1";
    match db.backend() {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(&db.database_url()).await.unwrap();
            sqlx::query(sql).bind(task).execute(&pool).await.unwrap();
            pool.close().await;
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.database_url()).await.unwrap();
            sqlx::query(sql).bind(task).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

#[tokio::test]
async fn an_analysis_asks_the_cad_agent_with_the_facts_and_stores_the_answer_once() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let ada = server.user("ada", Role::Admin).await;
        let dan = server.user("dan", Role::Designer).await;
        // A chat agent first by name: only an agent of kind cad is chosen by default.
        create_agent(
            &server,
            &ada,
            json!({ "name": "A chat", "provider": "fastgpt", "base_url": double.base }),
            "fastgpt-good",
        )
        .await;
        let spec = json!({ "name": "图纸分析", "kind": "cad", "provider": "fastgpt", "base_url": double.base,
                           "variables": { "project": "A 栋" } });
        let agent = create_agent(&server, &ada, spec, "fastgpt-good").await;
        let (_, drawing) = upload(&server, &dan.access, "plan.dxf", plan("")).await;
        let id = drawing["id"].as_str().unwrap();

        let queued = analyse(&server, &dan, id, json!({})).await;
        let analysis = finished_analysis(&server, &dan.access, id, queued["id"].as_str().unwrap()).await;
        assert_eq!(analysis["state"], "succeeded", "{analysis}");
        assert_eq!(analysis["answer"], "你好，设计师");
        assert_eq!((analysis["agentId"].as_i64(), analysis["agentName"].as_str()), (Some(agent), Some("图纸分析")));
        assert_eq!(
            (analysis["agentVersion"].as_i64(), &analysis["error"], &analysis["note"]),
            (Some(1), &Value::Null, &Value::Null)
        );
        assert!(analysis["factsSent"]["texts"].as_array().unwrap().iter().any(|t| t["text"] == "客厅"), "{analysis}");
        assert_eq!(analysis["factsSent"]["version"], "AC1015");
        assert!(analysis["timings"]["modelMs"].is_u64() && analysis["finishedAt"].is_string());
        let sent: Vec<Value> =
            double.received().into_iter().filter(|r| r.path == "/api/v1/chat/completions").map(|r| r.body).collect();
        assert_eq!(sent.len(), 1, "one model call");
        let question = sent[0]["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
        assert!(
            question.contains("客厅") && question.contains("AC1015") && question.contains("plan.dxf"),
            "{question}"
        );
        assert_eq!((sent[0]["stream"].as_bool(), &sent[0]["variables"]["project"]), (Some(false), &json!("A 栋")));

        // Visible as a task, finished; the drawing lists its latest analysis.
        let task = analysis["taskId"].as_i64().unwrap();
        let (_, view) = server.call(Method::GET, &format!("/api/tasks/{task}"), Some(&dan.access), None).await;
        assert_eq!(
            (view["kind"].as_str(), view["state"].as_str(), view["progress"].as_i64()),
            (Some("cad.analyse"), Some("succeeded"), Some(100))
        );
        let (_, detail) = server.call(Method::GET, &format!("/api/cad/drawings/{id}"), Some(&dan.access), None).await;
        assert_eq!(detail["drawing"]["latestAnalysis"], json!({ "id": analysis["id"], "state": "succeeded" }));

        // The task runs again (its worker died before recording the end): one result, no second call.
        requeue(&db, task).await;
        let check = || async {
            let (_, view) = server.call(Method::GET, &format!("/api/tasks/{task}"), Some(&dan.access), None).await;
            (view["state"] == "succeeded" && view["attempts"] == 2).then_some(())
        };
        wait_for("the task's second run", Duration::from_secs(20), check).await;
        let (_, list) =
            server.call(Method::GET, &format!("/api/cad/drawings/{id}/analyses"), Some(&dan.access), None).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "one analysis: {list}");
        assert_eq!(list[0]["answer"], "你好，设计师");
        let calls = double.received().into_iter().filter(|r| r.path == "/api/v1/chat/completions").count();
        assert_eq!(calls, 1, "the stored outcome is not asked for again");

        // A request retried with its idempotency key returns the first analysis.
        let path = format!("/api/cad/drawings/{id}/analyses");
        let send = || async {
            let response = server
                .http
                .post(server.url(&path))
                .bearer_auth(&dan.access)
                .header("idempotency-key", "analyse-plan-1")
                .json(&json!({ "agentId": agent.to_string() }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            response.json::<Value>().await.unwrap()
        };
        let (first, second) = (send().await, send().await);
        assert_eq!(first["id"], second["id"], "the retry gets the same analysis");
        finished_analysis(&server, &dan.access, id, first["id"].as_str().unwrap()).await;
        let (_, list) = server.call(Method::GET, &path, Some(&dan.access), None).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "newest first, no duplicate: {list}");
        assert_eq!(list[0]["id"], first["id"]);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn without_a_cad_agent_the_facts_are_stored_with_a_note_and_upstream_failures_are_clear() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        // Leases outlast the clock moves below, which skip the retries' backoff.
        let server = TestServer::start_with(&db, |config| config.tasks.lease = Duration::from_secs(600)).await;
        let ada = server.user("ada", Role::Admin).await;
        let (_, drawing) = upload(&server, &ada.access, "plan.dxf", plan("")).await;
        let id = drawing["id"].as_str().unwrap();

        let queued = analyse(&server, &ada, id, json!({})).await;
        assert_eq!(queued["agentId"], Value::Null, "no CAD agent to choose");
        let analysis = finished_analysis(&server, &ada.access, id, queued["id"].as_str().unwrap()).await;
        assert_eq!((analysis["state"].as_str(), &analysis["answer"]), (Some("succeeded"), &Value::Null), "{analysis}");
        assert!(analysis["note"].as_str().unwrap().contains("no CAD agent is configured"), "{analysis}");
        assert_eq!(analysis["factsSent"]["entityCounts"]["LINE"], 2, "the facts are stored");

        // A key the upstream refuses: HTTP 500 with FastGPT's code 514, and an OpenAI 401.
        let fastgpt = json!({ "name": "FastGPT CAD", "kind": "cad", "provider": "fastgpt", "base_url": double.base });
        let fastgpt = create_agent(&server, &ada, fastgpt, "fastgpt-bad").await;
        let openai =
            json!({ "name": "Local CAD", "kind": "cad", "provider": "openai", "base_url": double.base, "model": "m" });
        let openai = create_agent(&server, &ada, openai, "sk-bad").await;
        for (agent, expected) in [(fastgpt, "Api Key 不合法"), (openai, "Incorrect API key")] {
            let queued = analyse(&server, &ada, id, json!({ "agentId": agent })).await;
            let analysis = finished_analysis(&server, &ada.access, id, queued["id"].as_str().unwrap()).await;
            assert_eq!(
                (analysis["state"].as_str(), analysis["error"]["code"].as_str()),
                (Some("failed"), Some("upstream_auth")),
                "{analysis}"
            );
            let message = analysis["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(expected) && message.contains("API key"),
                "the upstream's message and the fix: {message}"
            );
            assert!(analysis["factsSent"].is_object(), "what was sent is kept");
            // The handler records the analysis's outcome before its worker ends the task: wait for that.
            let task_path = format!("/api/tasks/{}", analysis["taskId"]);
            let ended = || async {
                let (_, task) = server.call(Method::GET, &task_path, Some(&ada.access), None).await;
                (task["state"] != "running" && task["state"] != "queued").then_some(task)
            };
            let (task, _) = wait_for("the task to end", Duration::from_secs(30), ended).await;
            assert_eq!(
                (task["state"].as_str(), task["attempts"].as_i64()),
                (Some("failed"), Some(1)),
                "not retried: {task}"
            );
        }

        // A failing upstream (FastGPT's workflow error, HTTP 200) is retried, then the analysis fails with it.
        let (_, broken) =
            upload(&server, &ada.access, "broken.dxf", plan("0\nTEXT\n8\n0\n10\n0\n20\n0\n40\n1\n1\nerror-200\n"))
                .await;
        let broken = broken["id"].as_str().unwrap();
        let good = json!({ "name": "Good CAD", "kind": "cad", "provider": "fastgpt", "base_url": double.base });
        let good = create_agent(&server, &ada, good, "fastgpt-good").await;
        let queued = analyse(&server, &ada, broken, json!({ "agentId": good })).await;
        let task = queued["taskId"].as_i64().unwrap();
        let check = || async {
            let (_, view) = server.call(Method::GET, &format!("/api/tasks/{task}"), Some(&ada.access), None).await;
            if view["state"] == "queued" && view["attempts"].as_i64() >= Some(1) {
                // A retry waits for its backoff (at most 4.8 s here): move the clock past it.
                server.clock.advance(Duration::from_secs(5));
            }
            (view["state"] == "failed").then_some(view)
        };
        let (view, _) = wait_for("the retries to end", Duration::from_secs(30), check).await;
        assert_eq!(view["attempts"], 3, "{view}");
        let analysis = finished_analysis(&server, &ada.access, broken, queued["id"].as_str().unwrap()).await;
        assert_eq!(
            (analysis["state"].as_str(), analysis["error"]["code"].as_str()),
            (Some("failed"), Some("upstream_error")),
            "{analysis}"
        );
        assert!(analysis["error"]["message"].as_str().unwrap().contains("工作流节点运行失败"), "{analysis}");

        // An unknown agent is refused up front.
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/api/cad/drawings/{id}/analyses"),
                Some(&ada.access),
                Some(json!({ "agentId": 999 })),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        server.stop().await;
    })
    .await;
}

/// The two bombs of issue 12 (a 32767 × 32767 MINSERT; 30 levels of nested 2 × 2 arrays), and the
/// instances each holds.
fn bombs() -> [(&'static str, Vec<u8>, u64); 2] {
    [
        ("array-bomb.dxf", cad_bombs::array_bomb(), cad_bombs::ARRAY_INSTANCES),
        ("nested-bomb.dxf", cad_bombs::nested_bomb(), cad_bombs::NESTED_INSTANCES),
    ]
}

#[tokio::test]
async fn drawing_bombs_are_drawn_partially_within_their_budgets_with_a_diagnostic() {
    each_database(|db| async move {
        // Budgets a debug build draws in well under a second; the defaults come from CAD_MAX_BYTES.
        let server = TestServer::start_with(&db, |config| {
            config.cad.budgets.max_instances = 20_000;
            config.cad.budgets.max_svg_bytes = 300_000;
        })
        .await;
        let designer = server.user("bomber", Role::Designer).await;
        let viewer = server.user("onlooker", Role::Viewer).await;
        for (name, bytes, total) in bombs() {
            let (status, drawing) = upload(&server, &designer.access, name, bytes).await;
            assert_eq!(status, StatusCode::CREATED, "{name} is a valid drawing: {drawing}");
            let id = drawing["id"].as_str().unwrap().to_owned();
            let partial = format!("20000 of {total} instances drawn: over the budget");

            let started = Instant::now();
            let (status, _, doc) = fetch(&server, &viewer.access, &format!("/api/cad/drawings/{id}/scene")).await;
            assert_eq!(status, StatusCode::OK, "{name}: the scene is drawn partially, not refused");
            assert!(started.elapsed() < Duration::from_secs(30), "{name}: the scene answers quickly");
            let (header, _) = decode_scene(&doc);
            assert_eq!(header["truncated"], true, "{name}");
            assert_eq!(header["shortfall"]["instancesDrawn"], 20_000, "{name}: {}", header["shortfall"]);
            assert_eq!(header["shortfall"]["instancesTotal"].as_f64().unwrap(), total as f64, "{name}: counted");
            let message = header["shortfall"]["message"].as_str().unwrap();
            assert!(message.starts_with(&partial), "{name}: the viewer's diagnostic: {message}");
            let segments: u64 =
                header["batches"].as_array().unwrap().iter().map(|b| b["lines"]["count"].as_u64().unwrap()).sum();
            // A line per instance of the array; nested, only the innermost instances hold a line.
            assert!(segments > 10_000 && segments <= 20_000, "{name}: a line per innermost instance: {segments}");

            let started = Instant::now();
            let path = format!("/api/cad/drawings/{id}/render?format=svg&width=4000");
            let (status, headers, svg) = fetch(&server, &viewer.access, &path).await;
            assert_eq!(status, StatusCode::OK, "{name}: the SVG is drawn partially");
            assert!(started.elapsed() < Duration::from_secs(30), "{name}: the SVG answers quickly");
            let shortfall = headers.get("x-cad-shortfall").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(shortfall.contains("SVG reached its budget of 300000 bytes"), "{name}: {shortfall}");
            assert!(svg.len() < 300_000 + 1_000, "{name}: the SVG stays within its budget: {}", svg.len());
            assert!(String::from_utf8_lossy(&svg).trim_end().ends_with("</svg>"), "{name}: a whole document");

            let started = Instant::now();
            let path = format!("/api/cad/drawings/{id}/render?format=png&width=4000");
            let (status, headers, png) = fetch(&server, &viewer.access, &path).await;
            assert_eq!(status, StatusCode::OK, "{name}: the PNG is drawn partially");
            assert!(started.elapsed() < Duration::from_secs(60), "{name}: the PNG answers quickly");
            assert!(png.starts_with(b"\x89PNG"), "{name}");
            let shortfall = headers.get("x-cad-shortfall").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(shortfall.starts_with(&partial), "{name}: the export says it is partial: {shortfall}");
        }
    })
    .await;
}

#[tokio::test]
async fn heavy_cad_work_waits_for_a_worker_and_is_refused_busy_past_the_queue() {
    each_database(|db| async move {
        // One worker, a short queue, and budgets so large that the bomb outlasts the time budget.
        let server = TestServer::start_with(&db, |config| {
            config.cad.budgets.workers = 1;
            config.cad.budgets.queue = Duration::from_millis(500);
            config.cad.budgets.max_instances = u64::MAX;
            config.cad.budgets.max_vertices = 400_000_000;
            config.cad.time_budget = Duration::from_secs(3);
        })
        .await;
        let designer = server.user("bomber", Role::Designer).await;
        let (status, drawing) = upload(&server, &designer.access, "array-bomb.dxf", cad_bombs::array_bomb()).await;
        assert_eq!(status, StatusCode::CREATED, "{drawing}");
        let id = drawing["id"].as_str().unwrap().to_owned();

        let scene = format!("/api/cad/drawings/{id}/scene");
        let svg = format!("/api/cad/drawings/{id}/render?format=svg&width=4000");
        let started = Instant::now();
        let (first, second) = tokio::join!(fetch(&server, &designer.access, &scene), async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            fetch(&server, &designer.access, &svg).await
        });
        let (status, headers, body) = second;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the second waits for the only worker, then is refused");
        assert!(header(&headers, reqwest::header::RETRY_AFTER).parse::<u64>().unwrap() > 0, "with Retry-After");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "busy", "{body}");
        assert!(body["message"].as_str().unwrap().contains("CAD"), "{body}");

        let (status, _, body) = first;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "past its time budget the scene is refused clearly");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(body["message"].as_str().unwrap().contains("CAD_TIME_BUDGET_SECS"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(10), "the time budget ends it: {:?}", started.elapsed());
    })
    .await;
}

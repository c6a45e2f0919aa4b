//! Files over the real HTTP API, on SQLite and on PostgreSQL: who may read which file, route by
//! route, and which uploads are accepted.
//!
//! A file is visible to its uploader, to admins, and to whoever can see a thing that uses it: the
//! file of a CAD library drawing is every signed-in user's; a chat attachment is its uploader's
//! (the conversation is its owner's alone). Any other file answers 404, exactly like an unknown id.
#![allow(clippy::unwrap_used)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zk_core::store::Role;
use zk_tests::db::each_database;
use zk_tests::model_double::ModelDouble;
use zk_tests::server::{SignedIn, TestServer};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// An R2000 DXF with one line.
const DXF: &str = "0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n0\nENDSEC\n\
0\nSECTION\n2\nENTITIES\n0\nLINE\n8\n0\n10\n0\n20\n0\n30\n0\n11\n100\n21\n50\n31\n0\n0\nENDSEC\n0\nEOF\n";

/// A request of `path` as `user`: the status and the body's bytes.
async fn send(server: &TestServer, method: Method, user: &SignedIn, path: &str) -> (StatusCode, Vec<u8>) {
    let response = server.http.request(method, server.url(path)).bearer_auth(&user.access).send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

/// The ids `GET /api/files` lists for `user`.
async fn listed(server: &TestServer, user: &SignedIn) -> Vec<String> {
    let (status, body) = server.call(Method::GET, "/api/files?limit=500", Some(&user.access), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
}

/// A new conversation of `user` with the agent `agent_id`: its id.
async fn conversation(server: &TestServer, user: &SignedIn, agent_id: i64) -> String {
    let body = json!({ "agent_id": agent_id });
    let (status, conversation) = server.call(Method::POST, "/api/conversations", Some(&user.access), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    conversation["id"].as_str().unwrap().to_owned()
}

/// Sends a question with `attachments` in `conversation` as `user`: `Ok` once the answer finished, or
/// the refusal's status and body.
async fn send_message(
    server: &TestServer,
    user: &SignedIn,
    conversation: &str,
    attachments: &[&str],
) -> Result<(), (StatusCode, Value)> {
    let path = format!("/api/conversations/{conversation}/messages");
    let body = json!({ "text": "看看这个文件", "attachments": attachments });
    let events = server.events(Method::POST, &path, &user.access, Some(body)).await?;
    let (name, data) = events.last().unwrap();
    assert_eq!((name.as_str(), data["message"]["status"].as_str()), ("finished", Some("complete")), "{events:?}");
    Ok(())
}

#[tokio::test]
async fn every_file_route_shows_a_file_only_to_its_uploader_admins_and_those_who_see_what_uses_it() {
    each_database(|db| async move {
        let double = ModelDouble::start().await;
        let server = TestServer::start(&db).await;
        let ada = server.user("ada", Role::Admin).await;
        let abe = server.user("abe", Role::Admin).await;
        let dan = server.user("dan", Role::Designer).await;
        let eve = server.user("eve", Role::Designer).await;
        let vera = server.user("vera", Role::Viewer).await;
        let walt = server.user("walt", Role::Viewer).await;
        let spec = json!({ "name": "vision", "provider": "openai", "base_url": double.base, "model": "qwen-vl" });
        let (status, agent) = server
            .call(Method::POST, "/api/agents", Some(&ada.access), Some(json!({ "spec": spec, "api_key": "sk-good" })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        let agent = agent["id"].as_i64().unwrap();

        // Dan's chat attachment: uploaded, then sent in his own conversation.
        let dans_conversation = conversation(&server, &dan, agent).await;
        let attachment = server.upload(&dan, "plan.png", PNG.to_vec()).await["id"].as_str().unwrap().to_owned();
        send_message(&server, &dan, &dans_conversation, &[attachment.as_str()]).await.unwrap();
        // Eve's and Ada's own uploads.
        let eves = server.upload(&eve, "notes.txt", "层高 3.2 米".as_bytes().to_vec()).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let adas = server.upload(&ada, "admin.txt", b"settings".to_vec()).await["id"].as_str().unwrap().to_owned();
        // Dan's drawing in the CAD library: its file is every signed-in user's.
        let response = server
            .http
            .post(server.url("/api/cad/drawings"))
            .query(&[("name", "library.dxf")])
            .bearer_auth(&dan.access)
            .body(DXF)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "the drawing is in the library");
        let (_, dans_files) = server.call(Method::GET, "/api/files", Some(&dan.access), None).await;
        let drawing_file = dans_files
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "library.dxf")
            .and_then(|f| f["id"].as_str())
            .expect("the uploader lists the drawing's file")
            .to_owned();

        let everyone = [("ada", &ada), ("abe", &abe), ("dan", &dan), ("eve", &eve), ("vera", &vera), ("walt", &walt)];
        let cases: [(&str, &str, &[&str]); 4] = [
            ("dan's chat attachment", &attachment, &["ada", "abe", "dan"]),
            ("eve's upload", &eves, &["ada", "abe", "eve"]),
            ("ada's upload", &adas, &["ada", "abe"]),
            ("the file of a library drawing", &drawing_file, &["ada", "abe", "dan", "eve", "vera", "walt"]),
        ];
        for (name, user) in everyone {
            let list = listed(&server, user).await;
            for (what, id, readers) in cases {
                let may = readers.contains(&name);
                assert_eq!(list.contains(&id.to_owned()), may, "{name} lists {what}: {may}");
                let expected = if may { StatusCode::OK } else { StatusCode::NOT_FOUND };
                for path in [
                    format!("/api/files/{id}"),
                    format!("/api/files/{id}/content"),
                    format!("/api/files/{id}/content?inline=true"),
                ] {
                    let (status, body) = send(&server, Method::GET, user, &path).await;
                    assert_eq!(status, expected, "GET {path} ({what}) as {name}");
                    if !may {
                        // Exactly what an unknown id answers, but for the id.
                        let unknown = path.replace(id, "0190c0de-0000-7000-8000-000000000000");
                        let (unknown_status, unknown_body) = send(&server, Method::GET, user, &unknown).await;
                        assert_eq!(unknown_status, StatusCode::NOT_FOUND);
                        let body = String::from_utf8_lossy(&body).replace(id, "0190c0de-0000-7000-8000-000000000000");
                        assert_eq!(body, String::from_utf8_lossy(&unknown_body), "{what} is not confirmed to {name}");
                    }
                }
            }
            if ["ada", "abe"].contains(&name) {
                assert!(list.len() >= 4, "an admin lists every file: {list:?}");
            }
        }
        let (status, content) = send(&server, Method::GET, &ada, &format!("/api/files/{attachment}/content")).await;
        assert_eq!((status, content), (StatusCode::OK, PNG.to_vec()), "an admin downloads the attachment itself");
        let (status, content) = send(&server, Method::GET, &walt, &format!("/api/files/{drawing_file}/content")).await;
        assert_eq!((status, content), (StatusCode::OK, DXF.as_bytes().to_vec()), "a viewer downloads the drawing");
        let (status, _) =
            server.call(Method::GET, &format!("/api/conversations/{dans_conversation}"), Some(&eve.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the conversation that uses the attachment is dan's alone");

        // Attaching: only a file the sender may read.
        let eves_conversation = conversation(&server, &eve, agent).await;
        let refused = send_message(&server, &eve, &eves_conversation, &[attachment.as_str()]).await.unwrap_err();
        assert_eq!(refused.0, StatusCode::NOT_FOUND, "another designer's file cannot be attached: {refused:?}");
        let (_, detail) =
            server.call(Method::GET, &format!("/api/conversations/{eves_conversation}"), Some(&eve.access), None).await;
        assert_eq!(detail["messages"], json!([]), "nothing is stored for a refused message");
        send_message(&server, &eve, &eves_conversation, &[drawing_file.as_str()]).await.unwrap();
        send_message(&server, &ada, &conversation(&server, &ada, agent).await, &[eves.as_str()]).await.unwrap();

        // Deleting: a viewer is refused by role whatever the id; a file one cannot read is not found;
        // one that is readable but not one's own is forbidden.
        let unknown = "/api/files/0190c0de-0000-7000-8000-000000000000";
        for user in [&vera, &walt] {
            assert_eq!(send(&server, Method::DELETE, user, unknown).await.0, StatusCode::FORBIDDEN);
            for id in [&attachment, &drawing_file] {
                let (status, _) = send(&server, Method::DELETE, user, &format!("/api/files/{id}")).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not delete: the same answer as for no file");
            }
        }
        assert_eq!(send(&server, Method::DELETE, &eve, unknown).await.0, StatusCode::NOT_FOUND);
        let (status, _) = send(&server, Method::DELETE, &eve, &format!("/api/files/{attachment}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "eve cannot learn that dan's attachment exists");
        let (status, _) = send(&server, Method::DELETE, &eve, &format!("/api/files/{drawing_file}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "eve sees the drawing's file but it is not hers to delete");
        let (status, _) = send(&server, Method::DELETE, &dan, &format!("/api/files/{eves}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nor dan eve's");
        let (status, _) = send(&server, Method::DELETE, &abe, &format!("/api/files/{eves}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "an admin deletes any file");
        let (status, _) = send(&server, Method::DELETE, &dan, &format!("/api/files/{attachment}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "the uploader deletes his own");
        for (id, user) in [(&eves, &eve), (&attachment, &dan)] {
            let (status, _) = send(&server, Method::GET, user, &format!("/api/files/{id}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "a deleted file is gone");
        }
        server.stop().await;
    })
    .await;
}

/// A binary DXF (R13+ two-byte group codes) after `sentinel`, with one line.
fn binary_dxf(sentinel: &[u8]) -> Vec<u8> {
    enum V {
        Text(&'static str),
        Real(f64),
    }
    let groups = [
        (0, V::Text("SECTION")),
        (2, V::Text("HEADER")),
        (9, V::Text("$ACADVER")),
        (1, V::Text("AC1015")),
        (0, V::Text("ENDSEC")),
        (0, V::Text("SECTION")),
        (2, V::Text("ENTITIES")),
        (0, V::Text("LINE")),
        (8, V::Text("0")),
        (10, V::Real(0.0)),
        (20, V::Real(0.0)),
        (30, V::Real(0.0)),
        (11, V::Real(100.0)),
        (21, V::Real(50.0)),
        (31, V::Real(0.0)),
        (0, V::Text("ENDSEC")),
        (0, V::Text("EOF")),
    ];
    let mut out = sentinel.to_vec();
    for (code, value) in groups {
        out.extend_from_slice(&i16::to_le_bytes(code));
        match value {
            V::Text(text) => {
                out.extend_from_slice(text.as_bytes());
                out.push(0);
            }
            V::Real(number) => out.extend_from_slice(&number.to_le_bytes()),
        }
    }
    out
}

#[tokio::test]
async fn binary_dxf_files_are_accepted_whether_their_sentinel_line_ends_in_crlf_or_lf() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        for (sentinel, how) in
            [(b"AutoCAD Binary DXF\r\n\x1a\0".as_slice(), "CR LF"), (b"AutoCAD Binary DXF\n\x1a\0".as_slice(), "LF")]
        {
            let bytes = binary_dxf(sentinel);
            let stored = server.upload(&dan, "binary.dxf", bytes.clone()).await;
            assert_eq!(stored["media_type"], "image/vnd.dxf", "a binary DXF ({how}) is a DXF: {stored}");
            let response = server
                .http
                .post(server.url("/api/cad/drawings"))
                .query(&[("name", "binary.dxf")])
                .bearer_auth(&dan.access)
                .body(bytes)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let drawing: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(status, StatusCode::CREATED, "the library takes the binary DXF ({how}): {drawing}");
            assert_eq!(
                (drawing["status"].as_str(), drawing["entityCount"].as_i64()),
                (Some("ready"), Some(1)),
                "and reads its line ({how}): {drawing}"
            );
        }
        server.stop().await;
    })
    .await;
}

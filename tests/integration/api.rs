//! The HTTP API, black-box over real HTTP, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zk_core::store::{LogQuery, Role};
use zk_server::http::Access;
use zk_tests::db::each_database;
use zk_tests::server::{PASSWORD, TestServer};

fn audit_actions(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn every_route_declares_its_role_and_enforces_it() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let mut viewer = server.user("vera", Role::Viewer).await;
        let mut designer = server.user("dan", Role::Designer).await;
        let mut admin = server.user("ada", Role::Admin).await;
        let (_, table) = zk_server::router(
            server.core.clone(),
            &zk_server::ServerSettings { port: server.port, options: zk_server::ServeOptions::default() },
            tokio_util::sync::CancellationToken::new(),
        );
        assert!(table.len() >= 25, "the table lists every API route: {}", table.len());
        for route in &table {
            let path = format!(
                "/api{}",
                route
                    .path
                    .replace("{id}", "1")
                    .replace("{key}", "features.test")
                    .replace("{version}", "1")
                    .replace("{message}", "m1")
                    .replace("{owner}", "0")
            );
            // Bodies are invalid on purpose: the access check must answer before the body is read.
            let send = |token: Option<String>| {
                let (server, method, path) = (&server, route.method.clone(), path.clone());
                async move {
                    let mut request = server
                        .http
                        .request(method.clone(), server.url(&path))
                        .header("content-type", "application/json");
                    if method != Method::GET {
                        request = request.body("{}");
                    }
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    // SSE routes stream forever: the status line is all we need.
                    let response =
                        tokio::time::timeout(Duration::from_secs(10), request.send()).await.unwrap().unwrap();
                    response.status()
                }
            };
            let anonymous = send(None).await;
            match route.access {
                Access::Public => assert_ne!(anonymous, StatusCode::UNAUTHORIZED, "{} {path} is public", route.method),
                Access::Role(needed) => {
                    assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "{} {path} needs a token", route.method);
                    for (role, token) in [(Role::Viewer, &viewer), (Role::Designer, &designer), (Role::Admin, &admin)] {
                        let status = send(Some(token.access.clone())).await;
                        if role >= needed {
                            assert!(
                                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                                "{} {path}: a {role:?} passes the check (got {status})",
                                route.method
                            );
                        } else {
                            assert_eq!(status, StatusCode::FORBIDDEN, "{} {path}: a {role:?} is refused", route.method);
                        }
                    }
                }
            }
            if route.path == "/auth/logout" {
                // That route ended the sessions; sign in again for the rest of the table.
                viewer = server.login("vera", PASSWORD).await;
                designer = server.login("dan", PASSWORD).await;
                admin = server.login("ada", PASSWORD).await;
            }
        }
        let (status, body) = server.call(Method::GET, "/api/no/such/route", Some(&admin.access), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let (status, r2) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": admin.refresh }))).await;
        assert_eq!(status, StatusCode::OK, "R1 buys a new pair: {r2}");
        let r2_refresh = r2["refresh_token"].as_str().unwrap().to_owned();
        let r2_access = r2["access_token"].as_str().unwrap().to_owned();
        assert_ne!(r2_refresh, admin.refresh, "the refresh token rotates");

        let (status, body) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": admin.refresh }))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "R1 used twice is refused: {body}");
        let (status, _) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": r2_refresh }))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the whole family, R2 included, is revoked");
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&r2_access), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "and so are its access tokens");

        let other = server.login("ada", PASSWORD).await;
        let (_, audit) =
            server.call(Method::GET, "/api/admin/audit?kind=auth.refresh_reuse", Some(&other.access), None).await;
        assert_eq!(audit_actions(&audit), vec!["auth.refresh_reuse:denied"], "the reuse is audited");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn logout_password_change_and_disabling_end_access_at_once() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let dan = server.user("dan", Role::Designer).await;

        let (status, _) = server.call(Method::POST, "/api/auth/logout", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a logged-out access token is refused before it expires");
        let (status, _) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": dan.refresh }))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let dan = server.login("dan", PASSWORD).await;
        let change = json!({ "current_password": "wrong one entirely", "new_password": "a brand new passphrase" });
        let (status, _) = server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the current password must be right");
        let change = json!({ "current_password": PASSWORD, "new_password": PASSWORD });
        let (status, body) = server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the current password is not a new one: {body}");
        assert_eq!(body["details"]["field"], "new_password", "{body}");
        assert!(body["message"].as_str().unwrap().contains("choose a different password"), "{body}");
        let change = json!({ "current_password": PASSWORD, "new_password": " ".repeat(16) });
        let (status, body) = server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "an all-whitespace password is refused: {body}");
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::OK, "a refused change leaves the session as it was");
        let change = json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" });
        let (status, fresh) = server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{fresh}");
        let (status, _) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": dan.refresh }))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the old refresh token dies with the old password");
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "and the old access token");
        let fresh_access = fresh["access_token"].as_str().unwrap().to_owned();
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&fresh_access), None).await;
        assert_eq!(status, StatusCode::OK, "the new session works");

        let (status, _) = server
            .call(
                Method::PATCH,
                &format!("/api/users/{}", dan.user_id),
                Some(&admin.access),
                Some(json!({ "disabled": true })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = server.call(Method::GET, "/api/auth/me", Some(&fresh_access), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a disabled user is out on the next request");
        let (status, _) = server
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "username": "dan", "password": "a brand new passphrase" })),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "and cannot sign in");

        let (status, body) = server
            .call(
                Method::PATCH,
                &format!("/api/users/{}", admin.user_id),
                Some(&admin.access),
                Some(json!({ "role": "viewer" })),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "the last admin cannot be demoted: {body}");
        server.stop().await;
    })
    .await;
}

fn jwt(header: Value, claims: Value, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_refused() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let key = std::fs::read_to_string(server.dir.path().join("secrets/jwt-access.key")).unwrap();
        let me = async |token: &str| server.call(Method::GET, "/api/auth/me", Some(token), None).await.0;
        let claims =
            serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(admin.access.split('.').nth(1).unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            me(&jwt(json!({"alg":"HS256","typ":"JWT"}), claims.clone(), key.trim().as_bytes())).await,
            StatusCode::OK,
            "the control token is valid"
        );

        let with = |field: &str, value: Value| {
            let mut c = claims.clone();
            c[field] = value;
            c
        };
        let now = chrono::Utc::now().timestamp();
        let cases = [
            (
                "alg none",
                format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
                    URL_SAFE_NO_PAD.encode(claims.to_string())
                ),
            ),
            ("wrong key", jwt(json!({"alg":"HS256"}), claims.clone(), b"an attacker's key of some length!!")),
            (
                "jku elsewhere",
                jwt(json!({"alg":"HS256","jku":"https://evil.example/keys","kid":"x"}), claims.clone(), b"attacker"),
            ),
            ("HS512", jwt(json!({"alg":"HS512"}), claims.clone(), key.trim().as_bytes())),
            ("expired", jwt(json!({"alg":"HS256"}), with("exp", json!(now - 31)), key.trim().as_bytes())),
            ("not yet valid", jwt(json!({"alg":"HS256"}), with("nbf", json!(now + 120)), key.trim().as_bytes())),
            ("wrong audience", jwt(json!({"alg":"HS256"}), with("aud", json!("other-app")), key.trim().as_bytes())),
            ("wrong issuer", jwt(json!({"alg":"HS256"}), with("iss", json!("other-app")), key.trim().as_bytes())),
            ("refresh type", jwt(json!({"alg":"HS256"}), with("typ", json!("refresh")), key.trim().as_bytes())),
            ("refresh token as bearer", admin.refresh.clone()),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (name, token) in cases {
            assert_eq!(me(&token).await, StatusCode::UNAUTHORIZED, "{name} is refused");
        }
        // HS512 is refused by algorithm pinning, not by a bad signature: the key is right.
        server.clock.advance(Duration::from_secs(16 * 60));
        assert_eq!(me(&admin.access).await, StatusCode::UNAUTHORIZED, "an access token expires (15 min + 30 s leeway)");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn repeated_wrong_passwords_slow_down_but_never_lock_out_for_good() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        server.user("ada", Role::Admin).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let (status, _) = server
                .call(
                    Method::POST,
                    "/api/auth/login",
                    None,
                    Some(json!({ "username": "ada", "password": "wrong wrong wrong" })),
                )
                .await;
            statuses.push(status);
        }
        assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5], "the first failures are answered normally");
        assert!(
            statuses[5..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
            "then attempts must wait: {statuses:?}"
        );
        let response = server
            .http
            .post(server.url("/api/auth/login"))
            .json(&json!({ "username": "ada", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits during the delay");
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "Retry-After says how long: {retry_after}");

        server.clock.advance(Duration::from_secs(61));
        server.login("ada", PASSWORD).await;
        let audit = server
            .core
            .store
            .audit_entries(&LogQuery { kind: Some("auth.login".into()), before_id: None, limit: 100 })
            .await
            .unwrap();
        assert_eq!(audit.len(), 23, "every attempt is audited (with the first and the last sign-in)");
        assert!(audit.iter().all(|e| e.at.millis() > 0));
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn passwords_are_hashed_with_argon2id_and_checked_against_the_policy() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let create =
            |username: &str, password: &str| json!({ "username": username, "password": password, "role": "designer" });
        for (password, why) in [
            ("seven77", "7 characters"),
            ("password123", "a common password"),
            ("Password123", "a common password in another case"),
        ] {
            let (status, body) =
                server.call(Method::POST, "/api/users", Some(&admin.access), Some(create("bob", password))).await;
            assert_eq!(
                (status, body["details"]["field"].as_str()),
                (StatusCode::BAD_REQUEST, Some("password")),
                "{why} is refused: {body}"
            );
        }
        let long = "长".repeat(128);
        let (status, _) =
            server.call(Method::POST, "/api/users", Some(&admin.access), Some(create("bob", &long))).await;
        assert_eq!(status, StatusCode::CREATED, "128 characters of any script are accepted");
        let (status, _) =
            server.call(Method::POST, "/api/users", Some(&admin.access), Some(create("carol", &long))).await;
        assert_eq!(status, StatusCode::CREATED);
        let bob = server.core.store.user_by_username("bob").await.unwrap().unwrap();
        let carol = server.core.store.user_by_username("carol").await.unwrap().unwrap();
        let (bob_hash, carol_hash) = (bob.password_hash.unwrap(), carol.password_hash.unwrap());
        assert!(bob_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{bob_hash}");
        assert_ne!(bob_hash, carol_hash, "the same password hashes differently per user");
        let (status, _) = server
            .call(Method::POST, "/api/auth/login", None, Some(json!({ "username": "BOB", "password": long })))
            .await;
        assert_eq!(status, StatusCode::OK, "user names are case-insensitive");
        let (status, _) = server
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "username": "bob", "password": format!("{long}x") })),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "no truncation: one more character is another password");
        let (status, _) =
            server.call(Method::POST, "/api/users", Some(&admin.access), Some(create("BOB", PASSWORD))).await;
        assert_eq!(status, StatusCode::CONFLICT, "user names are unique whatever the case");
        server.stop().await;
    })
    .await;
}

/// Sends `request` as it is over a new connection (reqwest cannot send two Host headers); the status.
async fn raw_status(port: u16, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut head)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&head);
    text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no status line in {text:?}"))
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_and_there_is_no_cors() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        for host in [
            format!("evil.example:{}", server.port),
            format!("127.0.0.1.nip.io:{}", server.port),
            "localhost:1".to_owned(),
        ] {
            let response = server.http.get(server.url("/api/health")).header("host", &host).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST, "Host {host} is refused (DNS rebinding)");
        }
        let response = server
            .http
            .get(server.url("/api/health"))
            .header("host", format!("localhost:{}", server.port))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "localhost is ours");
        for (first, second) in [
            (format!("127.0.0.1:{}", server.port), format!("evil.example:{}", server.port)),
            (format!("evil.example:{}", server.port), format!("127.0.0.1:{}", server.port)),
            (format!("127.0.0.1:{}", server.port), format!("127.0.0.1:{}", server.port)),
        ] {
            let status = raw_status(
                server.port,
                &format!("GET /api/health HTTP/1.1\r\nHost: {first}\r\nHost: {second}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert!(
                status == 400 || status == 421,
                "two Host headers ({first}, {second}) are refused, whichever comes first: got {status}"
            );
        }
        let status = raw_status(
            server.port,
            &format!("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", server.port),
        )
        .await;
        assert_eq!(status, 200, "one Host header of ours passes");

        let before = server.core.store.count_users().await.unwrap();
        let body = json!({ "username": "mallory", "password": PASSWORD, "role": "admin" });
        let response = server
            .http
            .post(server.url("/api/users"))
            .bearer_auth(&admin.access)
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "a cross-origin write is refused even with a valid token");
        let response =
            server.http.post(server.url("/api/users")).header("origin", "null").json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "the null origin too");
        assert_eq!(server.core.store.count_users().await.unwrap(), before, "nothing was created");
        let (_, audit) =
            server.call(Method::GET, "/api/admin/audit?kind=http.origin_denied", Some(&admin.access), None).await;
        assert_eq!(audit.as_array().unwrap().len(), 2, "refusals are audited");
        let response = server
            .http
            .post(server.url("/api/users"))
            .bearer_auth(&admin.access)
            .header("origin", format!("http://127.0.0.1:{}", server.port))
            .json(&json!({ "username": "erin", "password": PASSWORD, "role": "viewer" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "our own origin may write");

        let response = server
            .http
            .request(Method::OPTIONS, server.url("/api/users"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        let cors: Vec<_> = response.headers().keys().filter(|k| k.as_str().starts_with("access-control-")).collect();
        assert!(cors.is_empty(), "no CORS headers for a foreign preflight: {cors:?}");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn malformed_requests_get_clear_errors_and_change_nothing() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let admin = server.user("ada", Role::Admin).await;
        let users_before = server.core.store.count_users().await.unwrap();
        let raw = |body: String| {
            let server = &server;
            let token = admin.access.clone();
            async move {
                let response = server
                    .http
                    .post(server.url("/api/users"))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let cases = [
            ("malformed JSON", "{\"username\": ".to_owned(), StatusCode::BAD_REQUEST),
            (
                "wrong type",
                json!({ "username": 7, "password": PASSWORD, "role": "viewer" }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            ("missing field", json!({ "username": "x" }).to_string(), StatusCode::BAD_REQUEST),
            (
                "unknown field",
                json!({ "username": "x", "password": PASSWORD, "role": "viewer", "is_admin": true }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "unknown role",
                json!({ "username": "x", "password": PASSWORD, "role": "superuser" }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "path in name",
                json!({ "username": "../etc", "password": PASSWORD, "role": "viewer" }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "NUL in name",
                json!({ "username": "a\u{0}b", "password": PASSWORD, "role": "viewer" }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "300-character name",
                json!({ "username": "a".repeat(300), "password": PASSWORD, "role": "viewer" }).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            ("2 MiB body", format!("{{\"username\":\"{}\"}}", "a".repeat(2 << 20)), StatusCode::PAYLOAD_TOO_LARGE),
        ];
        for (name, body, expected) in cases {
            let (status, error) = raw(body).await;
            assert_eq!(status, expected, "{name}: {error}");
            assert!(
                error["code"].is_string() && error["message"].is_string() && error["details"].is_object(),
                "{name}: the error has the API shape: {error}"
            );
        }
        let response =
            server.http.post(server.url("/api/users")).bearer_auth(&admin.access).body("{}").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON needs its content type");
        let (status, _) = server.call(Method::PATCH, "/api/users/abc", Some(&admin.access), Some(json!({}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a path parameter of the wrong type");
        let (status, _) = server.call(Method::GET, "/api/tasks?state=exploded", Some(&admin.access), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = server.call(Method::DELETE, "/api/health", None, None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
        assert_eq!(server.core.store.count_users().await.unwrap(), users_before, "no bad request created a user");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn uploads_are_capped_while_streaming_sniffed_and_served_with_safe_names() {
    each_database(|db| async move {
        let server = TestServer::start_with(&db, |config| config.files.upload_max_bytes = 64 * 1024).await;
        let dan = server.user("dan", Role::Designer).await;
        let eve = server.user("eve", Role::Designer).await;
        let vera = server.user("vera", Role::Viewer).await;
        let upload = |name: &str, body: reqwest::Body, token: String| {
            let request =
                server.http.post(server.url("/api/files")).query(&[("name", name)]).bearer_auth(token).body(body);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };

        // A body without a declared length, larger than the limit: cut off while streaming.
        let chunks = futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 4096])));
        let (status, body) = upload("big.txt", reqwest::Body::wrap_stream(chunks), dan.access.clone()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
        let temp_left = std::fs::read_dir(server.core.config.files.upload_dir.join("tmp")).unwrap().count();
        assert_eq!(temp_left, 0, "no temporary file is left behind");
        let (status, _) = upload("big.txt", reqwest::Body::from(vec![b'a'; 65 * 1024]), dan.access.clone()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "a declared length over the limit");

        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
        for (name, bytes, why) in [
            ("fake.png", b"0\nSECTION\n2\nHEADER\n0\nENDSEC\n0\nEOF\n".to_vec(), "a DXF named .png"),
            ("plan.dxf", b"PK\x03\x04\x14\0\0\0\x08\0".to_vec(), "a zip named .dxf"),
            ("a.png.exe", png.clone(), "a double extension"),
            ("photo.png", b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec(), "JPEG bytes named .png"),
        ] {
            let (status, body) = upload(name, reqwest::Body::from(bytes), dan.access.clone()).await;
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{why} is refused: {body}");
        }

        let (status, stored) =
            upload("../../报价 \u{202e}gnp.png", reqwest::Body::from(png.clone()), dan.access.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{stored}");
        assert_eq!(stored["name"], "报价 gnp.png", "the name is kept only as sanitised metadata");
        assert_eq!(stored["media_type"], "image/png");
        let id = stored["id"].as_str().unwrap();
        let blob = server.core.files.blobs().blob_path(stored["sha256"].as_str().unwrap()).unwrap();
        assert!(blob.starts_with(&server.core.config.files.upload_dir), "stored under its hash inside the file store");
        assert_eq!(std::fs::read(&blob).unwrap(), png);

        let response = server
            .http
            .get(server.url(&format!("/api/files/{id}/content")))
            .bearer_auth(&dan.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the uploader downloads it");
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(
            response.headers()["content-disposition"],
            "attachment; filename=\"__ gnp.png\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%20gnp.png"
        );
        assert_eq!(response.bytes().await.unwrap().to_vec(), png);

        let (status, _) = upload("mine.png", reqwest::Body::from(png.clone()), vera.access.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "viewers cannot upload");
        let (status, _) = server.call(Method::DELETE, &format!("/api/files/{id}"), Some(&eve.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another designer cannot delete it, nor learn that it exists");
        let (status, again) = upload("same.png", reqwest::Body::from(png.clone()), eve.access.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again["sha256"], stored["sha256"], "the same content is stored once");
        let (status, _) = server.call(Method::DELETE, &format!("/api/files/{id}"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(blob.exists(), "the blob stays while another file references it");
        let (status, _) = server
            .call(Method::DELETE, &format!("/api/files/{}", again["id"].as_str().unwrap()), Some(&eve.access), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(!blob.exists(), "the last reference takes the blob with it");
        let (status, _) = server.call(Method::GET, &format!("/api/files/{id}"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        server.stop().await;
    })
    .await;
}

/// Reads `task` events from an SSE response until `done` says stop; returns them.
async fn task_events(response: reqwest::Response, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(chunk)) = tokio::time::timeout_at(deadline, stream.next()).await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: task")
                && let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: "))
            {
                let task: Value = serde_json::from_str(data).unwrap();
                let finished = done(&task);
                events.push(task);
                if finished {
                    return events;
                }
            }
        }
    }
    panic!("the event stream ended or stalled before the expected event; got {events:?}");
}

#[tokio::test]
async fn tasks_stream_progress_retry_time_out_and_cancel() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        let vera = server.user("vera", Role::Viewer).await;
        let events = server.http.get(server.url("/api/tasks/events")).bearer_auth(&dan.access).send().await.unwrap();
        assert_eq!(events.headers()["content-type"], "text/event-stream");

        let enqueue = |payload: Value, extra: Value| {
            let mut body = json!({ "kind": "diagnostics.selftest", "payload": payload });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            server.call(Method::POST, "/api/tasks", Some(&dan.access), Some(body))
        };
        let (status, task) = enqueue(json!({ "steps": 4, "step_ms": 150 }), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        let id = task["id"].as_i64().unwrap();
        let seen = task_events(events, |t| t["id"] == id && t["state"] == "succeeded").await;
        let progress: Vec<i64> =
            seen.iter().filter(|t| t["id"] == id).map(|t| t["progress"].as_i64().unwrap()).collect();
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {progress:?}");
        assert!(progress.iter().any(|p| *p > 0 && *p < 100), "intermediate progress is streamed: {progress:?}");
        assert_eq!(seen.last().unwrap()["result"], json!({ "steps": 4, "attempt": 1 }));

        let (status, _) = server
            .call(Method::POST, "/api/tasks", Some(&vera.access), Some(json!({ "kind": "diagnostics.selftest" })))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "viewers cannot start tasks");
        let (_, listed) = server.call(Method::GET, "/api/tasks", Some(&vera.access), None).await;
        assert_eq!(listed, json!([]), "a viewer sees only their own tasks");
        let (status, _) = server.call(Method::GET, &format!("/api/tasks/{id}"), Some(&vera.access), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nor can they look one up by id");
        let keyed = || {
            server
                .http
                .post(server.url("/api/tasks"))
                .bearer_auth(&dan.access)
                .header("idempotency-key", "upload-42")
                .json(&json!({ "kind": "diagnostics.selftest", "payload": { "steps": 1, "step_ms": 1 } }))
                .send()
        };
        let first: Value = keyed().await.unwrap().json().await.unwrap();
        let retried: Value = keyed().await.unwrap().json().await.unwrap();
        assert_eq!(first["id"], retried["id"], "a retried enqueue with its Idempotency-Key returns the first task");
        let (status, body) = enqueue(json!({ "steps": 0 }), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a bad payload is refused when enqueued: {body}");
        let (status, _) =
            server.call(Method::POST, "/api/tasks", Some(&dan.access), Some(json!({ "kind": "rm -rf" }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "unknown kinds are refused");

        let wait_for = |id: i64, state: &'static str| {
            let server = &server;
            let token = dan.access.clone();
            async move {
                for _ in 0..300 {
                    let (_, task) = server.call(Method::GET, &format!("/api/tasks/{id}"), Some(&token), None).await;
                    if task["state"] == state {
                        return task;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                panic!("task {id} did not reach {state}");
            }
        };
        let (_, flaky) = enqueue(json!({ "steps": 1, "step_ms": 1, "fail_attempts": 1 }), json!({})).await;
        let flaky = wait_for(flaky["id"].as_i64().unwrap(), "succeeded").await;
        assert_eq!(flaky["attempts"], 2, "a retryable failure runs again after a backoff");

        let (_, slow) =
            enqueue(json!({ "steps": 10, "step_ms": 500 }), json!({ "timeout_secs": 1, "max_attempts": 1 })).await;
        let slow = wait_for(slow["id"].as_i64().unwrap(), "failed").await;
        assert!(slow["error"].as_str().unwrap().contains("time limit"), "{slow}");

        let (_, long) = enqueue(json!({ "steps": 100, "step_ms": 100 }), json!({})).await;
        let long_id = long["id"].as_i64().unwrap();
        wait_for(long_id, "running").await;
        let (status, _) =
            server.call(Method::POST, &format!("/api/tasks/{long_id}/cancel"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::OK);
        let cancelled = wait_for(long_id, "cancelled").await;
        assert!(cancelled["progress"].as_i64().unwrap() < 100, "it stopped part way");
        let (status, _) =
            server.call(Method::POST, &format!("/api/tasks/{long_id}/cancel"), Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "an ended task cannot be cancelled again");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn health_admin_config_and_audit() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let (status, health) = server.call(Method::GET, "/api/health", None, None).await;
        assert_eq!(status, StatusCode::OK);
        for part in ["database", "cache", "storage"] {
            assert_eq!(health[part]["status"], "ok", "{part} is healthy: {health}");
            assert!(health[part]["latency_ms"].as_f64().is_some(), "{part} has a latency");
        }
        assert_eq!(health["database"]["backend"], db.backend());
        let (status, fastgpt) = server.call(Method::GET, "/api/fastgpt/health", None, None).await;
        assert_eq!((status, fastgpt["status"].as_str()), (StatusCode::OK, Some("not_configured")));

        let admin = server.user("ada", Role::Admin).await;
        let (status, _) = server
            .call(Method::PUT, "/api/admin/config/features.cad", Some(&admin.access), Some(json!({ "value": false })))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = server
            .call(Method::PUT, "/api/admin/config/Bad Key", Some(&admin.access), Some(json!({ "value": 1 })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, config) = server.call(Method::GET, "/api/admin/config", Some(&admin.access), None).await;
        assert_eq!(config[0]["key"], "features.cad");
        assert_eq!(config[0]["value"], false);
        let (_, audit) = server.call(Method::GET, "/api/admin/audit", Some(&admin.access), None).await;
        let actions = audit_actions(&audit);
        assert!(
            actions.contains(&"config.change:ok".to_owned()) && actions.contains(&"auth.login:ok".to_owned()),
            "{actions:?}"
        );
        let (_, page) = server.call(Method::GET, "/api/admin/audit?limit=1", Some(&admin.access), None).await;
        let newest = page[0]["id"].as_i64().unwrap();
        let (_, older) = server
            .call(Method::GET, &format!("/api/admin/audit?limit=1&before={newest}"), Some(&admin.access), None)
            .await;
        assert!(older[0]["id"].as_i64().unwrap() < newest, "pages go back in time");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn secrets_stay_out_of_the_database_and_usernames_cannot_forge_log_lines() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let ada = server.user("ada", Role::Admin).await;
        let (_, rotated) =
            server.call(Method::POST, "/api/auth/refresh", None, Some(json!({ "refresh_token": ada.refresh }))).await;
        let injected = "admin\n2026-01-01T00:00:00Z INFO LOGIN OK user=admin";
        let (status, _) = server
            .call(Method::POST, "/api/auth/login", None, Some(json!({ "username": injected, "password": "x" })))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let audit = server
            .core
            .store
            .audit_entries(&LogQuery { kind: Some("auth.login".into()), before_id: None, limit: 10 })
            .await
            .unwrap();
        let forged: Vec<_> = audit.iter().filter(|e| e.actor_name.as_deref() == Some(injected)).collect();
        assert_eq!(forged.len(), 1, "the odd name is one record, kept as data");
        assert_eq!(forged[0].outcome, "failed");

        if let Some(path) = db.sqlite_path() {
            server.core.close().await;
            let mut bytes = std::fs::read(path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{}-wal", path.display())) {
                bytes.extend(wal);
            }
            let haystack = String::from_utf8_lossy(&bytes);
            for (what, secret) in [
                ("password", PASSWORD),
                ("refresh token", ada.refresh.as_str()),
                ("rotated refresh token", rotated["refresh_token"].as_str().unwrap()),
            ] {
                assert!(!haystack.contains(secret), "the {what} is not in the database file");
            }
        }
        server.stop().await;
    })
    .await;
}

/// The signing secrets of several instances of one deployment: a token made by one checks on all.
fn shared_secrets(config: &mut zk_core::config::Config) {
    config.auth.jwt_access_secret = Some(zk_core::secret::Secret::new("shared-access-secret-0123456789abcdef".into()));
    config.auth.jwt_refresh_secret =
        Some(zk_core::secret::Secret::new("shared-refresh-secret-0123456789abcdef".into()));
}

#[tokio::test]
async fn two_instances_share_sign_ins_and_revocations_through_redis() {
    let Some(redis) = zk_tests::server::test_redis_url().await else { return };
    each_database(|db| {
        let redis = redis.clone();
        async move {
            let prefix = format!("zk-test-{}:", uuid::Uuid::new_v4().simple());
            let shared = |config: &mut zk_core::config::Config| {
                shared_secrets(config);
                config.cache.redis_url = Some(zk_core::secret::Secret::new(redis.clone()));
                config.cache.prefix = prefix.clone();
            };
            let a = TestServer::start_with(&db, shared).await;
            let b = TestServer::start_with(&db, shared).await;
            let admin = a.user("ada", Role::Admin).await;
            let dan = a.user("dan", Role::Designer).await;
            for _ in 0..3 {
                let (status, _) = b.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
                assert_eq!(status, StatusCode::OK, "instance B accepts a sign-in made on A");
            }
            assert!(
                b.core.cache.stats().hits >= 2,
                "repeated checks are served from Redis: {:?}",
                b.core.cache.stats()
            );
            assert_eq!(b.core.cache.backend_name(), "redis");

            let (status, _) = a
                .call(
                    Method::PATCH,
                    &format!("/api/users/{}", dan.user_id),
                    Some(&admin.access),
                    Some(json!({ "role": "viewer" })),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            let (status, _) = b
                .call(Method::POST, "/api/tasks", Some(&dan.access), Some(json!({ "kind": "diagnostics.selftest" })))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "a role change on A applies on B at once");
            let (status, _) = a.call(Method::POST, "/api/auth/logout", Some(&dan.access), None).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            let (status, _) = b.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "a logout on A ends the session on B at once");
            let (_, health) = b.call(Method::GET, "/api/health", None, None).await;
            assert_eq!(health["cache"]["backend"], "redis");
            assert_eq!(health["cache"]["status"], "ok");
            a.stop().await;
            b.stop().await;
        }
    })
    .await;
}

#[tokio::test]
async fn two_instances_without_redis_refuse_a_revoked_session_within_a_second() {
    each_database(|db| async move {
        let a = TestServer::start_with(&db, shared_secrets).await;
        let b = TestServer::start_with(&db, shared_secrets).await;
        assert_eq!(b.core.cache.backend_name(), "memory");
        let admin = a.user("ada", Role::Admin).await;
        let dan = a.user("dan", Role::Designer).await;
        let eve = a.user("eve", Role::Designer).await;
        // Each check on B fills B's own cache with the session and the user.
        for user in [&dan, &eve] {
            let (status, _) = b.call(Method::GET, "/api/auth/me", Some(&user.access), None).await;
            assert_eq!(status, StatusCode::OK, "instance B accepts a sign-in made on A");
        }

        // Within a second of the change on A, B refuses: polled, so the test waits no longer than needed.
        async fn refused_within_a_second(b: &TestServer, token: &str, what: &str) {
            let started = std::time::Instant::now();
            loop {
                let (status, _) = b.call(Method::GET, "/api/auth/me", Some(token), None).await;
                if status == StatusCode::UNAUTHORIZED {
                    return;
                }
                assert_eq!(status, StatusCode::OK);
                assert!(started.elapsed() < Duration::from_secs(1), "{what} on A still accepted on B after 1 s");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let (status, _) = a.call(Method::POST, "/api/auth/logout", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        refused_within_a_second(&b, &dan.access, "a sign-out").await;

        let (status, _) = a
            .call(
                Method::PATCH,
                &format!("/api/users/{}", eve.user_id),
                Some(&admin.access),
                Some(json!({ "disabled": true })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        refused_within_a_second(&b, &eve.access, "disabling an account").await;

        // The refusal lasts: the cache never brings the revoked session back.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (status, _) = b.call(Method::GET, "/api/auth/me", Some(&dan.access), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        a.stop().await;
        b.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_redis_makes_requests_slower_not_broken() {
    each_database(|db| async move {
        let server = TestServer::start_with(&db, |config| {
            // Port 1 on loopback: nothing listens, connections are refused at once.
            config.cache.redis_url = Some(zk_core::secret::Secret::new("redis://127.0.0.1:1/".into()));
        })
        .await;
        let ada = server.user("ada", Role::Admin).await;
        for _ in 0..3 {
            let (status, _) = server.call(Method::GET, "/api/users", Some(&ada.access), None).await;
            assert_eq!(status, StatusCode::OK, "authenticated requests still work");
        }
        let (status, health) = server.call(Method::GET, "/api/health", None, None).await;
        assert_eq!(status, StatusCode::OK, "a missing cache does not make the server unhealthy");
        assert_eq!(
            (health["status"].as_str(), health["cache"]["status"].as_str()),
            (Some("degraded"), Some("degraded"))
        );
        assert!(health["cache_stats"]["errors"].as_u64().unwrap() > 0, "cache errors are counted: {health}");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_desktop_owner_signs_in_without_a_password_and_only_on_an_empty_database() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let meta = zk_core::request::RequestMeta::default();
        let signed_in = server.core.accounts.sign_in_local_owner(&meta).await.unwrap();
        assert_eq!(signed_in.user.role, Role::Admin, "the local owner administers their own desktop");
        assert!(!signed_in.user.has_password);
        let (status, _) = server.call(Method::GET, "/api/users", Some(&signed_in.access_token), None).await;
        assert_eq!(status, StatusCode::OK);
        let again = server.core.accounts.sign_in_local_owner(&meta).await.unwrap();
        assert_eq!(again.user.id, signed_in.user.id, "the same owner on every start");
        let (status, _) = server
            .call(Method::POST, "/api/auth/login", None, Some(json!({ "username": "owner", "password": "" })))
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the owner cannot be signed in over the network without a password"
        );
        let (_, setup) = server.call(Method::GET, "/api/setup", None, None).await;
        assert_eq!(setup["required"], false);
        server.stop().await;

        let other = zk_tests::db::TestDatabase::sqlite();
        let server = TestServer::start(&other).await;
        server.user("ada", Role::Admin).await;
        let refused = server.core.accounts.sign_in_local_owner(&meta).await;
        assert!(refused.is_err(), "a database with accounts gets no password-less owner");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_built_ui_is_served_and_its_routes_load_index_html() {
    let db = zk_tests::db::TestDatabase::sqlite();
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html><title>ZK-Agent</title>").unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("assets/app.js"), "console.log('zk')").unwrap();
    let dir = ui.path().to_owned();
    let server = TestServer::start_with(&db, move |config| config.server.ui_dir = Some(dir)).await;
    for path in ["/", "/tasks", "/admin/users/7"] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path} loads the app");
        assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("object-src 'none'"));
        assert!(response.text().await.unwrap().contains("<title>ZK-Agent</title>"), "{path} is index.html");
    }
    let script = server.http.get(server.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript");
    let (status, body) = server.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "the API is not swallowed by the UI"
    );
    let traversal = server.http.get(format!("{}/assets/../../../etc/passwd", server.base)).send().await.unwrap();
    assert!(!traversal.text().await.unwrap().contains("root:"), "no path escapes the UI directory");
    server.stop().await;
}

#[tokio::test]
async fn the_desktop_window_signs_in_with_its_launch_secret_and_only_its_origin_gets_cors() {
    each_database(|db| async move {
        let origin = "tauri://localhost";
        let server = TestServer::start_desktop(&db, &[origin], "launch-secret-of-this-run").await;
        let (status, _) =
            server.call(Method::POST, "/api/auth/desktop", None, Some(json!({ "launch_secret": "guess" }))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a wrong launch secret is refused");
        let response = server
            .http
            .post(server.url("/api/auth/desktop"))
            .header("origin", origin)
            .json(&json!({ "launch_secret": "launch-secret-of-this-run" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "the window's own origin may sign in");
        assert_eq!(response.headers()["access-control-allow-origin"], origin, "and reads the answer");
        let owner: Value = response.json().await.unwrap();
        assert_eq!(owner["user"]["role"], "admin");
        let token = owner["access_token"].as_str().unwrap();

        let preflight = |from: &'static str| {
            server
                .http
                .request(Method::OPTIONS, server.url("/api/users"))
                .header("origin", from)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type")
                .send()
        };
        let ours = preflight(origin).await.unwrap();
        assert_eq!(ours.headers()["access-control-allow-origin"], origin);
        assert!(ours.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
        let theirs = preflight("https://evil.example").await.unwrap();
        assert!(theirs.headers().get("access-control-allow-origin").is_none(), "no CORS for anyone else");

        let created = server
            .http
            .post(server.url("/api/users"))
            .bearer_auth(token)
            .header("origin", origin)
            .json(&json!({ "username": "dan", "password": PASSWORD, "role": "designer" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED, "the window may write");
        let refused = server
            .http
            .post(server.url("/api/users"))
            .bearer_auth(token)
            .header("origin", "https://evil.example")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "other origins still may not");
        let (_, audit) = server.call(Method::GET, "/api/admin/audit?kind=auth.desktop", Some(token), None).await;
        assert_eq!(audit_actions(&audit), vec!["auth.desktop:denied"], "the wrong guess is audited");
        server.stop().await;

        let plain = TestServer::start(&db).await;
        let (status, _) =
            plain.call(Method::POST, "/api/auth/desktop", None, Some(json!({ "launch_secret": "" }))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "zk-agent serve has no desktop sign-in at all");
        plain.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_watcher_on_one_instance_sees_progress_of_a_task_another_instance_runs() {
    each_database(|db| async move {
        let runner = TestServer::start_with(&db, shared_secrets).await;
        let watcher = TestServer::start_with(&db, |config| {
            shared_secrets(config);
            config.tasks.workers = 0;
        })
        .await;
        let dan = runner.user("dan", Role::Designer).await;
        let events = watcher.http.get(watcher.url("/api/tasks/events")).bearer_auth(&dan.access).send().await.unwrap();
        let (status, task) = runner
            .call(
                Method::POST,
                "/api/tasks",
                Some(&dan.access),
                Some(json!({ "kind": "diagnostics.selftest", "payload": { "steps": 3, "step_ms": 400 } })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let id = task["id"].clone();
        let seen = task_events(events, |t| t["id"] == id && t["state"] == "succeeded").await;
        assert!(seen.iter().any(|t| t["id"] == id && t["state"] == "running"), "the watcher saw it run: {seen:?}");
        runner.stop().await;
        watcher.stop().await;
    })
    .await;
}

/// A raw connection that sends `head` (not ending the request head) and then nothing.
async fn half_sent(port: u16, head: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Waits (at most `limit`) for the server to close `stream`; returns how long that took.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> Duration {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut buffer)).await;
    assert!(
        read.is_ok(),
        "a slow client's connection is closed by the server within {limit:?} (read so far: {:?})",
        String::from_utf8_lossy(&buffer)
    );
    started.elapsed()
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_open_connections_are_capped() {
    // Not about the database: SQLite only.
    let db = zk_tests::db::TestDatabase::sqlite();
    let server = TestServer::start_with(&db, |config| {
        config.server.header_timeout = Duration::from_secs(1);
        config.server.max_connections = 3;
    })
    .await;
    let health = server.url("/api/health");
    // No pooled connections: an idle keep-alive connection would hold a slot of its own.
    let fresh = || reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    assert_eq!(fresh().get(&health).send().await.unwrap().status(), StatusCode::OK);

    // Three slow clients take every slot: two half-sent request heads and one that sends nothing.
    let head = format!("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Slow: ", server.port);
    let mut slow = vec![
        half_sent(server.port, &head).await,
        half_sent(server.port, &head).await,
        half_sent(server.port, "").await,
    ];
    // Let the server accept them before the next client arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A fourth client waits for a slot (a fresh client: no pooled connection to reuse) ...
    let started = std::time::Instant::now();
    let waiting = tokio::spawn(fresh().get(&health).timeout(Duration::from_secs(20)).send());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!waiting.is_finished(), "a connection over HTTP_MAX_CONNECTIONS waits while every slot is held");

    // ... the slow ones are closed after the header timeout ...
    for stream in &mut slow {
        let took = closed_within(stream, Duration::from_secs(10)).await;
        assert!(took < Duration::from_secs(10), "closed after HTTP_HEADER_TIMEOUT_SECS, not held: {took:?}");
    }
    // ... and the waiting request is answered once a slot is free.
    let response = waiting.await.unwrap().expect("the waiting request is served once a slot frees");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it was served only after the slow clients were cut off: {:?}",
        started.elapsed()
    );
    assert_eq!(fresh().get(&health).send().await.unwrap().status(), StatusCode::OK, "the server still serves");
    server.stop().await;
}

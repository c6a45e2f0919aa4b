//! Sign-in under attack, on SQLite and on PostgreSQL: the bounded hashing pool, throttling per
//! account and address, device cookies, and names that exist answering like names that do not.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zk_core::store::Role;
use zk_tests::db::each_database;
use zk_tests::server::{PASSWORD, TestServer};

/// A client whose connections come from `127.0.0.<last>`: Linux routes all of 127.0.0.0/8 to the
/// loopback, so the server sees another client address.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().unwrap()
}

struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    set_cookie: Option<String>,
}

async fn sign_in(
    server: &TestServer,
    client: &reqwest::Client,
    username: &str,
    password: &str,
    device: Option<&str>,
) -> Answer {
    let mut request =
        client.post(server.url("/api/auth/login")).json(&json!({ "username": username, "password": password }));
    if let Some(device) = device {
        request = request.header("cookie", format!("theme=dark; zk_device={device}"));
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, retry_after, set_cookie) =
        (response.status(), header("retry-after").and_then(|v| v.parse().ok()), header("set-cookie"));
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    Answer { status, body, retry_after, set_cookie }
}

/// The device cookie's value from a `Set-Cookie` header.
fn device_cookie(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.strip_prefix("zk_device=").unwrap().to_owned()
}

#[tokio::test]
async fn a_flood_of_unknown_names_runs_no_more_hashes_at_once_than_the_pool_holds() {
    each_database(|db| async move {
        let server = TestServer::start_with(&db, |config| config.auth.hash_workers = 2).await;
        let pool = server.core.accounts.hashing();
        assert_eq!(pool.size(), 2);
        let flood = (0..24).map(|i| {
            let server = &server;
            async move {
                let (status, body) = server
                    .call(
                        Method::POST,
                        "/api/auth/login",
                        None,
                        Some(json!({ "username": format!("nobody-{i}"), "password": "guess guess guess" })),
                    )
                    .await;
                (status, body)
            }
        });
        let answers = futures_util::future::join_all(flood).await;
        for (status, body) in &answers {
            assert_eq!(*status, StatusCode::UNAUTHORIZED, "each unknown name is refused after its hash: {body}");
        }
        assert!(
            (1..=2).contains(&pool.high_water()),
            "24 concurrent sign-ins never ran more than the pool's 2 hashes at once: {}",
            pool.high_water()
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn sign_ins_that_wait_too_long_for_a_hash_get_503_with_retry_after() {
    each_database(|db| async move {
        let server = TestServer::start_with(&db, |config| {
            config.auth.hash_workers = 1;
            config.auth.hash_queue_timeout = Duration::from_millis(10);
        })
        .await;
        let client = reqwest::Client::new();
        server.user("ada", Role::Admin).await;
        let owner = client_from(1);
        let device = device_cookie(&sign_in(&server, &owner, "ada", PASSWORD, None).await.set_cookie.unwrap());
        let names: Vec<String> = (0..32).map(|i| format!("nobody-{i}")).collect();
        let flood = names.iter().map(|name| sign_in(&server, &client, name, "guess guess guess", None));
        let (answers, owners) = tokio::join!(
            futures_util::future::join_all(flood),
            sign_in(&server, &owner, "ada", PASSWORD, Some(&device))
        );
        assert_eq!(owners.status, StatusCode::OK, "the owner's device has its own lane during the flood");
        let busy: Vec<_> = answers.iter().filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE).collect();
        assert!(!busy.is_empty(), "with one worker and a 10 ms queue, some of 32 sign-ins overflow");
        for answer in &answers {
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(&answer.status),
                "an overflowing sign-in is refused as busy, never failed: {} {}",
                answer.status,
                answer.body
            );
        }
        for answer in busy {
            assert_eq!(answer.body["code"], "busy", "{}", answer.body);
            assert!(answer.body["message"].as_str().unwrap().contains("try again"), "{}", answer.body);
            assert!(answer.retry_after.is_some_and(|s| (1..=5).contains(&s)), "Retry-After says when to come back");
        }
        assert!(server.core.accounts.hashing().high_water() <= 2, "one worker for strangers, one lane for owners");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_owner_signs_in_from_their_device_while_strangers_are_throttled() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        server.user("ada", Role::Admin).await;
        server.user("bob", Role::Viewer).await;
        let home = client_from(1);

        let first = sign_in(&server, &home, "ada", PASSWORD, None).await;
        assert_eq!(first.status, StatusCode::OK);
        let set_cookie = first.set_cookie.expect("a successful sign-in sets the device cookie");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/auth"] {
            assert!(set_cookie.contains(attribute), "the device cookie is {attribute}: {set_cookie}");
        }
        assert!(!set_cookie.contains("Secure"), "plain HTTP cannot keep a Secure cookie: {set_cookie}");
        let device = device_cookie(&set_cookie);
        let bobs = device_cookie(&sign_in(&server, &home, "bob", PASSWORD, None).await.set_cookie.unwrap());

        // An attack on ada's account from six other addresses, until every stranger is throttled.
        let mut statuses = Vec::new();
        for last in 2..=7 {
            let stranger = client_from(last);
            for _ in 0..6 {
                statuses.push(sign_in(&server, &stranger, "ada", "wrong wrong wrong", None).await.status);
            }
        }
        assert!(
            statuses.iter().all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)),
            "{statuses:?}"
        );
        assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5], "one address gets a few free failures");
        assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "then waits: {statuses:?}");
        // The attack goes on for minutes, one guess from a new address whenever the wait allows:
        // the waits of untrusted clients grow to the minute.
        for last in 10..15 {
            server.clock.advance(Duration::from_secs(61));
            let guess = sign_in(&server, &client_from(last), "ada", "wrong wrong wrong", None).await;
            assert_eq!(guess.status, StatusCode::UNAUTHORIZED, "a guess after each wait is checked");
        }
        let again = sign_in(&server, &client_from(2), "ada", PASSWORD, None).await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "then waits, even with the password");
        assert!(again.retry_after.is_some_and(|s| (30..=60).contains(&s)), "Retry-After says how long");
        let fresh = sign_in(&server, &client_from(8), "ada", PASSWORD, None).await;
        assert_eq!(
            fresh.status,
            StatusCode::TOO_MANY_REQUESTS,
            "guessing from many addresses slows every client without a device cookie"
        );
        let borrowed = sign_in(&server, &client_from(8), "ada", PASSWORD, Some(&bobs)).await;
        assert_eq!(borrowed.status, StatusCode::TOO_MANY_REQUESTS, "another user's device cookie does not count");
        let forged = sign_in(&server, &client_from(8), "ada", PASSWORD, Some(&format!("{device}x"))).await;
        assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS, "nor does a cookie with a broken signature");

        let owner = sign_in(&server, &home, "ada", PASSWORD, Some(&device)).await;
        assert_eq!(owner.status, StatusCode::OK, "the owner's device signs in during the attack: {}", owner.body);
        assert!(owner.body["access_token"].is_string());
        let from_the_attackers_address = sign_in(&server, &client_from(3), "ada", PASSWORD, Some(&device)).await;
        assert_eq!(from_the_attackers_address.status, StatusCode::OK, "the cookie, not the address, is trusted");

        // A stolen device cookie is throttled on its own after a few failures.
        let mut with_cookie = Vec::new();
        for _ in 0..6 {
            with_cookie.push(sign_in(&server, &client_from(9), "ada", "wrong wrong wrong", Some(&device)).await.status);
        }
        assert_eq!(&with_cookie[..5], &[StatusCode::UNAUTHORIZED; 5], "{with_cookie:?}");
        assert_eq!(with_cookie[5], StatusCode::TOO_MANY_REQUESTS, "{with_cookie:?}");

        // Every wait ends by itself.
        server.clock.advance(Duration::from_secs(61));
        assert_eq!(sign_in(&server, &client_from(8), "ada", PASSWORD, None).await.status, StatusCode::OK);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn guesses_sent_all_at_once_do_not_slip_past_the_throttle() {
    each_database(|db| async move {
        let server = TestServer::start_with(&db, |config| config.auth.hash_workers = 2).await;
        server.user("ada", Role::Admin).await;
        let client = reqwest::Client::new();
        let burst = (0..24).map(|_| sign_in(&server, &client, "ada", "wrong wrong wrong", None));
        let answers = futures_util::future::join_all(burst).await;
        let checked = answers.iter().filter(|a| a.status == StatusCode::UNAUTHORIZED).count();
        let throttled = answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!(checked + throttled, 24, "each guess is checked or throttled");
        assert!(
            checked <= 5 + 2,
            "five guesses are free, and at most one more per worker slips in while a failure is recorded: {checked}"
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_and_known_names_get_the_same_answers_under_repeated_failures() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        server.user("ada", Role::Admin).await;
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for name in ["ada", "ghost"] {
            let mut seen = Vec::new();
            for _ in 0..8 {
                let answer = sign_in(&server, &client, name, "wrong wrong wrong", None).await;
                let message = answer.body["message"].as_str().unwrap().replace(char::is_numeric, "#");
                seen.push((answer.status, answer.body["code"].clone(), message, answer.retry_after.is_some()));
            }
            answers.push(seen);
        }
        assert_eq!(answers[0], answers[1], "a real name and an unknown one answer alike");
        assert_eq!(answers[0][5].0, StatusCode::TOO_MANY_REQUESTS, "and both are throttled: {:?}", answers[0]);
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_ins() {
    each_database(|db| async move {
        let server = TestServer::start(&db).await;
        let dan = server.user("dan", Role::Designer).await;
        let change = |current: &str| json!({ "current_password": current, "new_password": "a brand new passphrase" });
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let (status, _) =
                server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change("not it at all"))).await;
            statuses.push(status);
        }
        assert_eq!(&statuses[..5], &[StatusCode::BAD_REQUEST; 5], "the first wrong guesses are answered normally");
        assert!(statuses[5..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "then they wait: {statuses:?}");
        let response = server
            .http
            .post(server.url("/api/auth/password"))
            .bearer_auth(&dan.access)
            .json(&change(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "the right one waits too during the delay");
        assert!(response.headers().contains_key("retry-after"));

        server.clock.advance(Duration::from_secs(61));
        let (status, body) =
            server.call(Method::POST, "/api/auth/password", Some(&dan.access), Some(change(PASSWORD))).await;
        assert_eq!(status, StatusCode::OK, "after the wait the change goes through: {body}");
        server.stop().await;
    })
    .await;
}

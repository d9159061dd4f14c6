//! The token lifecycle over real HTTP on loopback, on tokio's paused clock.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::time::Duration;

use hh_runtime::{Client, OAuthErrorCode};
use secrecy::ExposeSecret;
use support::{CLIENT_ID, CLIENT_SECRET, Reply, Server, get_json};
use tokio::task::JoinSet;
use tokio::time::{Instant, advance, sleep};

async fn token_of(client: &Client) -> hh_runtime::Result<String> {
    Ok(client.access_token().await?.expose_secret().to_owned())
}

const SECS: fn(u64) -> Duration = Duration::from_secs;

#[tokio::test(start_paused = true)]
async fn cold_herd_of_10000_callers_makes_one_token_request() {
    let server = Server::start().await;
    server
        .on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(Duration::from_millis(300)));
    let client = server.client();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..10_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap() });
    }
    while let Some(token) = tasks.join_next().await {
        assert_eq!(token.unwrap(), "tok-1");
    }
    assert_eq!(server.token_requests(), 1);
    // Every caller was served by the one round trip.
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_api_calls_at_cold_start_share_one_token() {
    let server = Server::start().await;
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..300 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await.unwrap() });
    }
    while let Some(body) = tasks.join_next().await {
        assert_eq!(body.unwrap()["ok"], true);
    }
    assert_eq!(server.token_requests(), 1);
    assert_eq!(server.api_requests(), 300);
}

#[tokio::test(start_paused = true)]
async fn refresh_ahead_under_load_is_one_request_and_no_caller_waits() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");

    // Into the refresh window (the last 300 s), still well clear of the 30 s hard stop.
    advance(SECS(3600 - 200)).await;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..2_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap() });
    }
    while let Some(token) = tasks.join_next().await {
        // The refresh runs in the background; everyone is served the current token at once.
        assert_eq!(token.unwrap(), "tok-1");
    }
    assert!(started.elapsed() < Duration::from_millis(10));
    sleep(SECS(3)).await;
    assert_eq!(server.token_requests(), 2);
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn expiry_under_load_is_one_refresh_and_no_caller_error() {
    let server = Server::start().await;
    let client = server.client();
    get_json(&client, "/api/v1/warm").await.unwrap();

    // Past the hard stop (30 s before expiry) with no call in the refresh window: every caller
    // has to wait for a new token, and they all share one request.
    advance(SECS(3600 - 20)).await;
    let mut tasks = JoinSet::new();
    for _ in 0..500 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(server.token_requests(), 2);
    assert_eq!(server.api_requests(), 501, "no call needed a 401 replay");
}

#[tokio::test(start_paused = true)]
async fn refresh_failure_while_the_token_is_valid_is_invisible() {
    let server = Server::start().await;
    let client = server.client();
    get_json(&client, "/api/v1/warm").await.unwrap();
    server.on_token(|_, _| Reply::new(503, "identity down"));

    // Four minutes of calls, once a second, inside the refresh window while identity is down.
    advance(SECS(3600 - 290)).await;
    let before = server.token_requests();
    for _ in 0..240 {
        get_json(&client, "/api/v1/things").await.unwrap();
        sleep(SECS(1)).await;
    }
    let attempts = server.token_requests() - before;
    // Background attempts back off (1 s doubling to 30 s, jittered): a handful, not 240.
    assert!(
        (3..=16).contains(&attempts),
        "{attempts} background attempts"
    );
    let log = server.token_log();
    for pair in log.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= SECS(1),
            "two token requests within a second"
        );
    }

    // Identity comes back: the next attempt (within the 30 s backoff cap) succeeds.
    server.issue_tokens(3600);
    for _ in 0..35 {
        get_json(&client, "/api/v1/things").await.unwrap();
        sleep(SECS(1)).await;
    }
    assert!(token_of(&client).await.unwrap().starts_with("tok-"));
    assert_ne!(
        token_of(&client).await.unwrap(),
        "tok-1",
        "a new token replaced the old one"
    );
}

#[tokio::test(start_paused = true)]
async fn expired_token_with_identity_down_fails_fast_and_shares_the_failure() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    server.on_token(|_, _| Reply::new(503, "identity down").header("content-type", "text/plain"));
    advance(SECS(3600)).await;

    let before = server.token_requests();
    let err = token_of(&client).await.unwrap_err();
    assert!(err.is_token() && err.is_retryable(), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.token_requests(), before + 1);

    // Callers right after get the same failure at once, without a request of their own.
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..1_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap_err() });
    }
    while let Some(err) = tasks.join_next().await {
        assert!(err.unwrap().is_token());
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.token_requests(), before + 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_answers_every_waiter_with_one_request() {
    let server = Server::start().await;
    server.on_token(|_, _| Reply::new(503, "").after(Duration::from_millis(500)));
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..200 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap_err() });
    }
    while let Some(err) = tasks.join_next().await {
        assert!(err.unwrap().is_retryable());
    }
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried_in_a_loop() {
    let server = Server::start().await;
    server.on_token(|_, _| {
        Reply::json(
            400,
            serde_json::json!({"error": "invalid_client", "error_description": "Unknown client or secret", "error_uri": "https://id.example/errors#client"}),
        )
    });
    let client = server.client();
    for _ in 0..60 {
        let err = get_json(&client, "/api/v1/things").await.unwrap_err();
        let oauth = err.oauth_error().unwrap();
        assert_eq!(oauth.code, OAuthErrorCode::InvalidClient);
        assert_eq!(
            oauth.description.as_deref(),
            Some("Unknown client or secret")
        );
        assert_eq!(
            oauth.uri.as_deref(),
            Some("https://id.example/errors#client")
        );
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("invalid_client"), "{err}");
        sleep(SECS(1)).await;
    }
    // A permanent error holds for 15 to 30 s (jittered), so calls over a minute (t = 0..59 s)
    // cause at most four requests (0, 15, 30, 45 s at the shortest holds) and at least two.
    let requests = server.token_requests();
    assert!((2..=4).contains(&requests), "{requests}");
    assert_eq!(server.api_requests(), 0);
}

#[tokio::test(start_paused = true)]
async fn invalid_client_with_401_and_www_authenticate_is_parsed() {
    let server = Server::start().await;
    server.on_token(|_, _| {
        Reply::json(401, serde_json::json!({"error": "invalid_client"}))
            .header("www-authenticate", "Basic realm=\"identity\"")
    });
    let err = token_of(&server.client()).await.unwrap_err();
    assert_eq!(
        err.oauth_error().unwrap().code,
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(err.status().unwrap().as_u16(), 401);
    assert!(err.headers().unwrap().contains_key("www-authenticate"));
}

#[tokio::test(start_paused = true)]
async fn one_401_means_one_new_token_and_one_replay() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // The server forgets tok-1 (revoked); the API now only accepts tok-2.
    server.inner.issued.lock().unwrap().push("tok-2".into());
    sleep(SECS(2)).await;
    let body = get_json(&client, "/api/v1/things").await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(server.api_requests(), 2);
    assert_eq!(server.token_requests(), 2);
    let log = server.api_log();
    assert_eq!(log[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(log[1].header("authorization"), Some("Bearer tok-2"));
}

#[tokio::test(start_paused = true)]
async fn a_401_forever_is_exactly_two_attempts() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::json(401, serde_json::json!({"title": "Unauthorized"})));
    let client = server.client();
    let err = get_json(&client, "/api/v1/things").await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(server.api_requests(), 2);
    assert_eq!(server.token_requests(), 2);
    assert_eq!(
        err.problem().unwrap().title.as_deref(),
        Some("Unauthorized")
    );
}

#[tokio::test(start_paused = true)]
async fn many_calls_rejected_together_cause_one_new_token() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // tok-1 is rejected, and the rejections trickle in over 3 s: many arrive after tok-2 has
    // been cached, and must not throw it away.
    server.on_api(|n, seen| {
        if seen.header("authorization") == Some("Bearer tok-1") {
            Reply::new(401, "").after(Duration::from_millis((n as u64 % 30) * 100))
        } else {
            Reply::json(200, serde_json::json!({"ok": true}))
        }
    });
    let mut tasks = JoinSet::new();
    for _ in 0..300 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(
        server.token_requests(),
        2,
        "tok-2 was never invalidated by a late 401 for tok-1"
    );
    assert_eq!(server.api_requests(), 600);
}

#[tokio::test(start_paused = true)]
async fn a_403_is_neither_refreshed_nor_replayed() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(403, "forbidden"));
    let err = get_json(&server.client(), "/api/v1/things")
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 403);
    assert_eq!(server.api_requests(), 1);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn replay_on_401_can_be_switched_off() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(401, ""));
    let client = server.builder().replay_on_401(false).build().unwrap();
    assert!(
        get_json(&client, "/api/v1/x")
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    assert_eq!(server.api_requests(), 1);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_two_token_requests_within_a_second() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // Revoked at once: the replay's token request waits for the one-second floor.
    server.inner.issued.lock().unwrap().push("tok-2".into());
    get_json(&client, "/api/v1/things").await.unwrap();
    let log = server.token_log();
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= SECS(1));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_first_caller_leaves_the_others_served() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();

    let first = tokio::time::timeout(Duration::from_millis(100), token_of(&client)).await;
    assert!(first.is_err(), "the first caller gave up");
    let (a, b) = tokio::join!(token_of(&client), token_of(&client));
    assert_eq!(a.unwrap(), "tok-1");
    assert_eq!(b.unwrap(), "tok-1");
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_waiter_still_fills_the_cache() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();
    for _ in 0..3 {
        let _ = tokio::time::timeout(Duration::from_millis(50), token_of(&client)).await;
    }
    sleep(SECS(3)).await;
    let started = Instant::now();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");
    assert_eq!(started.elapsed(), Duration::ZERO, "a cache hit");
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hung_token_endpoint_times_out_and_the_next_call_starts_afresh() {
    let server = Server::start().await;
    server.on_token(|_, _| Reply::token("never", 3600).after(SECS(3600)));
    let client = server.builder().token_timeout(SECS(10)).build().unwrap();
    let started = Instant::now();
    let err = token_of(&client).await.unwrap_err();
    assert!(
        err.is_timeout() && err.is_token() && err.is_retryable(),
        "{err}"
    );
    assert!(started.elapsed() >= SECS(10) && started.elapsed() < SECS(11));

    server.issue_tokens(3600);
    sleep(SECS(3)).await;
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
}

#[tokio::test(start_paused = true)]
async fn slow_callers_time_out_alone_and_the_shared_fetch_lands() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(8)));
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let client = client.clone();
        tasks.spawn(async move { tokio::time::timeout(SECS(2), token_of(&client)).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().is_err(), "each caller's own deadline fired");
    }
    sleep(SECS(7)).await;
    let started = Instant::now();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn expiry_is_measured_from_when_the_request_was_sent() {
    let server = Server::start().await;
    // Answered 20 s after it was asked, valid for 60 s: expires 60 s after sending, and is not
    // used with less than 15 s (25% of 60 s) left, so not after 45 s from sending.
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 60).after(SECS(20)));
    let client = server.builder().token_timeout(SECS(30)).build().unwrap();
    token_of(&client).await.unwrap();
    assert_eq!(server.token_requests(), 1);
    sleep(SECS(26)).await; // 46 s after the first request was sent
    let _ = token_of(&client).await.unwrap();
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn short_lifetimes_do_not_cause_a_request_per_call() {
    for lifetime in [1u64, 5, 30, 59, 60, 61, 62, 120] {
        let server = Server::start().await;
        server.issue_tokens(lifetime);
        let client = server.client();
        // One call every 100 ms for ten lifetimes (at least 10 s).
        let span = SECS(lifetime * 10).max(SECS(10));
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < span {
            token_of(&client).await.unwrap();
            calls += 1;
            sleep(Duration::from_millis(100)).await;
        }
        let requests = server.token_requests() as u64;
        // At most one request per half lifetime, and never more than one per second.
        let bound = (span.as_secs() * 2 / lifetime).min(span.as_secs()) + 1;
        assert!(
            requests <= bound,
            "lifetime {lifetime}s: {requests} token requests for {calls} calls (bound {bound})"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_near_expiry_token_reissued_does_not_spin() {
    let server = Server::start().await;
    // A server that keeps handing back one token with 200 s left, below our 300 s refresh-ahead.
    server.on_token(|_, _| Reply::token("same", 200));
    let client = server.client();
    let started = Instant::now();
    while started.elapsed() < SECS(600) {
        token_of(&client).await.unwrap();
        sleep(Duration::from_millis(50)).await;
    }
    // Lifetime 200 s: refresh starts at half-life, so about one request per 100 s.
    assert!(server.token_requests() <= 8, "{}", server.token_requests());
}

#[tokio::test(start_paused = true)]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = Server::start().await;
    let target = format!("{}/elsewhere/token", server.url);
    server.on_token(move |_, _| Reply::new(307, "").header("location", &target));
    let err = token_of(&server.client()).await.unwrap_err();
    assert!(err.is_token() && !err.is_retryable());
    assert!(err.to_string().contains("redirect"), "{err}");
    assert_eq!(err.status().unwrap().as_u16(), 307);
    assert_eq!(
        server.api_requests(),
        0,
        "the redirect target was never asked"
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_token_responses_give_typed_errors_and_cache_nothing() {
    let big = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600}}"#,
        "a".repeat(1024 * 1024)
    );
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "HTML 502",
            Reply::new(502, "<html><body>Bad Gateway</body></html>")
                .header("content-type", "text/html"),
            // An outage, named once, not an "unusable response".
            "the identity server is unavailable (HTTP 502 Bad Gateway)",
        ),
        ("empty 200", Reply::new(200, ""), "empty"),
        ("not JSON", Reply::new(200, "access_token=abc"), "not JSON"),
        (
            "no access_token",
            Reply::json(
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600}),
            ),
            "no `access_token`",
        ),
        (
            "200 with error",
            Reply::json(200, serde_json::json!({"error": "temporarily_unavailable"})),
            "temporarily_unavailable",
        ),
        (
            "no token_type",
            Reply::json(
                200,
                serde_json::json!({"access_token": "abc", "expires_in": 3600}),
            ),
            "token_type",
        ),
        (
            "over 1 MiB",
            Reply::new(200, big).header("content-type", "application/json"),
            "larger than 1024 KiB",
        ),
        (
            "not UTF-8",
            Reply::new(200, b"{\"access_token\":\"\xff\xfe\"}".to_vec()),
            "UTF-8",
        ),
        (
            "bad expires_in",
            Reply::json(
                200,
                serde_json::json!({"access_token": "abc", "token_type": "Bearer", "expires_in": "soon"}),
            ),
            "expires_in",
        ),
    ];
    for (name, reply, expect) in cases {
        let server = Server::start().await;
        server.on_token(move |_, _| reply.clone());
        let client = server.client();
        let err = token_of(&client).await.unwrap_err();
        assert!(err.is_token(), "{name}: {err}");
        assert!(err.to_string().contains(expect), "{name}: {err}");
        // Nothing was cached: once the server behaves, the next call fetches a token.
        server.issue_tokens(3600);
        sleep(SECS(31)).await;
        assert_eq!(token_of(&client).await.unwrap(), "tok-2", "{name}");
        assert_eq!(server.token_requests(), 2, "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn client_secret_post_sends_credentials_in_the_body() {
    let server = Server::start().await;
    let client = server.builder().scope("traversal.api hra").build().unwrap();
    token_of(&client).await.unwrap();
    let seen = &server.token_log()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/connect/token");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(
        seen.body_text(),
        format!(
            "grant_type=client_credentials&scope=traversal.api+hra&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn client_secret_basic_form_encodes_id_and_secret() {
    use base64::Engine as _;
    let server = Server::start().await;
    let client = server
        .builder()
        .client_id("id:with %+ ü")
        .client_secret("se:cr%et+ ü")
        .client_auth(hh_runtime::ClientAuth::Basic)
        .build()
        .unwrap();
    token_of(&client).await.unwrap();
    let seen = &server.token_log()[0];
    assert_eq!(seen.body_text(), "grant_type=client_credentials");
    let basic = seen
        .header("authorization")
        .unwrap()
        .strip_prefix("Basic ")
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "id%3Awith+%25%2B+%C3%BC:se%3Acr%25et%2B+%C3%BC"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_on_the_token_endpoint_is_honoured() {
    let server = Server::start().await;
    server.on_token(|n, _| {
        if n == 1 {
            Reply::new(429, "").header("retry-after", "20")
        } else {
            Reply::token(&format!("tok-{n}"), 3600)
        }
    });
    let client = server.client();
    assert_eq!(
        token_of(&client).await.unwrap_err().retry_after(),
        Some(SECS(20))
    );
    for _ in 0..19 {
        sleep(SECS(1)).await;
        assert!(
            token_of(&client).await.is_err(),
            "no request before Retry-After"
        );
    }
    assert_eq!(server.token_requests(), 1);
    sleep(SECS(2)).await;
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
}

#[tokio::test(start_paused = true)]
async fn the_token_is_cached_across_clones_and_calls() {
    let server = Server::start().await;
    let client = server.client();
    for _ in 0..100 {
        get_json(&client.clone(), "/api/v1/things").await.unwrap();
    }
    assert_eq!(server.token_requests(), 1);
    assert_eq!(client.client_id(), CLIENT_ID);
}

#[tokio::test(start_paused = true)]
async fn clients_with_different_scopes_never_share_a_token() {
    let server = Server::start().await;
    server.on_token(|n, seen| {
        let scope = seen
            .body_text()
            .split('&')
            .find_map(|p| p.strip_prefix("scope="))
            .unwrap_or("none")
            .to_owned();
        Reply::token(&format!("tok-{n}-{scope}"), 3600).after(Duration::from_millis(200))
    });
    let clients: Vec<Client> = ["a", "b", "c"]
        .into_iter()
        .map(|scope| server.builder().scope(scope).build().unwrap())
        .collect();
    let mut tasks = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        for _ in 0..100 {
            let client = client.clone();
            tasks.spawn(async move { (i, token_of(&client).await.unwrap()) });
        }
    }
    while let Some(result) = tasks.join_next().await {
        let (i, token) = result.unwrap();
        assert!(
            token.ends_with(["-a", "-b", "-c"][i]),
            "client {i} got {token}"
        );
    }
    assert_eq!(server.token_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_fetch_for_one_client_does_not_delay_another() {
    let server = Server::start().await;
    let slow = server.builder().scope("slow").build().unwrap();
    let fast = server.builder().scope("fast").build().unwrap();
    token_of(&fast).await.unwrap();
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(9)));
    let stalled = tokio::spawn({
        let slow = slow.clone();
        async move { token_of(&slow).await }
    });
    tokio::task::yield_now().await;
    let started = Instant::now();
    for _ in 0..1_000 {
        token_of(&fast).await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(stalled.await.unwrap().is_ok());
}

/// A raw loopback server whose first answer breaks off mid-body; later ones are proper tokens.
async fn torn_then_good_token_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                if n == 1 {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"access_tok";
                    let _ = socket.write_all(head.as_bytes()).await;
                    // Dropped here: the body ends 190 bytes early.
                } else {
                    let body = format!(
                        r#"{{"access_token":"good-{n}","token_type":"Bearer","expires_in":3600}}"#
                    );
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    (url, count)
}

#[tokio::test(start_paused = true)]
async fn a_torn_token_response_is_retryable_and_never_poisons_the_client() {
    let (url, count) = torn_then_good_token_server().await;
    let client = Client::builder()
        .token_url(format!("{url}/connect/token"))
        .api_url(&url)
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .build()
        .unwrap();
    let err = token_of(&client).await.unwrap_err();
    assert!(err.is_token() && err.is_retryable(), "{err}");
    assert!(err.status().is_none(), "no complete HTTP answer: {err}");
    sleep(SECS(3)).await;
    assert_eq!(token_of(&client).await.unwrap(), "good-2");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_runtime_shut_down_mid_fetch_leaves_the_client_usable() {
    // The server lives on its own runtime and thread, for the whole test.
    let (server_tx, server_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = Server::start().await;
            server.on_token(|n, _| {
                let delay = if n == 1 { SECS(30) } else { Duration::ZERO };
                Reply::token(&format!("tok-{n}"), 3600).after(delay)
            });
            server_tx.send(server.clone()).unwrap();
            let _ = stop_rx.await;
        });
    });
    let server = server_rx.recv().unwrap();
    let client = server.client();

    // Runtime A starts a fetch (the server takes 30 s) and is shut down under it.
    let rt_a = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt_a.block_on(async {
        let _ = tokio::time::timeout(Duration::from_millis(200), token_of(&client)).await;
    });
    drop(rt_a);

    // Runtime B: the abandoned fetch left no "in flight" state behind; a new one runs.
    let rt_b = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = rt_b.block_on(async {
        // The aborted fetch counts as a failure: wait out its (at most 2 s) backoff.
        for _ in 0..40 {
            if let Ok(token) = token_of(&client).await {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the client never recovered");
    });
    assert_eq!(token, "tok-2");
    stop_tx.send(()).unwrap();
    server_thread.join().unwrap();
}

/// E27: creating the token request's span runs the subscriber's code as a fetch starts, with
/// the flight lock held. A subscriber that panics there fails the call that started the fetch
/// (its own subscriber, its own call) and leaves no flight behind: the next call fetches.
#[tokio::test(start_paused = true)]
async fn a_subscriber_that_panics_as_a_fetch_starts_leaves_no_flight_behind() {
    use futures_util::FutureExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tracing_subscriber::layer::SubscriberExt as _;

    // Alone: the subscriber must see every callsite (see `hh_sandbox::in_own_process`);
    // within 30 s, since the bug this guards against is a hang.
    if !hh_sandbox::in_own_process_within(SECS(30)) {
        return;
    }
    struct PanicOnce(AtomicBool);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PanicOnce {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if attrs.metadata().name() == "hh.token_fetch" && self.0.swap(false, Ordering::SeqCst) {
                panic!("a deliberate panic in a subscriber (a test of a subscriber that panics)");
            }
        }
    }
    let subscriber = tracing_subscriber::registry().with(PanicOnce(AtomicBool::new(true)));
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start().await;
    let client = server.client();
    let first = std::panic::AssertUnwindSafe(client.access_token())
        .catch_unwind()
        .await;
    assert!(first.is_err(), "the subscriber's panic reached its call");
    assert_eq!(server.token_requests(), 0);
    let token = tokio::time::timeout(SECS(60), token_of(&client)).await;
    assert_eq!(token.unwrap().unwrap(), "tok-1");
    assert_eq!(server.token_requests(), 1);
}

/// E28: a call polled outside any runtime panics as `tokio::spawn` does, and leaves no flight
/// behind: the fetch's guard is dropped after the flight lock is released (under it, the
/// guard's drop would take the lock its own thread holds, and hang). The next call, inside a
/// runtime, fetches.
#[test]
fn a_call_outside_a_runtime_panics_and_leaves_no_flight_behind() {
    use futures_util::FutureExt as _;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::start());
    let client = server.client();
    // On a thread of its own, with a deadline, so that a hang fails the test.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let outside = client.clone();
    std::thread::spawn(move || {
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            outside.access_token().now_or_never()
        }));
        let _ = done_tx.send(polled.is_err());
    });
    let panicked = done_rx
        .recv_timeout(SECS(60))
        .expect("a call outside a runtime hung instead of panicking");
    assert!(
        panicked,
        "a call outside a runtime should panic as tokio::spawn does"
    );
    let token = rt.block_on(async {
        // The abandoned fetch counts as a failure: wait out its (at most 2 s) backoff.
        for _ in 0..40 {
            if let Ok(token) = token_of(&client).await {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the client never recovered");
    });
    assert_eq!(token, "tok-1");
}

//! The same fakes over the wire: hh-sandbox serves them beside HealthHero's endpoints, and the
//! generated client calls them with its whole stack (token requests, the replay after a 401,
//! retries), so a test of a tenant's own endpoint runs through what production runs.

use hh_downstream::clinic::{
    Appointments, AppointmentsClient, AppointmentsFake, Booked, Booking, Confirmation, Feedback,
    Referrals, ReferralsClient, ReferralsFake, SlotFilter, SlotKind, book_first_free,
};
use hh_runtime::{Bytes, Error, HeaderMap, HeaderValue, Response, StatusCode};
use hh_sandbox::{Fault, Sandbox};

use super::slot;
use crate::support::sandbox_builder;

/// A sandbox serving `fake`, and a generated client for it.
async fn served(fake: &AppointmentsFake) -> (Sandbox, AppointmentsClient) {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.serve(fake);
    let client = sandbox_builder(&sandbox).build().unwrap();
    (sandbox, AppointmentsClient::new(client))
}

/// A patient id no path segment could carry unencoded.
const AWKWARD: &str = "a/b?c=d%20e#f ü";

#[tokio::test]
async fn the_generated_client_calls_a_served_fake_and_every_argument_round_trips() {
    let fake = AppointmentsFake::new();
    let (sandbox, client) = served(&fake).await;
    fake.slots.returns(Ok(vec![slot(1), slot(2)]));
    fake.book
        .returns(Err(Error::from_status(StatusCode::CONFLICT, "taken")))
        .returns_with(|call| {
            let mut headers = HeaderMap::new();
            headers.insert(
                "location",
                HeaderValue::from_static("/clinic/v2/bookings/77"),
            );
            Ok(Response::new(
                StatusCode::CREATED,
                headers,
                Confirmation {
                    booking: 77,
                    slot: call.booking.slot,
                },
            ))
        });

    let booked = book_first_free(&client, AWKWARD, "2026-12-03", "chest pain, 3 days")
        .await
        .unwrap();
    assert_eq!(
        booked,
        Booked::Confirmed(Confirmation {
            booking: 77,
            slot: 2
        })
    );

    // What the server read back is exactly what the code passed.
    let slots = fake.slots.calls();
    assert_eq!(slots[0].patient, AWKWARD);
    assert_eq!(slots[0].day, "2026-12-03");
    assert_eq!(slots[0].kinds, [SlotKind::InPerson, SlotKind::Video]);
    let books = fake.book.calls();
    assert_eq!(books.len(), 2);
    assert_eq!(books[1].patient, AWKWARD);
    assert_eq!(books[1].key, format!("{AWKWARD}:2"));
    assert_eq!(
        books[1].booking,
        Booking {
            slot: 2,
            reason: "chest pain, 3 days".into()
        }
    );
    // One token for the three calls; the 409 was not retried.
    assert_eq!(sandbox.token_requests(), 1);
    assert_eq!(sandbox.requests("Appointments.book"), 2);
    fake.verify();
}

#[tokio::test]
async fn every_return_shape_is_written_as_the_client_reads_it() {
    let fake = AppointmentsFake::new();
    let (_sandbox, client) = served(&fake).await;
    fake.booking
        .returns(Ok(None))
        .returns(Ok(Some(Confirmation {
            booking: 5,
            slot: 9,
        })));
    fake.cancel.always(|_| Ok(()));
    fake.note
        .always(|call| Ok(format!("{} (stored)", call.text)));
    fake.upload.always(|call| Ok(Bytes::from(call.pdf)));
    fake.feedback.returns(Ok(()));

    assert_eq!(client.booking(5).await.unwrap(), None);
    assert_eq!(
        client.booking(5).await.unwrap(),
        Some(Confirmation {
            booking: 5,
            slot: 9
        })
    );
    client.cancel(5, Some("moved")).await.unwrap();
    client.cancel(5, None).await.unwrap();
    let reasons: Vec<Option<String>> = fake.cancel.calls().into_iter().map(|c| c.reason).collect();
    assert_eq!(reasons, [Some("moved".to_owned()), None]);
    assert_eq!(
        client.note(5, "ünïcode ✓").await.unwrap(),
        "ünïcode ✓ (stored)"
    );
    let pdf = b"%PDF-1.7\x00\xff".to_vec();
    assert_eq!(client.upload(&pdf).await.unwrap(), Bytes::from(pdf));
    let feedback = Feedback {
        stars: 4,
        comment: "kind & quick = good".into(),
    };
    client.feedback(&feedback).await.unwrap();
    assert_eq!(fake.feedback.calls()[0].form, feedback);
    fake.verify();
}

#[tokio::test]
async fn a_401_from_the_fake_is_replayed_once_with_a_new_token() {
    let fake = AppointmentsFake::new();
    let (sandbox, client) = served(&fake).await;
    fake.booking
        .returns(Err(Error::from_status(StatusCode::UNAUTHORIZED, "")))
        .returns(Ok(Some(Confirmation {
            booking: 1,
            slot: 1,
        })));
    assert!(client.booking(1).await.unwrap().is_some());
    // The first token, then the one fetched after the 401; two calls reached the fake.
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(fake.booking.call_count(), 2);
    fake.verify();
}

#[tokio::test]
async fn a_503_from_the_fake_is_retried_and_sandbox_faults_work_by_endpoint_name() {
    let fake = AppointmentsFake::new();
    let (sandbox, client) = served(&fake).await;
    fake.booking
        .returns(Err(Error::from_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
        )))
        .returns(Ok(None));
    assert_eq!(client.booking(1).await.unwrap(), None);
    assert_eq!(fake.booking.call_count(), 2);

    // The sandbox's own fault, by the endpoint's name: the request never reaches the fake.
    sandbox.inject(
        "Appointments.booking",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    fake.booking.returns(Ok(None));
    assert_eq!(client.booking(2).await.unwrap(), None);
    assert_eq!(fake.booking.call_count(), 3);
    assert_eq!(sandbox.requests("Appointments.booking"), 4);
    // A whole trait by its name, as a group.
    sandbox.inject(
        "Appointments",
        Fault::Status {
            status: 418,
            retry_after: None,
            body: None,
        },
    );
    let e = client.booking(3).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::IM_A_TEAPOT));
    assert_eq!(fake.booking.call_count(), 3);
    assert_eq!(sandbox.token_requests(), 1);
    fake.verify();
}

#[tokio::test]
async fn an_unscripted_call_over_the_wire_fails_the_call_and_the_fake() {
    let fake = AppointmentsFake::new();
    let (_sandbox, client) = served(&fake).await;
    let e = client.cancel(9, None).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(
        e.body_text().unwrap().contains(
            "Appointments.cancel was called with nothing scripted: Appointments.cancel(id: 9, reason: None)"
        ),
        "{e}"
    );
    assert_eq!(fake.problems().len(), 1);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test]
async fn a_served_dyn_fake_and_healthheros_endpoints_share_one_sandbox() {
    let fake = ReferralsFake::new();
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.serve(&fake);
    let client = sandbox_builder(&sandbox).build().unwrap();
    fake.refer
        .always(|call| Ok(if call.urgent { 1 } else { 2 }));

    let referrals = ReferralsClient::new(client.clone());
    assert_eq!(
        referrals.refer("ear, nose & throat", true).await.unwrap(),
        1
    );
    assert_eq!(fake.refer.calls()[0].service, "ear, nose & throat");
    // HealthHero's own endpoints are still there, with the same token.
    let traversals = crate::support::TraversalsClient::new(client);
    use crate::support::Traversals as _;
    let created = traversals
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await;
    assert!(created.is_ok(), "{created:?}");
    assert_eq!(sandbox.token_requests(), 1);
    fake.verify();
}

#[tokio::test]
async fn a_timeout_reply_never_answers_and_a_connection_failure_cuts_the_connection() {
    let fake = AppointmentsFake::new();
    let (sandbox, api) = served(&fake).await;
    // Any per-attempt timeout will do: the served fake never answers.
    let impatient = sandbox_builder(&sandbox)
        .request_timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let impatient = AppointmentsClient::new(impatient);
    let booking = Booking {
        slot: 1,
        reason: "r".into(),
    };
    fake.book
        .returns(Err(Error::timed_out(std::time::Duration::from_secs(1))))
        .returns(Err(Error::connection_refused()));

    // A POST that may have reached the server is not resent: one call each.
    let e = impatient.book("p", &booking, "k1").await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    // The connection was made, so the client sees an answer cut short, not a refusal.
    let e = api.book("p", &booking, "k2").await.unwrap_err();
    assert!(!e.is_status() && !e.is_timeout(), "{e}");
    assert_eq!(fake.book.call_count(), 2);
    fake.verify();
}

#[tokio::test]
async fn a_request_the_fake_cannot_read_is_a_400_and_a_problem() {
    let fake = AppointmentsFake::new();
    let (sandbox, client) = served(&fake).await;
    let token = client.client().access_token().await.unwrap();
    // Not through the generated client, which cannot send a booking id that is not a number.
    let answer = reqwest::Client::new()
        .get(format!("{}/clinic/v2/bookings/seven", sandbox.api_url()))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    let problem = "Appointments.booking: the request could not be read: path argument `id` (\"seven\"): invalid digit found in string";
    assert_eq!(answer.text().await.unwrap(), format!("hh fake: {problem}"));
    assert_eq!(fake.problems(), [problem]);
    assert_eq!(fake.booking.call_count(), 0);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

/// A trait of one's own at one of HealthHero's routes: its fake answers there. (Only served:
/// nothing calls its methods here.)
#[allow(dead_code)]
#[hh_runtime::healthhero_api(prefix = "/api/v1/<client_id>", serve)]
trait Overlay {
    #[get("/Traversals/<traversal_id>")]
    async fn get(&self, traversal_id: &str) -> Result<serde_json::Value, Error>;
}

#[tokio::test]
async fn a_served_fake_answers_before_healthheros_route_and_checks_the_tenant() {
    let fake = OverlayFake::new();
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.serve(&fake);
    fake.get
        .always(|call| Ok(serde_json::json!({ "traversalId": call.traversal_id })));
    let client = sandbox_builder(&sandbox).build().unwrap();
    let traversals = crate::support::TraversalsClient::new(client.clone());
    use crate::support::Traversals as _;
    let page = traversals.get("from-the-fake").await.unwrap();
    assert_eq!(page["traversalId"], "from-the-fake");
    assert_eq!(sandbox.requests("Overlay.get"), 1);
    assert_eq!(sandbox.requests("traversals.get"), 0);

    // `<client_id>` is a tenant, as on HealthHero's routes: a token for another is refused.
    let token = client.access_token().await.unwrap();
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/someone-else/Traversals/x",
            sandbox.api_url()
        ))
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(fake.get.call_count(), 1);
    fake.verify();
}

#[tokio::test]
async fn a_served_fake_is_still_checked_when_the_test_drops_it() {
    let fake = AppointmentsFake::new();
    let (_sandbox, _client) = served(&fake).await;
    fake.booking.returns(Ok(None));
    // The sandbox's copy does not count: dropping the test's own fake runs the check, here.
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(fake)));
    let message = dropped.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("Appointments.booking: 1 scripted reply was never used"),
        "{message}"
    );
}

#[tokio::test]
async fn a_reply_that_panics_over_the_wire_is_a_500_and_a_problem() {
    let fake = AppointmentsFake::new();
    let (_sandbox, client) = served(&fake).await;
    fake.cancel.returns_with(|call| {
        assert_eq!(call.id, 4, "cancelled the wrong booking");
        Ok(())
    });
    let e = client.cancel(3, None).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(
        e.body_text()
            .unwrap()
            .contains("panicked: assertion `left == right` failed: cancelled the wrong booking"),
        "{e}"
    );
    assert_eq!(fake.problems().len(), 1);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test]
async fn routes_statuses_headers_queries_timeouts_and_faults_of_served_endpoints() {
    let fake = AppointmentsFake::new();
    let (sandbox, client) = served(&fake).await;

    // `/bookings/latest` is `latest`'s, though `booking`'s `/bookings/<id>` (declared first)
    // matches it too.
    fake.latest.returns(Ok(Some(Confirmation {
        booking: 9,
        slot: 9,
    })));
    assert_eq!(client.latest().await.unwrap().unwrap().booking, 9);

    // `Response<T>`: the status and headers the fake replied with reach the caller.
    fake.book.returns_with(|call| {
        let mut headers = HeaderMap::new();
        headers.append("link", HeaderValue::from_static("</a>; rel=a"));
        headers.append("link", HeaderValue::from_static("</b>; rel=b"));
        Ok(Response::new(
            StatusCode::CREATED,
            headers,
            Confirmation {
                booking: 1,
                slot: call.booking.slot,
            },
        ))
    });
    let booked = client
        .book(
            "p",
            &Booking {
                slot: 3,
                reason: "r".into(),
            },
            "k",
        )
        .await
        .unwrap();
    assert_eq!(booked.status(), StatusCode::CREATED);
    let links: Vec<_> = booked.headers().get_all("link").iter().collect();
    assert_eq!(links, ["</a>; rel=a", "</b>; rel=b"]);
    assert_eq!(booked.value().slot, 3);

    // `#[query(flatten)]`, with a list and text that needs encoding.
    let filter = SlotFilter {
        kind: vec![SlotKind::Video, SlotKind::InPerson],
        after: Some("10:00 & later = ok?".into()),
    };
    fake.search.returns(Ok(Vec::new()));
    assert!(client.search(&filter).await.unwrap().is_empty());
    assert_eq!(fake.search.calls()[0].filter, filter);

    // The sandbox's faults on a served endpoint: a delay beyond `latest`'s own 500 ms
    // timeout, then a dropped connection; neither reaches the fake.
    fake.latest.always(|_| Ok(None));
    sandbox.inject("Appointments.latest", Fault::Latency { ms: 60_000 });
    assert!(client.latest().await.unwrap_err().is_timeout());
    sandbox.clear_faults();
    sandbox.inject("Appointments.latest", Fault::DropConnection);
    assert!(client.latest().await.is_err());
    sandbox.clear_faults();
    assert_eq!(client.latest().await.unwrap(), None);
    assert_eq!(sandbox.requests("Appointments.latest"), 4);
    fake.verify();
}

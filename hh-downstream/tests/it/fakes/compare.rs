//! One test, written three ways, for README's "Testing code that uses your client": "when the
//! first free slot is taken, `book_first_free` books the second", with the fake hh writes, with
//! a fake written by hand (mockall cannot mock the trait: its methods return `impl Future`), and
//! with wiremock. README shows the regions between the `README:` markers verbatim and counts
//! their lines; `readme_compares_the_three_tests_as_written` holds it to that.

use std::collections::VecDeque;
use std::sync::Mutex;

use hh_downstream::clinic::{
    Appointments, AppointmentsClient, AppointmentsFake, Booked, Booking, Confirmation, Feedback,
    Slot, SlotFilter, SlotKind, book_first_free,
};
use hh_runtime::{Bytes, Error, HeaderMap, Response, StatusCode};

fn slot(id: u64) -> Slot {
    Slot {
        id,
        starts: format!("09:{id:02}"),
        kind: SlotKind::Video,
    }
}

// README: hh
#[tokio::test]
async fn books_the_second_slot_when_the_first_is_taken() {
    let api = AppointmentsFake::new();
    api.slots.returns(Ok(vec![slot(1), slot(2)]));
    api.book
        .returns(Err(Error::from_status(StatusCode::CONFLICT, "taken")))
        .returns_with(|call| {
            let confirmation = Confirmation {
                booking: 77,
                slot: call.booking.slot,
            };
            Ok(Response::new(
                StatusCode::CREATED,
                HeaderMap::new(),
                confirmation,
            ))
        });

    let booked = book_first_free(&api, "p-1", "2026-12-03", "cough")
        .await
        .unwrap();

    assert_eq!(
        booked,
        Booked::Confirmed(Confirmation {
            booking: 77,
            slot: 2
        })
    );
    let keys: Vec<String> = api.book.calls().into_iter().map(|c| c.key).collect();
    assert_eq!(keys, ["p-1:1", "p-1:2"]);
    api.verify();
}
// README: end

// README: by hand
#[derive(Default)]
struct HandFake {
    slots: Mutex<Vec<Slot>>,
    bookings: Mutex<VecDeque<Result<Response<Confirmation>, Error>>>,
    keys: Mutex<Vec<String>>,
}

impl Appointments for HandFake {
    async fn slots(&self, _: &str, _: &str, _: &[SlotKind]) -> Result<Vec<Slot>, Error> {
        Ok(self.slots.lock().unwrap().clone())
    }
    async fn book(&self, _: &str, _: &Booking, key: &str) -> Result<Response<Confirmation>, Error> {
        self.keys.lock().unwrap().push(key.to_owned());
        self.bookings
            .lock()
            .unwrap()
            .pop_front()
            .expect("book called once too often")
    }
    async fn search(&self, _: &SlotFilter) -> Result<Vec<Slot>, Error> {
        unimplemented!()
    }
    async fn booking(&self, _: u64) -> Result<Option<Confirmation>, Error> {
        unimplemented!()
    }
    async fn latest(&self) -> Result<Option<Confirmation>, Error> {
        unimplemented!()
    }
    async fn cancel(&self, _: u64, _: Option<&str>) -> Result<(), Error> {
        unimplemented!()
    }
    async fn note(&self, _: u64, _: &str) -> Result<String, Error> {
        unimplemented!()
    }
    async fn upload(&self, _: &[u8]) -> Result<Bytes, Error> {
        unimplemented!()
    }
    async fn feedback(&self, _: &Feedback) -> Result<(), Error> {
        unimplemented!()
    }
}

#[tokio::test]
async fn by_hand_books_the_second_slot_when_the_first_is_taken() {
    let api = HandFake::default();
    *api.slots.lock().unwrap() = vec![slot(1), slot(2)];
    let confirmation = Confirmation {
        booking: 77,
        slot: 2,
    };
    api.bookings.lock().unwrap().extend([
        Err(Error::from_status(StatusCode::CONFLICT, "taken")),
        Ok(Response::new(
            StatusCode::CREATED,
            HeaderMap::new(),
            confirmation,
        )),
    ]);

    let booked = book_first_free(&api, "p-1", "2026-12-03", "cough")
        .await
        .unwrap();

    assert_eq!(
        booked,
        Booked::Confirmed(Confirmation {
            booking: 77,
            slot: 2
        })
    );
    assert_eq!(*api.keys.lock().unwrap(), ["p-1:1", "p-1:2"]);
    assert!(api.bookings.lock().unwrap().is_empty());
}
// README: end

// README: wiremock
#[tokio::test]
async fn wiremock_books_the_second_slot_when_the_first_is_taken() {
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "t", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/clinic/v2/patients/p-1/slots"))
        .and(query_param("day", "2026-12-03"))
        .respond_with(ResponseTemplate::new(200).set_body_json([slot(1), slot(2)]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/clinic/v2/patients/p-1/bookings"))
        .and(header("idempotency-key", "p-1:1"))
        .and(body_json(Booking {
            slot: 1,
            reason: "cough".into(),
        }))
        .respond_with(ResponseTemplate::new(409))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/clinic/v2/patients/p-1/bookings"))
        .and(header("idempotency-key", "p-1:2"))
        .respond_with(ResponseTemplate::new(201).set_body_json(Confirmation {
            booking: 77,
            slot: 2,
        }))
        .expect(1)
        .mount(&server)
        .await;
    let client = hh_runtime::Client::builder()
        .identity_url(server.uri())
        .api_url(server.uri())
        .client_id("test")
        .client_secret("test")
        .build()
        .unwrap();
    let api = AppointmentsClient::new(client);

    let booked = book_first_free(&api, "p-1", "2026-12-03", "cough")
        .await
        .unwrap();

    assert_eq!(
        booked,
        Booked::Confirmed(Confirmation {
            booking: 77,
            slot: 2
        })
    );
}
// README: end

/// The three regions, as README shows them, and the line counts README states.
#[test]
fn readme_compares_the_three_tests_as_written() {
    let source = include_str!("compare.rs");
    let readme = include_str!("../../../../README.md");
    for (name, label) in [
        ("hh", "hh's fake"),
        ("by hand", "by hand"),
        ("wiremock", "wiremock"),
    ] {
        let start = format!("// README: {name}\n");
        let region = source
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("// README: end\n"))
            .map(|(region, _)| region)
            .unwrap();
        assert!(
            readme.contains(region),
            "README does not show the `{name}` test as written"
        );
        let lines = region.lines().filter(|l| !l.trim().is_empty()).count();
        let row = format!("| {label} | {lines} |");
        assert!(readme.contains(&row), "README's table lacks `{row}`");
    }
}

//! The fakes hh writes for a trait (hh-runtime's `testing` feature), used as a team would use
//! them to test its own code (`clinic::book_first_free`) against its own endpoints: in process
//! here, over the wire through the generated client and hh-sandbox in `wire`.

#![allow(clippy::unwrap_used)]

mod compare;
mod edges;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use hh_downstream::clinic::{
    Appointments, AppointmentsFake, Booked, Booking, Confirmation, Referrals, ReferralsFake, Slot,
    SlotKind, book_first_free,
};
use hh_runtime::testing::Faults;
use hh_runtime::{Error, HeaderMap, ProblemDetails, Response, StatusCode};

fn slot(id: u64) -> Slot {
    Slot {
        id,
        starts: format!("09:{id:02}"),
        kind: SlotKind::InPerson,
    }
}

fn confirmed(booking: u64, slot: u64) -> Result<Response<Confirmation>, Error> {
    Ok(Response::new(
        StatusCode::CREATED,
        HeaderMap::new(),
        Confirmation { booking, slot },
    ))
}

/// The panic message of a task that panicked.
async fn panic_of(task: tokio::task::JoinHandle<()>) -> String {
    let payload = task.await.unwrap_err().into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap()
}

#[tokio::test]
async fn scripted_replies_drive_the_code_and_calls_are_recorded_typed() {
    let fake = AppointmentsFake::new();
    fake.slots.returns(Ok(vec![slot(1), slot(2)]));
    // The first slot is taken meanwhile: a 409, then the second books.
    fake.book
        .returns(Err(Error::from_status(StatusCode::CONFLICT, "taken")))
        .returns_with(|call| confirmed(77, call.booking.slot));

    let booked = book_first_free(&fake, "p-1", "2026-12-03", "cough")
        .await
        .unwrap();
    assert_eq!(
        booked,
        Booked::Confirmed(Confirmation {
            booking: 77,
            slot: 2
        })
    );

    let slots = fake.slots.calls();
    assert_eq!(slots.len(), 1);
    assert_eq!(slots[0].patient, "p-1");
    assert_eq!(slots[0].day, "2026-12-03");
    assert_eq!(slots[0].kinds, [SlotKind::InPerson, SlotKind::Video]);
    let books = fake.book.calls();
    let keys: Vec<&str> = books.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["p-1:1", "p-1:2"]);
    assert_eq!(
        books[1].booking,
        Booking {
            slot: 2,
            reason: "cough".into()
        }
    );
    assert_eq!(
        fake.log_of_calls(),
        [
            "Appointments.slots",
            "Appointments.book",
            "Appointments.book"
        ]
    );
    fake.verify();
}

#[tokio::test]
async fn an_error_reply_reaches_the_code_as_the_clients_error_would() {
    let fake = AppointmentsFake::new();
    fake.slots.always(|_| Ok(vec![slot(1)]));
    let mut problem = ProblemDetails::new("Clinic closed");
    problem.detail = Some("strike".into());
    fake.book
        .returns(Err(Error::from_problem(
            StatusCode::SERVICE_UNAVAILABLE,
            &problem,
        )))
        .returns(Err(Error::timed_out(Duration::from_secs(10))))
        .returns(Err(Error::from_status(StatusCode::CONFLICT, "")));

    let e = book_first_free(&fake, "p", "d", "r").await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(e.problem().unwrap().title.as_deref(), Some("Clinic closed"));
    assert!(e.is_retryable());
    let e = book_first_free(&fake, "p", "d", "r").await.unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(
        book_first_free(&fake, "p", "d", "r").await.unwrap(),
        Booked::NoneLeft
    );
    fake.verify();
}

#[tokio::test]
async fn an_unscripted_call_fails_naming_the_endpoint_and_its_arguments() {
    let fake = AppointmentsFake::new();
    let called = fake.clone();
    let message = panic_of(tokio::spawn(async move {
        let _ = called.cancel(7, Some("moved away")).await;
    }))
    .await;
    assert_eq!(
        message,
        "Appointments.cancel was called with nothing scripted: Appointments.cancel(id: 7, reason: Some(\"moved away\")); script it with `.returns(..)`, `.returns_with(..)` or `.always(..)`"
    );
    // Even a panic the code under test swallowed (a spawned task's) fails `verify`.
    assert_eq!(fake.problems().len(), 1);
    let verify = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify()));
    assert!(verify.is_err());
}

#[test]
fn replies_never_used_are_reported_by_verify_and_when_the_fake_is_dropped() {
    let fake = AppointmentsFake::new();
    fake.booking.returns(Ok(None)).returns(Ok(None));
    fake.note.always(|call| Ok(call.text));
    assert_eq!(
        fake.problems(),
        ["Appointments.booking: 2 scripted replies were never used"]
    );

    // Dropped without `verify`: the last clone's drop panics with the same report.
    let dropped = std::thread::spawn(move || drop(fake)).join().unwrap_err();
    let message = dropped.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("dropped without being used as scripted")
            && message.contains("Appointments.booking: 2 scripted replies were never used"),
        "{message}"
    );
}

#[test]
fn a_verify_that_passed_leaves_the_check_on_drop_for_what_came_after() {
    // Verified early, then scripted again: the reply queued after `verify` is still reported.
    let fake = AppointmentsFake::new();
    fake.verify();
    fake.latest.returns(Ok(None));
    let message = report_on_drop(fake);
    assert!(
        message.contains("Appointments.latest: 1 scripted reply was never used"),
        "{message}"
    );

    // What a failing `verify` reported (and a test caught) is not reported again on drop.
    let fake = AppointmentsFake::new();
    fake.latest.returns(Ok(None));
    let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify()));
    assert!(verified.is_err());
    std::thread::spawn(move || drop(fake)).join().unwrap();

    // ... but a reply queued after it is, though the report reads the same as before.
    let fake = AppointmentsFake::new();
    fake.latest.returns(Ok(None));
    let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify()));
    assert!(verified.is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(fake.latest()).unwrap();
    fake.latest.returns(Ok(None));
    let message = report_on_drop(fake);
    assert!(
        message.contains("Appointments.latest: 1 scripted reply was never used"),
        "{message}"
    );
}

/// What dropping the last clone of `fake` panics with (on a thread of its own).
fn report_on_drop(fake: AppointmentsFake) -> String {
    let dropped = std::thread::spawn(move || drop(fake)).join().unwrap_err();
    dropped.downcast_ref::<String>().unwrap().clone()
}

#[tokio::test]
async fn an_error_reply_with_a_success_status_fails_the_call_and_the_fake() {
    // The client never returns an `Error` with a 2xx status: a test built on one would test
    // nothing the code meets.
    let fake = AppointmentsFake::new();
    fake.latest
        .returns(Err(Error::from_status(StatusCode::OK, "")));
    let call = tokio::spawn({
        let fake = fake.clone();
        async move {
            let _ = fake.latest().await;
        }
    });
    let message = panic_of(call).await;
    assert_eq!(
        message,
        "Appointments.latest: an `Err` status reply of 200 OK is one the client never returns (it reads a 1xx or 2xx answer as a success); script `Ok(..)`, or a status of 300 or more"
    );
    assert_eq!(fake.problems(), [message]);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[test]
fn a_test_already_failing_is_not_aborted_by_the_check_on_drop() {
    // A second panic while unwinding would abort the whole test binary; the test's own
    // failure is what it reports.
    let failed = std::thread::spawn(|| {
        let fake = AppointmentsFake::new();
        fake.latest.returns(Ok(None));
        panic!("the test's own failure");
    })
    .join()
    .unwrap_err();
    assert_eq!(
        failed.downcast_ref::<&str>(),
        Some(&"the test's own failure")
    );
}

#[tokio::test(start_paused = true)]
async fn a_delay_runs_on_tokios_clock() {
    let fake = AppointmentsFake::new();
    fake.booking.delay(Duration::from_secs(90)).always(|call| {
        Ok(Some(Confirmation {
            booking: call.id,
            slot: 1,
        }))
    });
    let start = tokio::time::Instant::now();
    let found = fake.booking(5).await.unwrap();
    assert_eq!(found.unwrap().booking, 5);
    // Paused time: the 90 s pass on tokio's clock, at once (its timers tick by the millisecond).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(90) && waited < Duration::from_secs(91),
        "{waited:?}"
    );

    // A timeout in the code under test sees the delay.
    let cut = tokio::time::timeout(Duration::from_secs(30), fake.booking(6)).await;
    assert!(cut.is_err());
    assert_eq!(fake.booking.call_count(), 2);
    fake.verify();
}

#[tokio::test]
async fn seeded_faults_fail_the_same_calls_on_every_run() {
    async fn run(seed: u64) -> Vec<bool> {
        let fake = AppointmentsFake::new();
        fake.booking
            .always(|_| Ok(None))
            .faults(Faults::seeded(seed).failing(0.3, || {
                Error::from_status(StatusCode::SERVICE_UNAVAILABLE, "")
            }));
        let mut failed = Vec::new();
        for id in 0..40 {
            failed.push(fake.booking(id).await.is_err());
        }
        // Every call is recorded, failed or not.
        assert_eq!(fake.booking.call_count(), 40);
        failed
    }
    let first = run(7).await;
    assert_eq!(first, run(7).await);
    let failures = first.iter().filter(|f| **f).count();
    assert!((1..40).contains(&failures), "{failures} of 40 failed");
    // Nothing fails unless asked: a fake without faults never does.
    assert!(!run_without_faults().await);

    async fn run_without_faults() -> bool {
        let fake = AppointmentsFake::new();
        fake.booking.always(|_| Ok(None));
        for id in 0..40 {
            if fake.booking(id).await.is_err() {
                return true;
            }
        }
        false
    }
}

#[tokio::test]
async fn the_dyn_form_works_behind_an_arc() {
    let fake = ReferralsFake::new();
    fake.refer
        .always(|call| Ok(if call.urgent { 1 } else { 2 }));
    let service: Arc<dyn Referrals + Send + Sync> = Arc::new(fake.clone());
    assert_eq!(service.refer("cardiology", true).await.unwrap(), 1);
    assert_eq!(service.refer("dermatology", false).await.unwrap(), 2);
    let services: Vec<String> = fake.refer.calls().into_iter().map(|c| c.service).collect();
    assert_eq!(services, ["cardiology", "dermatology"]);
    fake.verify();
}

#[tokio::test(start_paused = true)]
async fn replies_go_to_calls_in_the_order_the_calls_arrive_whatever_their_delays() {
    // A seed whose jitter makes the first call finish last (the generator is hh's own, so the
    // seed found is the same on every run).
    for seed in 0..64 {
        let fake = AppointmentsFake::new();
        fake.booking
            .faults(Faults::seeded(seed).jitter(Duration::from_secs(10)))
            .returns(Ok(Some(Confirmation {
                booking: 100,
                slot: 1,
            })))
            .returns(Ok(Some(Confirmation {
                booking: 200,
                slot: 2,
            })));
        let finished = std::sync::Mutex::new(Vec::new());
        let call = |id| {
            let (fake, finished) = (&fake, &finished);
            async move {
                let reply = fake.booking(id).await.unwrap().unwrap();
                finished.lock().unwrap().push(id);
                reply.booking
            }
        };
        let (first, second) = tokio::join!(call(1), call(2));
        // Each call got the reply queued for its place in line.
        assert_eq!((first, second), (100, 200));
        fake.verify();
        if *finished.lock().unwrap() == [2, 1] {
            return;
        }
    }
    panic!("no seed in 0..64 made the first call finish last");
}

#[tokio::test]
async fn a_failed_call_uses_no_scripted_reply() {
    let fake = AppointmentsFake::new();
    let always_fails =
        Faults::seeded(1).failing(1.0, || Error::from_status(StatusCode::BAD_GATEWAY, ""));
    fake.booking.faults(always_fails).returns(Ok(None));
    let e = fake.booking(1).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(fake.booking.remaining(), 1);
    fake.booking.faults(Faults::seeded(1));
    assert_eq!(fake.booking(2).await.unwrap(), None);
    assert_eq!(fake.booking.remaining(), 0);
    fake.verify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standing_reply_answers_calls_made_at_once() {
    let fake = AppointmentsFake::new();
    fake.booking.always(|call| {
        Ok(Some(Confirmation {
            booking: call.id,
            slot: 0,
        }))
    });
    let calls: Vec<_> = (0..64)
        .map(|id| {
            let fake = fake.clone();
            tokio::spawn(async move { fake.booking(id).await.unwrap().unwrap().booking })
        })
        .collect();
    for (id, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap(), id as u64);
    }
    assert_eq!(fake.booking.call_count(), 64);
    fake.verify();
}

#[tokio::test]
async fn a_reply_that_panics_fails_the_call_and_the_fake() {
    let fake = AppointmentsFake::new();
    fake.booking.returns_with(|call| {
        assert_eq!(call.id, 4, "booking asked for the wrong id");
        Ok(None)
    });
    let called = fake.clone();
    let message = panic_of(tokio::spawn(async move {
        let _ = called.booking(3).await;
    }))
    .await;
    assert!(
        message.starts_with("Appointments.booking: the reply to Appointments.booking(id: 3) panicked: assertion `left == right` failed: booking asked for the wrong id"),
        "{message}"
    );
    assert_eq!(fake.problems(), [message]);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

/// An argument type without `Debug` (a patient's PIN has no business in logs).
#[derive(Clone, serde::Serialize)]
struct Pin(String);

#[allow(dead_code)]
#[hh_runtime::healthhero_api]
trait Unlock {
    #[post("/unlock")]
    async fn unlock(&self, #[body] pin: &Pin) -> Result<(), Error>;
}

#[tokio::test]
async fn an_argument_without_debug_is_shown_by_its_type() {
    let fake = UnlockFake::new();
    let called = fake.clone();
    let message = panic_of(tokio::spawn(async move {
        let _ = called.unlock(&Pin("1234".into())).await;
    }))
    .await;
    assert!(
        message.starts_with(
            "Unlock.unlock was called with nothing scripted: Unlock.unlock(pin: <it::fakes::Pin>)"
        ),
        "{message}"
    );
    assert!(!message.contains("1234"));
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test(start_paused = true)]
async fn an_unscripted_call_its_caller_gave_up_on_is_still_reported() {
    let fake = AppointmentsFake::new();
    fake.booking.delay(Duration::from_secs(60));
    // The code under test stops waiting during the delay: the call never returns.
    assert!(
        tokio::time::timeout(Duration::from_secs(1), fake.booking(1))
            .await
            .is_err()
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("Appointments.booking was called with nothing scripted"));
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test]
async fn a_faults_error_may_look_at_the_fake() {
    let fake = AppointmentsFake::new();
    let seen = fake.booking.clone();
    fake.booking.faults(Faults::seeded(3).failing(1.0, move || {
        // Made outside the endpoint's lock: reading the calls does not deadlock.
        let n = seen.call_count();
        Error::from_status(StatusCode::SERVICE_UNAVAILABLE, format!("call {n}"))
    }));
    let e = fake.booking(1).await.unwrap_err();
    assert_eq!(e.body_text(), Some("call 1"));
    fake.verify();
}

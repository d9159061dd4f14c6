//! A clinic's own booking API, not HealthHero's: what a team declares for its tenant-specific
//! endpoints, and a piece of its own code that uses them (`book_first_free`). The tests
//! (`tests/it/fakes`) test that code with the `<Trait>Fake` hh writes, in process and over the
//! wire through hh-sandbox.

use hh_runtime::{Bytes, Error, Response, StatusCode, healthhero_api};
use serde::{Deserialize, Serialize};

/// The kind of appointment a slot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlotKind {
    /// Face to face.
    InPerson,
    /// By video.
    Video,
}

/// A free slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// The slot's id.
    pub id: u64,
    /// When, as the clinic writes it.
    pub starts: String,
    /// Its kind.
    pub kind: SlotKind,
}

/// A booking request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// The slot wanted.
    pub slot: u64,
    /// Why, in the patient's words.
    pub reason: String,
}

/// A confirmed booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The booking's id.
    pub booking: u64,
    /// The slot booked.
    pub slot: u64,
}

/// A search for slots, sent as query parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotFilter {
    /// Only these kinds.
    pub kind: Vec<SlotKind>,
    /// Only after this time of day, as the clinic writes it.
    pub after: Option<String>,
}

/// A patient's feedback, sent as a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// From 1 to 5.
    pub stars: u8,
    /// Free text.
    pub comment: String,
}

/// The clinic's booking endpoints: every argument role and return shape hh has.
#[healthhero_api(prefix = "/clinic/v2", serve)]
pub trait Appointments {
    /// Free slots for a patient on a day, of some kinds.
    #[get("/patients/<patient>/slots")]
    async fn slots(
        &self,
        patient: &str,
        #[query] day: &str,
        #[query("kind")] kinds: &[SlotKind],
    ) -> Result<Vec<Slot>, Error>;

    /// Books a slot; the clinic answers 201 with the booking's URL in `location`.
    #[post("/patients/<patient>/bookings")]
    async fn book(
        &self,
        patient: &str,
        #[body] booking: &Booking,
        #[header("idempotency-key")] key: &str,
    ) -> Result<Response<Confirmation>, Error>;

    /// Free slots of any patient, by filter.
    #[get("/slots")]
    async fn search(&self, #[query(flatten)] filter: &SlotFilter) -> Result<Vec<Slot>, Error>;

    /// A booking, if it exists.
    #[get("/bookings/<id>")]
    async fn booking(&self, id: u64) -> Result<Option<Confirmation>, Error>;

    /// The latest booking: a route `booking`'s would match too, declared after it. Quick or
    /// nothing: one attempt of half a second.
    #[get("/bookings/latest")]
    #[timeout("500ms")]
    #[retry(false)]
    async fn latest(&self) -> Result<Option<Confirmation>, Error>;

    /// Cancels a booking.
    #[delete("/bookings/<id>")]
    async fn cancel(
        &self,
        id: u64,
        #[header("x-reason")] reason: Option<&str>,
    ) -> Result<(), Error>;

    /// Replaces a booking's note; answers the note as stored.
    #[put("/bookings/<id>/note")]
    async fn note(&self, id: u64, #[body(text)] text: &str) -> Result<String, Error>;

    /// Uploads a referral letter; answers its stored bytes.
    #[post("/letters")]
    async fn upload(&self, #[body(bytes)] pdf: &[u8]) -> Result<Bytes, Error>;

    /// Sends feedback.
    #[post("/feedback")]
    async fn feedback(&self, #[form] form: &Feedback) -> Result<(), Error>;
}

/// Referrals, in the `dyn` form: a service holds `Arc<dyn Referrals + Send + Sync>`.
#[healthhero_api(dyn, serve)]
pub trait Referrals {
    /// Refers a patient to a service.
    #[post("/referrals/<service>")]
    async fn refer(&self, service: &str, #[query] urgent: bool) -> Result<u64, Error>;
}

/// What [`book_first_free`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Booked {
    /// Booked: the confirmation.
    Confirmed(Confirmation),
    /// Every slot was gone by the time it was asked for.
    NoneLeft,
}

/// The team's own code under test: books the first free slot of the day, moving to the next
/// when the clinic answers 409 (someone else took it) and giving up on any other error. The
/// idempotency key is the patient and the slot, so a resend cannot book twice.
pub async fn book_first_free(
    api: &impl Appointments,
    patient: &str,
    day: &str,
    reason: &str,
) -> Result<Booked, Error> {
    let slots = api
        .slots(patient, day, &[SlotKind::InPerson, SlotKind::Video])
        .await?;
    for slot in slots {
        let booking = Booking {
            slot: slot.id,
            reason: reason.to_owned(),
        };
        let key = format!("{patient}:{}", slot.id);
        match api.book(patient, &booking, &key).await {
            Ok(answer) => return Ok(Booked::Confirmed(answer.into_value())),
            Err(e) if e.status() == Some(StatusCode::CONFLICT) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Booked::NoneLeft)
}

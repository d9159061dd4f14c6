//! What a fake answers and what it saw: one [`Endpoint`] per method of the trait, sharing one
//! [`FakeCore`] that checks, when asked or when the fake goes away, that every reply scripted
//! was used and that no call went unanswered.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::faults::{FaultState, Faults};
use crate::error::Error;

/// A reply waiting in an endpoint's queue: used by exactly one call.
type Once<C, T> = Box<dyn FnOnce(C) -> Result<T, Error> + Send>;
/// The reply to every call once the queue is empty: shared, and locked only to run, so that
/// calls at once each get it (one at a time) and none finds it missing.
type Always<C, T> = Arc<Mutex<dyn FnMut(C) -> Result<T, Error> + Send>>;

/// Locks, going on after a panic elsewhere: a test that failed while holding the lock must
/// still be able to report what the fake saw.
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The script of one endpoint of a fake: the replies its calls get, in order, and the calls it
/// received, as typed values. `C` is the generated `<Trait><Method>Call` struct (the call's
/// arguments, owned); `T` the endpoint's success type.
///
/// Clones share the script: a fake's field is the same endpoint however many clones of the fake
/// a test holds.
pub struct Endpoint<C, T> {
    inner: Arc<Inner<C, T>>,
}

struct Inner<C, T> {
    name: &'static str,
    /// Weak: the core holds every endpoint, and must drop (and check) with the fake.
    core: std::sync::Weak<CoreInner>,
    state: Mutex<State<C, T>>,
}

struct State<C, T> {
    queue: VecDeque<Once<C, T>>,
    /// Replies ever queued: what the check on drop compares with the count at `verify`.
    queued: usize,
    always: Option<Always<C, T>>,
    calls: Vec<C>,
    delay: Duration,
    faults: Option<FaultState>,
}

impl<C, T> Clone for Endpoint<C, T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C, T> fmt::Debug for Endpoint<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("Endpoint")
            .field("name", &self.inner.name)
            .field("queued", &state.queue.len())
            .field("always", &state.always.is_some())
            .field("calls", &state.calls.len())
            .finish_non_exhaustive()
    }
}

/// What an endpoint did with one call.
#[doc(hidden)]
pub enum Outcome<T> {
    /// A scripted reply (or an injected fault).
    Reply(Result<T, Error>),
    /// Nothing was scripted, or the reply panicked: the message names the endpoint and the
    /// arguments (recorded on the fake already).
    Failed(String),
}

/// What a call found at its arrival.
enum Chosen<C, T> {
    /// Fails, with the error the closure makes (run outside the lock).
    Fault(Arc<dyn Fn() -> Error + Send + Sync>),
    Once(Once<C, T>),
    Always(Always<C, T>),
    Nothing,
}

impl<C, T> Endpoint<C, T>
where
    C: Clone + fmt::Debug + Send + 'static,
    T: Send + 'static,
{
    /// A new endpoint of `core`'s fake, named `Trait.method`. Generated code calls this.
    #[doc(hidden)]
    pub fn new(core: &FakeCore, name: &'static str) -> Self {
        let endpoint = Self {
            inner: Arc::new(Inner {
                name,
                core: Arc::downgrade(&core.inner),
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    queued: 0,
                    always: None,
                    calls: Vec::new(),
                    delay: Duration::ZERO,
                    faults: None,
                }),
            }),
        };
        core.register(endpoint.inner.clone());
        endpoint
    }

    /// Queues one reply: the next call that finds it first in the queue returns it. An `Err`
    /// is any [`Error`], made for instance with [`Error::from_status`],
    /// [`Error::from_problem`], [`Error::timed_out`] or [`Error::connection_refused`].
    pub fn returns(&self, reply: Result<T, Error>) -> &Self {
        self.returns_with(move |_| reply)
    }

    /// Queues one reply computed from the call's arguments (the generated `…Call` struct, by
    /// value), used by one call.
    pub fn returns_with(
        &self,
        reply: impl FnOnce(C) -> Result<T, Error> + Send + 'static,
    ) -> &Self {
        let mut state = lock(&self.inner.state);
        state.queue.push_back(Box::new(reply));
        state.queued += 1;
        drop(state);
        self
    }

    /// Answers every call with `reply` once the queued replies are used up. A fake with only
    /// this is never "unconsumed": it may be called any number of times, none included.
    pub fn always(&self, reply: impl FnMut(C) -> Result<T, Error> + Send + 'static) -> &Self {
        lock(&self.inner.state).always = Some(Arc::new(Mutex::new(reply)));
        self
    }

    /// Waits `delay` before each reply, on tokio's clock: a test with paused time
    /// (`#[tokio::test(start_paused = true)]`) sees the delay without waiting for it.
    pub fn delay(&self, delay: Duration) -> &Self {
        lock(&self.inner.state).delay = delay;
        self
    }

    /// Injects failures as [`Faults`] decides, from its seed: the same seed fails the same calls
    /// on every run. A failed call is recorded and uses no scripted reply.
    pub fn faults(&self, faults: Faults) -> &Self {
        lock(&self.inner.state).faults = Some(FaultState::new(faults));
        self
    }

    /// Every call received so far, in order, with its arguments.
    pub fn calls(&self) -> Vec<C> {
        lock(&self.inner.state).calls.clone()
    }

    /// How many calls were received.
    pub fn call_count(&self) -> usize {
        lock(&self.inner.state).calls.len()
    }

    /// How many queued replies no call has used yet.
    pub fn remaining(&self) -> usize {
        lock(&self.inner.state).queue.len()
    }

    /// The endpoint's name, `Trait.method`.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    /// Answers one call. At its arrival, in one step, the call is recorded and its reply
    /// chosen: an injected fault, else the first queued reply (so replies go to calls in the
    /// order the calls arrive, whatever their delays), else the standing one. Then the delay
    /// passes (a call dropped meanwhile has used its reply), then the reply runs. A reply that
    /// panics is recorded as a problem too. Generated code calls this.
    #[doc(hidden)]
    pub async fn answer(&self, call: C) -> Outcome<T> {
        let (delay, chosen, index) = {
            let mut state = lock(&self.inner.state);
            let index = state.calls.len();
            state.calls.push(call.clone());
            let (jitter, fault) = match state.faults.as_mut() {
                Some(faults) => faults.next(),
                None => (Duration::ZERO, None),
            };
            let chosen = if let Some(make) = fault {
                Chosen::Fault(make)
            } else if let Some(reply) = state.queue.pop_front() {
                Chosen::Once(reply)
            } else if let Some(reply) = &state.always {
                Chosen::Always(Arc::clone(reply))
            } else {
                Chosen::Nothing
            };
            (state.delay + jitter, chosen, index)
        };
        // Recorded at arrival: a caller that gives up during the delay must not hide it.
        let unscripted = matches!(chosen, Chosen::Nothing).then(|| {
            format!(
                "{} was called with nothing scripted: {call:?}; script it with `.returns(..)`, `.returns_with(..)` or `.always(..)`",
                self.inner.name
            )
        });
        if let Some(core) = self.inner.core.upgrade() {
            lock(&core.log).push(self.inner.name);
            if let Some(message) = &unscripted {
                lock(&core.failures).push(message.clone());
            }
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(message) = unscripted {
            return Outcome::Failed(message);
        }
        // Run outside the state's lock: a reply (or a fault's error) may call into the fake
        // (`calls()`, say).
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match chosen {
            Chosen::Fault(make) => Err(make()),
            Chosen::Once(reply) => reply(call),
            Chosen::Always(reply) => (*lock(&reply))(call),
            Chosen::Nothing => unreachable!("answered above"),
        }));
        let panic = match ran {
            Ok(Err(e)) => match never_returned(&e) {
                Some(why) => {
                    let message = format!("{}: {why}", self.inner.name);
                    if let Some(core) = self.inner.core.upgrade() {
                        lock(&core.failures).push(message.clone());
                    }
                    return Outcome::Failed(message);
                }
                None => return Outcome::Reply(Err(e)),
            },
            Ok(result) => return Outcome::Reply(result),
            Err(panic) => panic,
        };
        // The call is shown from its record: formatted only on this path.
        let message = format!(
            "{}: the reply to {:?} panicked: {}",
            self.inner.name,
            lock(&self.inner.state).calls[index],
            panic_message(&*panic)
        );
        if let Some(core) = self.inner.core.upgrade() {
            lock(&core.failures).push(message.clone());
        }
        Outcome::Failed(message)
    }

    /// [`answer`](Self::answer) for an in-process call: a call with nothing scripted, or whose
    /// reply panicked, fails the test where it was made.
    #[doc(hidden)]
    pub async fn call(&self, call: C) -> Result<T, Error> {
        match self.answer(call).await {
            Outcome::Reply(reply) => reply,
            Outcome::Failed(message) => panic!("{message}"),
        }
    }
}

/// Why an `Err` reply is one the generated client never returns, if it is: a status error
/// (`is_status`, what `Error::from_status` makes) always has a status of 300 or more, since
/// the client reads a 1xx or 2xx answer as a success. (A decode or token error may carry a
/// 200: those are real.) In process and served alike, such a reply fails the call and is a
/// problem: a test built on it tests nothing the code will meet.
fn never_returned(error: &Error) -> Option<String> {
    let status = error.status().filter(|_| error.is_status())?;
    (status.as_u16() < 300).then(|| {
        format!(
            "an `Err` status reply of {status} is one the client never returns (it reads a 1xx or 2xx answer as a success); script `Ok(..)`, or a status of 300 or more"
        )
    })
}

/// The text of a panic's payload (a `panic!` with a message, or an `assert!`).
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(a panic without a message)")
}

/// What [`FakeCore::verify`] asks of each endpoint, whatever its types.
trait Check: Send + Sync {
    /// Replies ever queued, and a line for the queued replies no call used, read together.
    fn check(&self) -> (usize, Option<String>);
}

impl<C: Send, T: Send> Check for Inner<C, T> {
    fn check(&self) -> (usize, Option<String>) {
        let state = lock(&self.state);
        let (queued, n) = (state.queued, state.queue.len());
        drop(state);
        let unconsumed = (n > 0).then(|| {
            let s = if n == 1 { "reply was" } else { "replies were" };
            format!("{}: {n} scripted {s} never used", self.name)
        });
        (queued, unconsumed)
    }
}

/// What all the endpoints of one fake share: the order of every call, the failures seen, and
/// the check run by [`verify`](FakeCore::verify), and again when the last of the test's
/// clones of the fake is dropped.
///
/// Checked on drop too (unless the thread is already panicking), so a test that forgets to
/// call `verify`, or scripts more after it, still fails on a reply it scripted and never
/// used; `verify` is there to fail at a line of the test's choosing, and what it reported is
/// not reported again on drop. A server's copy of a served fake
/// ([`Serve::detached`](super::Serve::detached)) does not count: the check runs when the
/// test lets go of the fake, in the test's thread, not when the server ends. Where the last
/// clone ends elsewhere, call `verify`: a clone held by a task tokio cancels at shutdown is
/// dropped inside tokio, which swallows the panic, and a reply closure that holds a clone of
/// its own fake keeps it alive, so the check never runs on drop.
pub struct FakeCore {
    inner: Arc<CoreInner>,
    /// Whether this handle is one of the test's (counted in `handles`) or a server's.
    counted: bool,
}

#[derive(Default)]
struct CoreInner {
    endpoints: Mutex<Vec<Arc<dyn Check>>>,
    log: Mutex<Vec<&'static str>>,
    failures: Mutex<Vec<String>>,
    /// Where things stood at the last `verify`: the check on drop reports only what came
    /// after.
    verified: Mutex<Option<Mark>>,
    /// The test's handles alive: the check on drop runs when the last goes.
    handles: std::sync::atomic::AtomicUsize,
}

/// Where a fake stood when `verify` ran: the failures recorded, and the replies each endpoint
/// had ever queued (in registration order).
struct Mark {
    failures: usize,
    queued: Vec<usize>,
}

impl Clone for FakeCore {
    fn clone(&self) -> Self {
        if self.counted {
            self.inner
                .handles
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Self {
            inner: Arc::clone(&self.inner),
            counted: self.counted,
        }
    }
}

impl Default for FakeCore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FakeCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCore")
            .field("calls", &lock(&self.inner.log).len())
            .finish_non_exhaustive()
    }
}

impl FakeCore {
    /// A core with no endpoints yet: the test's first handle. Generated code calls this.
    #[doc(hidden)]
    pub fn new() -> Self {
        let inner = CoreInner::default();
        inner.handles.store(1, std::sync::atomic::Ordering::Relaxed);
        Self {
            inner: Arc::new(inner),
            counted: true,
        }
    }

    /// A handle that does not keep the check on drop from running: a server's. Generated code
    /// calls this (`Serve::detached`).
    #[doc(hidden)]
    pub fn uncounted(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            counted: false,
        }
    }

    fn register(&self, endpoint: Arc<dyn Check>) {
        lock(&self.inner.endpoints).push(endpoint);
    }

    /// Records what went wrong serving a call: a request that could not be read, a reply
    /// that could not be sent (see `testing::Serve`).
    pub(crate) fn record_problem(&self, message: String) {
        lock(&self.inner.failures).push(message);
    }

    /// The names (`Trait.method`) of every call received, in the order they arrived, across
    /// endpoints.
    pub fn log_of_calls(&self) -> Vec<&'static str> {
        lock(&self.inner.log).clone()
    }

    /// What is wrong, if anything: calls that found nothing scripted or whose reply panicked
    /// (or, served over HTTP, that could not be read), and replies queued that no call used.
    pub fn problems(&self) -> Vec<String> {
        self.snapshot(None).0
    }

    /// The problems that arose after `mark` (failures recorded since, and the unused replies
    /// of endpoints that queued any since; all of them without a mark), and the mark of this
    /// moment, read together: what arrives meanwhile is in both or in neither, so it is
    /// reported once, now or later.
    fn snapshot(&self, mark: Option<&Mark>) -> (Vec<String>, Mark) {
        let endpoints = lock(&self.inner.endpoints).clone();
        let failures = lock(&self.inner.failures);
        let mut problems = failures[mark.map_or(0, |m| m.failures)..].to_vec();
        let mut now = Mark {
            failures: failures.len(),
            queued: Vec::with_capacity(endpoints.len()),
        };
        drop(failures);
        for (i, endpoint) in endpoints.iter().enumerate() {
            let (queued, unconsumed) = endpoint.check();
            let before = mark.and_then(|m| m.queued.get(i)).copied().unwrap_or(0);
            if mark.is_none() || queued > before {
                problems.extend(unconsumed);
            }
            now.queued.push(queued);
        }
        (problems, now)
    }

    /// Panics, listing every problem, unless every queued reply was used and every call was
    /// answered. The check on drop then reports only problems this did not: what the test
    /// scripted or called after it.
    #[track_caller]
    pub fn verify(&self) {
        let (problems, mark) = self.snapshot(None);
        *lock(&self.inner.verified) = Some(mark);
        if !problems.is_empty() {
            panic!(
                "the fake was not used as scripted:\n  {}",
                problems.join("\n  ")
            );
        }
    }
}

impl Drop for FakeCore {
    fn drop(&mut self) {
        let last = self.counted
            && self
                .inner
                .handles
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
                == 1;
        if !last || std::thread::panicking() {
            return;
        }
        let mark = lock(&self.inner.verified).take();
        let (problems, _) = self.snapshot(mark.as_ref());
        if !problems.is_empty() {
            panic!(
                "a fake was dropped without being used as scripted:\n  {}",
                problems.join("\n  ")
            );
        }
    }
}

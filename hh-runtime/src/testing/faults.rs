//! Seeded, reproducible failures for a fake's endpoints ([`Faults`]), on a generator of hh's
//! own: a seed's sequence is part of the contract.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// An endpoint's faults and where its generator stands.
pub(super) struct FaultState {
    faults: Faults,
    rng: SplitMix64,
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a seed's sequence is part of [`Faults`]'
/// contract (the same seed fails the same calls, whatever version of a dependency), so the
/// generator is ours, and ten lines.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Seeded, reproducible failures for a fake's endpoint: each call fails with probability
/// `rate`, decided by a generator seeded with `seed`, so a seed fails the same calls on every
/// run, and with every version of hh: the generator (SplitMix64) is hh's own and part of the
/// contract. Never random unless a test asks for it with a random seed. Each call can also be
/// given extra latency (`jitter`), likewise seeded. A failed call uses no scripted reply.
///
/// ```
/// # use hh_runtime::{Error, StatusCode, testing::Faults};
/// let faults = Faults::seeded(7)
///     .failing(0.25, || Error::from_status(StatusCode::SERVICE_UNAVAILABLE, ""))
///     .jitter(std::time::Duration::from_millis(50));
/// # let _ = faults;
/// ```
#[derive(Clone)]
pub struct Faults {
    seed: u64,
    rate: f64,
    error: Option<Arc<dyn Fn() -> Error + Send + Sync>>,
    jitter: Duration,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("seed", &self.seed)
            .field("rate", &self.rate)
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}

impl Faults {
    /// No failures and no jitter yet, decided by a generator seeded with `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            rate: 0.0,
            error: None,
            jitter: Duration::ZERO,
        }
    }

    /// Fails each call with probability `rate` (clamped to 0..=1) with the error `error` makes.
    pub fn failing(mut self, rate: f64, error: impl Fn() -> Error + Send + Sync + 'static) -> Self {
        self.rate = rate.clamp(0.0, 1.0);
        self.error = Some(Arc::new(error));
        self
    }

    /// Adds a delay between zero and `max` to each call, on tokio's clock.
    pub fn jitter(mut self, max: Duration) -> Self {
        self.jitter = max;
        self
    }
}

impl FaultState {
    pub(super) fn new(faults: Faults) -> Self {
        let rng = SplitMix64(faults.seed);
        Self { faults, rng }
    }

    /// The next call's extra delay, and what makes its error if it fails. Jitter is drawn
    /// first, then the failure (the order is part of a seed's contract).
    pub(super) fn next(&mut self) -> (Duration, Option<Arc<dyn Fn() -> Error + Send + Sync>>) {
        let extra = if self.faults.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.faults.jitter.mul_f64(self.rng.next_f64())
        };
        let fails = self.faults.rate > 0.0 && self.rng.next_f64() < self.faults.rate;
        let error = self.faults.error.as_ref().filter(|_| fails).map(Arc::clone);
        (extra, error)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{FaultState, Faults, SplitMix64};
    use crate::{Error, StatusCode};

    /// SplitMix64's published outputs for seed 0: a seed's sequence is part of `Faults`'
    /// contract.
    #[test]
    fn splitmix64_is_the_published_generator() {
        let mut rng = SplitMix64(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    /// What a seed decides, pinned: the jitter then the failure of each call, from seed 7.
    /// A change here changes which calls users' seeded tests fail: it is a breaking change.
    #[test]
    fn a_seed_decides_the_same_calls_in_every_version() {
        let faults = Faults::seeded(7)
            .failing(0.3, || {
                Error::from_status(StatusCode::SERVICE_UNAVAILABLE, "")
            })
            .jitter(Duration::from_millis(50));
        let mut state = FaultState::new(faults);
        let drawn: Vec<(u128, bool)> = (0..12)
            .map(|_| {
                let (extra, error) = state.next();
                (extra.as_micros(), error.is_some())
            })
            .collect();
        assert_eq!(drawn, PINNED);
    }

    /// Microseconds of jitter (of at most 50 ms) and whether the call fails (at a rate of 0.3).
    const PINNED: [(u128, bool); 12] = [
        (19_491, true),
        (45_038, false),
        (22_622, true),
        (23_397, false),
        (6_712, false),
        (5_177, false),
        (45_900, false),
        (43_200, false),
        (43_980, false),
        (30_956, false),
        (33_728, true),
        (17_222, false),
    ];
}

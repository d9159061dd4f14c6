//! Fault injection and request counters.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;

/// A misbehaviour to inject on an endpoint.
///
/// Also accepted as JSON by `POST /_sandbox/faults`, e.g.
/// `{"endpoint": "traversals.respond", "fault": {"kind": "failTimes", "times": 2, "status": 503, "retryAfter": "1"}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Fault {
    /// Answer normally, but only after `ms` milliseconds.
    Latency {
        /// The added delay.
        ms: u64,
    },
    /// Answer every request with this status (and optional `Retry-After` and body).
    Status {
        /// The status to return.
        status: u16,
        /// A `Retry-After` value, in seconds or as an HTTP date.
        #[serde(default, rename = "retryAfter")]
        retry_after: Option<String>,
        /// The body; a ProblemDetails JSON when absent.
        #[serde(default)]
        body: Option<String>,
    },
    /// Fail the next `times` requests with `status`, then answer normally.
    FailTimes {
        /// How many requests fail.
        times: u32,
        /// The status they fail with.
        status: u16,
        /// A `Retry-After` value, in seconds or as an HTTP date.
        #[serde(default, rename = "retryAfter")]
        retry_after: Option<String>,
    },
    /// Send the status line and headers, part of the body, then close the connection.
    DropConnection,
    /// Accept the request and never answer.
    Hang,
    /// The token endpoint answers 200 with a broken body.
    MalformedToken {
        /// Which way it is broken.
        shape: MalformedToken,
    },
}

/// Ways a token response can be broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum MalformedToken {
    /// An HTML error page (as a proxy in front of the identity server would send).
    Html,
    /// An empty body.
    Empty,
    /// Text that is not JSON.
    NotJson,
    /// JSON without `access_token`.
    MissingAccessToken,
    /// 200 with an RFC 6749 `error` member.
    ErrorWith200,
    /// A body larger than 1 MiB.
    Oversized,
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// JSON without `token_type`.
    MissingTokenType,
}

struct Rule {
    endpoint: String,
    fault: Fault,
    remaining: AtomicU32,
}

/// What to do with one request, decided by the faults in force.
pub(crate) enum Decision {
    Delay(Duration),
    Fail {
        status: u16,
        retry_after: Option<String>,
        body: Option<String>,
    },
    Drop,
    Hang,
    Malformed(MalformedToken),
}

#[derive(Default)]
pub(crate) struct Faults {
    any: AtomicBool,
    rules: RwLock<Vec<Rule>>,
}

/// Whether a rule written for `pattern` applies to `endpoint`: exact, `*` for all, `api` for
/// every API endpoint, or a group prefix such as `traversals`.
fn matches(pattern: &str, endpoint: &str) -> bool {
    pattern == "*"
        || pattern == endpoint
        || (pattern == "api" && !matches!(endpoint, "token" | "discovery" | "jwks"))
        || endpoint
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Checks that a fault's endpoint pattern names something the sandbox serves, so a typo is an
/// error instead of a rule that never fires. The error lists every valid name.
pub(crate) fn check_pattern(pattern: &str, served: &[&'static str]) -> Result<(), String> {
    let names = || {
        ENDPOINTS
            .iter()
            .chain(EXTRA.iter())
            .chain(served.iter())
            .copied()
    };
    let is_group =
        |g: &str| names().any(|e| e.split_once('.').is_some_and(|(group, _)| group == g));
    if pattern == "*" || pattern == "api" || names().any(|e| e == pattern) || is_group(pattern) {
        return Ok(());
    }
    let mut groups: Vec<&str> = names()
        .filter_map(|e| e.split_once('.').map(|(g, _)| g))
        .collect();
    groups.dedup();
    Err(format!(
        "unknown endpoint `{pattern}`; use `*`, `api`, a group ({}) or an endpoint ({})",
        groups.join(", "),
        names().collect::<Vec<_>>().join(", ")
    ))
}

impl Faults {
    pub(crate) fn add(&self, endpoint: &str, fault: Fault) {
        let remaining = match &fault {
            Fault::FailTimes { times, .. } => *times,
            _ => u32::MAX,
        };
        let mut rules = self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rules.push(Rule {
            endpoint: endpoint.to_owned(),
            fault,
            remaining: AtomicU32::new(remaining),
        });
        self.any.store(true, Ordering::Release);
    }

    pub(crate) fn clear(&self) {
        let mut rules = self
            .rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rules.clear();
        self.any.store(false, Ordering::Release);
    }

    /// Delays add up; the first failing rule decides the answer.
    pub(crate) fn decide(&self, endpoint: &str) -> Vec<Decision> {
        if !self.any.load(Ordering::Acquire) {
            return Vec::new();
        }
        let rules = self
            .rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::new();
        for rule in rules.iter().filter(|r| matches(&r.endpoint, endpoint)) {
            let decision = match &rule.fault {
                Fault::Latency { ms } => Decision::Delay(Duration::from_millis(*ms)),
                Fault::Status {
                    status,
                    retry_after,
                    body,
                } => Decision::Fail {
                    status: *status,
                    retry_after: retry_after.clone(),
                    body: body.clone(),
                },
                Fault::FailTimes {
                    status,
                    retry_after,
                    ..
                } => {
                    let took = rule
                        .remaining
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                        .is_ok();
                    if !took {
                        continue;
                    }
                    Decision::Fail {
                        status: *status,
                        retry_after: retry_after.clone(),
                        body: None,
                    }
                }
                Fault::DropConnection => Decision::Drop,
                Fault::Hang => Decision::Hang,
                Fault::MalformedToken { shape } => Decision::Malformed(*shape),
            };
            let decisive = !matches!(decision, Decision::Delay(_));
            out.push(decision);
            if decisive {
                break;
            }
        }
        out
    }
}

/// Every endpoint the sandbox serves, by the name faults and counters use.
pub const ENDPOINTS: [&str; 29] = [
    "token",
    "discovery",
    "jwks",
    "traversals.create",
    "traversals.get",
    "traversals.respond",
    "traversals.revisit",
    "traversals.previous",
    "traversals.conclusions",
    "traversals.conclusion-report",
    "traversals.questions",
    "traversals.summary",
    "traversals.history-lines",
    "traversals.track-file",
    "chattraversals.create",
    "chattraversals.get",
    "chattraversals.respond",
    "chattraversals.revisit",
    "chattraversals.conclusions",
    "chattraversals.conclusion-report",
    "chattraversals.questions",
    "chattraversals.summary",
    "chattraversals.history-lines",
    "chattraversals.track-file",
    "members.create",
    "members.get",
    "members.permanent-history",
    "reports.risks",
    "reports.wellness",
];

/// Endpoints beyond the fixed list share the last counter slots.
const EXTRA: [&str; 3] = ["reports.previous", "reports.compare", "algos"];

/// Lock-free request counters, one per endpoint; served fakes' endpoints in a map.
pub(crate) struct Counters {
    per_endpoint: Vec<AtomicU64>,
    served: dashmap::DashMap<String, AtomicU64>,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            per_endpoint: (0..ENDPOINTS.len() + EXTRA.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            served: dashmap::DashMap::new(),
        }
    }
}

impl Counters {
    fn index(endpoint: &str) -> Option<usize> {
        ENDPOINTS
            .iter()
            .chain(EXTRA.iter())
            .position(|e| *e == endpoint)
    }

    /// A request for an endpoint: HealthHero's in its slot, a served fake's in the map.
    pub(crate) fn hit(&self, endpoint: &str) {
        match Self::index(endpoint) {
            Some(i) => self.per_endpoint[i].fetch_add(1, Ordering::Relaxed),
            None => self
                .served
                .entry(endpoint.to_owned())
                .or_default()
                .fetch_add(1, Ordering::Relaxed),
        };
    }

    pub(crate) fn get(&self, endpoint: &str) -> u64 {
        match Self::index(endpoint) {
            Some(i) => self.per_endpoint[i].load(Ordering::Relaxed),
            None => self
                .served
                .get(endpoint)
                .map_or(0, |n| n.load(Ordering::Relaxed)),
        }
    }

    pub(crate) fn api_total(&self) -> u64 {
        ENDPOINTS
            .iter()
            .chain(EXTRA.iter())
            .filter(|e| !matches!(**e, "token" | "discovery" | "jwks"))
            .map(|e| self.get(e))
            .sum::<u64>()
            + self
                .served
                .iter()
                .map(|n| n.load(Ordering::Relaxed))
                .sum::<u64>()
    }

    pub(crate) fn all(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for e in ENDPOINTS.iter().chain(EXTRA.iter()) {
            map.insert((*e).to_owned(), self.get(e).into());
        }
        for n in &self.served {
            map.insert(n.key().clone(), n.load(Ordering::Relaxed).into());
        }
        serde_json::json!({"tokenRequests": self.get("token"), "apiRequests": self.api_total(), "endpoints": map})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*", "token"));
        assert!(matches("api", "members.get"));
        assert!(!matches("api", "token"));
        assert!(matches("traversals", "traversals.respond"));
        assert!(!matches("traversals", "chattraversals.respond"));
        assert!(matches("traversals.respond", "traversals.respond"));
    }

    #[test]
    fn fail_times_then_pass() {
        let f = Faults::default();
        f.add(
            "token",
            Fault::FailTimes {
                times: 2,
                status: 503,
                retry_after: None,
            },
        );
        assert!(matches!(
            f.decide("token")[..],
            [Decision::Fail { status: 503, .. }]
        ));
        assert!(matches!(f.decide("token")[..], [Decision::Fail { .. }]));
        assert!(f.decide("token").is_empty());
        assert!(f.decide("members.get").is_empty());
    }
}

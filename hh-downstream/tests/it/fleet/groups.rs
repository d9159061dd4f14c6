//! The fleet on a Redis Cluster and on a Sentinel-managed primary that fails over (F7f–F7h),
//! through the connections of [`super::stores`]: each case a real cluster or Sentinel group
//! on loopback, started by [`super::redis_groups`].

use redis::Role;

use super::redis_groups::{RedisCluster, SERVICE, SentinelGroup, role};
use super::*;

/// A Redis Cluster of three primaries, through redis-rs's cluster connection given to
/// `RedisStore::with_connection`: a cold fleet makes one token request, and a revocation one
/// more. The entry and its lease are found on one node, on one slot (`CLUSTER KEYSLOT` of the
/// names actually written), and the cluster holds no token or secret.
#[test]
fn f10_redis_cluster() {
    run_on_group(async {
        let sandbox = Sandbox::start().await.unwrap();
        let cluster = RedisCluster::start();
        let spec = Spec::new(&sandbox, None)
            .with("FLEET_REDIS_CLUSTER", cluster.urls())
            .running(4)
            .with("FLEET_LOG", STORE_LOG);
        // The first token request answered after 3 s, so that its lease is there to be found.
        sandbox.inject("token", Fault::Latency { ms: 3000 });
        let fleet = spec.go(PROCESSES);
        let leases = wait_for("the lease in the cluster", || {
            let leases: Vec<(u16, String)> = cluster
                .keys()
                .into_iter()
                .filter(|(_, k)| k.ends_with(":lease"))
                .collect();
            (!leases.is_empty()).then_some(leases)
        })
        .await;
        assert_eq!(leases.len(), 1, "{leases:?}");
        let (lease_node, lease) = leases[0].clone();
        sandbox.clear_faults();
        every_log_has(&fleet, CONSULTED, 1).await;
        let (entry_node, entry, first) =
            wait_for("the entry published, the lease released", || {
                published(&cluster.keys(), |port, key| cluster.get(port, key), None)
            })
            .await;
        assert_eq!(sandbox.token_requests(), 1, "a cold fleet on a cluster");
        assert_eq!(lease, format!("{entry}:lease"));
        assert_eq!(
            entry_node, lease_node,
            "the entry and its lease on one node"
        );
        let slot = cluster.keyslot(&entry);
        assert_eq!(
            cluster.keyslot(&lease),
            slot,
            "the entry and its lease on one slot"
        );
        // Nothing else anywhere: the one entry, on the node that serves its slot.
        assert_eq!(cluster.keys(), [(entry_node, entry.clone())]);
        let others = cluster.nodes.len() - 1;

        sandbox.revoke_all_tokens();
        every_log_has(&fleet, CONSULTED, 2).await;
        let (node, _, _) = wait_for("a new entry published, the lease released", || {
            published(
                &cluster.keys(),
                |port, key| cluster.get(port, key),
                Some(&first),
            )
        })
        .await;
        assert_eq!(node, entry_node);
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        assert_eq!(
            sandbox.token_requests(),
            2,
            "one token before, one after the revocation"
        );
        for log in &t.stderr {
            assert!(!log.contains(WARNED), "{log}");
        }
        let keys = assert_no_secret_in(&sandbox, cluster.dump());
        assert_no_secret_in_logs(&sandbox, &t);
        format!(
            "3-primary cluster, {PROCESSES} processes ({} calls, 0 failed): 1 token request cold, 1 for a revocation; the entry and its lease on slot {slot}, both on node :{entry_node} (none on the {others} others); {keys} key(s) in the cluster, no token, token part or secret",
            t.ok
        )
    });
}

/// A Sentinel fails the primary over (`SENTINEL FAILOVER`) while the fleet calls, and then
/// makes the old primary a replica of the new one; the tokens are revoked after that. No call
/// fails, no process finds the store failing, and the revocation costs the fleet one token,
/// shared through the new primary.
#[test]
fn f11_sentinel_failover() {
    run_on_group(async {
        let sandbox = Sandbox::start().await.unwrap();
        let group = SentinelGroup::start();
        let (old, new) = (group.servers[0].port(), group.servers[1].port());
        let spec = Spec::new(&sandbox, None)
            .with("FLEET_REDIS_SENTINEL", group.sentinel_url())
            .with("FLEET_REDIS_SERVICE", SERVICE)
            .running(4)
            .with("FLEET_LOG", STORE_LOG);
        let fleet = spec.go(PROCESSES);
        every_log_has(&fleet, CONSULTED, 1).await;
        // Published, released, and copied to the replica.
        let (_, _, first) = wait_for("the entry on the replica", || {
            published_on(&group.servers[1], None)
        })
        .await;
        assert_eq!(sandbox.token_requests(), 1);

        group.failover();
        let asked = Instant::now();
        wait_for_within("the Sentinel names the replica", FAILOVER, || {
            (group.primary_port() == Some(new)).then_some(())
        })
        .await;
        let switched = asked.elapsed();
        // Until then the old primary still takes writes from whoever is connected to it (see
        // `stores::SentinelPrimary`); the Sentinel demotes it, closing their connections.
        wait_for_within("the old primary a replica of the new", FAILOVER, || {
            replica_of(old, new).then_some(())
        })
        .await;
        let demoted = asked.elapsed();

        sandbox.revoke_all_tokens();
        every_log_has(&fleet, CONSULTED, 2).await;
        wait_for("a new entry on the new primary", || {
            published_on(&group.servers[1], Some(&first))
        })
        .await;
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        assert_eq!(
            sandbox.token_requests(),
            2,
            "one token before the failover, one for the revocation after it\n{}",
            group.log()
        );
        for log in &t.stderr {
            assert!(!log.contains(WARNED), "the failover reached hh:\n{log}");
        }
        assert_no_secret_in(&sandbox, group.servers[1].dump());
        assert_no_secret_in_logs(&sandbox, &t);
        format!(
            "SENTINEL FAILOVER while {PROCESSES} processes called ({} calls, 0 failed, slowest {:?}): the replica named primary {switched:.1?} after the request, the old primary a replica {demoted:.1?} after it; the revocation then: 1 token request for the fleet, shared through the new primary; no process saw the store fail",
            t.ok,
            t.quantile(1.0)
        )
    });
}

/// The primary is killed (SIGKILL) while the fleet calls, and the Sentinel promotes the
/// replica; the tokens are revoked once it has: one token for the fleet, no process finds the
/// store failing. Then the old primary, restarted as a replica, is promoted in turn when the
/// new one is killed, this time with the tokens revoked at the same moment, so that the fleet
/// needs the store while there is no primary: each process that found no primary fetched its
/// own token (at most one request per process) and rejoins once the Sentinel names the next
/// one. That leaves the fleet diverged: each process holds a token of its own, and the new
/// primary still holds the entry of the token revoked at that second revocation (copied to it
/// while it was a replica; no process could remove it while there was no primary). Revoked a
/// third time, a process is rejected, adopts that entry (revoked too, which it cannot know),
/// is rejected again, and replays once more with a token it fetches: one token request for
/// the fleet, as for any revocation with the store up. No call fails in any of it.
#[test]
fn f12_sentinel_primary_killed() {
    run_on_group(async {
        let sandbox = Sandbox::start().await.unwrap();
        let mut group = SentinelGroup::start();
        let (a, b) = (group.servers[0].port(), group.servers[1].port());
        let spec = Spec::new(&sandbox, None)
            .with("FLEET_REDIS_SENTINEL", group.sentinel_url())
            .with("FLEET_REDIS_SERVICE", SERVICE)
            .running(4)
            .with("FLEET_LOG", STORE_LOG);
        let fleet = spec.go(PROCESSES);
        every_log_has(&fleet, CONSULTED, 1).await;
        let (_, _, first) = wait_for("the entry on the replica", || {
            published_on(&group.servers[1], None)
        })
        .await;
        assert_eq!(sandbox.token_requests(), 1);

        // 1. The primary killed; the tokens revoked once the Sentinel has promoted the replica.
        let (first_failover, second) =
            kill_the_primary_then_revoke(&sandbox, &mut group, &fleet, (a, b), &first).await;

        // 2. The old primary back as a replica of the new one; then the new one killed and the
        // tokens revoked at once.
        let (second_failover, alone, during) =
            kill_the_new_primary_revoking_at_once(&sandbox, &mut group, &fleet, (a, b)).await;

        // 3. The fleet back on the store, diverged; the tokens revoked a third time (where,
        // before the fix, 16 calls failed with a 401 after their one replay).
        let (t, marks, held_revoked, third) =
            revoke_a_third_time(&sandbox, &group, fleet, &second).await;
        let rejected_twice =
            assert_one_token_for_the_diverged_fleet(&sandbox, &t, &marks, third, held_revoked);
        format!(
            "primary killed while {PROCESSES} processes called: the replica named primary {first_failover:.1?} later, and the revocation then cost 1 token request, no process saw the store fail; the new primary killed with the tokens revoked at once ({second_failover:.1?} to the next primary): {during} token requests, {alone} processes alone until it, each back with the store after; the tokens revoked a third time with the fleet back on the store (the primary still holding the entry revoked at the second: {held_revoked}): {third} token request, {rejected_twice} processes adopted that entry, were rejected with it and replayed a second time; {} calls, 0 failed, slowest {:?}",
            t.ok,
            t.quantile(1.0)
        )
    });
}

/// F12's phase 1: the primary `a` killed, and the tokens revoked once the Sentinel names `b`.
/// How long the Sentinel took, and the entry then published on `b`.
async fn kill_the_primary_then_revoke(
    sandbox: &Sandbox,
    group: &mut SentinelGroup,
    fleet: &[Proc],
    (a, b): (u16, u16),
    first: &[u8],
) -> (Duration, Vec<u8>) {
    group.server(a).kill();
    let killed = Instant::now();
    wait_for_within("the Sentinel names the replica", FAILOVER, || {
        (group.primary_port() == Some(b)).then_some(())
    })
    .await;
    let first_failover = killed.elapsed();
    sandbox.revoke_all_tokens();
    every_log_has(fleet, CONSULTED, 2).await;
    let (_, _, second) = wait_for("a new entry on the new primary", || {
        published_on(&group.servers[1], Some(first))
    })
    .await;
    assert_eq!(
        sandbox.token_requests(),
        2,
        "one token for the revocation after the failover\n{}",
        group.log()
    );
    for p in fleet {
        assert!(
            !p.log().contains(WARNED),
            "the failover reached hh:\n{}",
            p.log()
        );
    }
    (first_failover, second)
}

/// F12's phase 2: `a` restarted as a replica of `b`, then `b` killed with the tokens revoked
/// at once. How long the Sentinel took to name `a` again, how many processes found no
/// primary, and the token requests the revocation cost.
async fn kill_the_new_primary_revoking_at_once(
    sandbox: &Sandbox,
    group: &mut SentinelGroup,
    fleet: &[Proc],
    (a, b): (u16, u16),
) -> (Duration, usize, u64) {
    group.restart_as_replica(a, b);
    wait_for_within(
        "the Sentinel sees the old primary as a linked replica",
        FAILOVER,
        || group.knows_linked_replica(a).then_some(()),
    )
    .await;
    let before = sandbox.token_requests();
    group.server(b).kill();
    sandbox.revoke_all_tokens();
    let killed = Instant::now();
    wait_for_within("the Sentinel names the old primary again", FAILOVER, || {
        (group.primary_port() == Some(a)).then_some(())
    })
    .await;
    let second_failover = killed.elapsed();
    every_log_has(fleet, CONSULTED, 3).await;
    wait_until(
        "every process that found no primary is back with the store",
        || {
            fleet.iter().all(|p| {
                let log = p.log();
                log.matches(WARNED).count() == log.matches(REJOINED).count()
            })
        },
    )
    .await;
    every_token_request_answered(fleet, sandbox).await;
    let alone = fleet.iter().filter(|p| p.log().contains(WARNED)).count();
    let during = sandbox.token_requests() - before;
    assert!(
        (1..=PROCESSES as u64).contains(&during),
        "{during} token requests for a revocation during the failover"
    );
    (second_failover, alone, during)
}

/// F12's phase 3: the tokens revoked a third time, and the fleet run to its end. Its totals,
/// where each process's log stood at the revocation, whether the primary still held the entry
/// revoked at the second revocation (`second`), and the token requests this one cost.
async fn revoke_a_third_time(
    sandbox: &Sandbox,
    group: &SentinelGroup,
    fleet: Vec<Proc>,
    second: &[u8],
) -> (Totals, Vec<usize>, bool, u64) {
    let marks: Vec<usize> = fleet.iter().map(|p| p.log().len()).collect();
    let stale = published_on(&group.servers[0], None).map(|(_, _, entry)| entry);
    let held_revoked = stale.as_deref() == Some(second);
    let before = sandbox.token_requests();
    sandbox.revoke_all_tokens();
    token_requests_reach(sandbox, before + 1).await;
    wait_until("every process fetched after the third revocation", || {
        fleet
            .iter()
            .zip(&marks)
            .all(|(p, &mark)| p.log()[mark..].contains(CONSULTED))
    })
    .await;
    wait_for("a new entry on the primary", || {
        published_on(&group.servers[0], stale.as_deref())
    })
    .await;
    let t = Totals::of(fleet).await;
    let third = sandbox.token_requests() - before;
    (t, marks, held_revoked, third)
}

/// F12's phase 3 checked: no call failed, one warning per outage and none after the fleet was
/// back, one token request for the third revocation, the revoked entry adopted if the primary
/// held it. How many processes were rejected twice (adopted that entry).
fn assert_one_token_for_the_diverged_fleet(
    sandbox: &Sandbox,
    t: &Totals,
    marks: &[usize],
    third: u64,
    held_revoked: bool,
) -> usize {
    // What each process logged from the third revocation on.
    let since: Vec<&str> = t
        .stderr
        .iter()
        .zip(marks)
        .map(|(log, &mark)| &log[mark..])
        .collect();
    // A process that adopted the revoked entry dropped two tokens: its own, then that one.
    let rejected_twice = since
        .iter()
        .filter(|log| log.matches(DROPPED).count() >= 2)
        .count();

    assert_eq!(t.failed, 0, "{:?}", t.errors);
    for log in &t.stderr {
        assert!(
            log.matches(WARNED).count() <= 1,
            "one warning per outage:\n{log}"
        );
    }
    // With every process answered by the store, the lease makes one fetch for the fleet,
    // as for phase 1's revocation: the revoked entry is adopted, never fetched for, and a
    // call's second replay waits for the lease holder's token like any other fetch.
    for log in &since {
        assert!(
            !log.contains(WARNED),
            "the store failed after the fleet was back:\n{log}"
        );
    }
    assert_eq!(
        third,
        1,
        "token requests for the revocation after the fleet diverged\n{}",
        since.join("\n")
    );
    if held_revoked {
        // Only a process rejected with that entry's token removes it (no process's own
        // token, rejected first, was ever published), so the first to read it adopts it.
        assert!(
            rejected_twice >= 1,
            "no process adopted the revoked entry\n{}",
            since.join("\n")
        );
    }
    assert_eq!(sandbox.unissued_tokens(), 0);
    assert_no_secret_in_logs(sandbox, t);
    rejected_twice
}

/// How long a Sentinel may take over a failover: its own detection (2 s) and promotion, and
/// the old primary's demotion (about 10 s), or on a machine too slow for its timer a 30 s
/// pause ("tilt") before it acts at all.
const FAILOVER: Duration = Duration::from_secs(120);

/// Whether the server on `port` is a replica of the one on `primary`, with its link up.
fn replica_of(port: u16, primary: u16) -> bool {
    matches!(
        role(port),
        Some(Role::Replica { primary_port, replication_state, .. })
            if primary_port == primary && replication_state == "connected"
    )
}

/// An entry (not `previous`) among `keys` (with their nodes' ports), with its lease released:
/// its node, name and value.
fn published(
    keys: &[(u16, String)],
    get: impl Fn(u16, &str) -> Option<Vec<u8>>,
    previous: Option<&[u8]>,
) -> Option<(u16, String, Vec<u8>)> {
    if keys.iter().any(|(_, k)| k.ends_with(":lease")) {
        return None;
    }
    let (node, entry) = keys.iter().find(|(_, k)| k.starts_with("hh:token:"))?;
    let value = get(*node, entry)?;
    (Some(value.as_slice()) != previous).then(|| (*node, entry.clone(), value))
}

/// [`published`] on one server.
fn published_on(server: &RedisServer, previous: Option<&[u8]>) -> Option<(u16, String, Vec<u8>)> {
    let dump = server.dump();
    let keys: Vec<(u16, String)> = dump
        .iter()
        .map(|(k, _)| (server.port(), k.clone()))
        .collect();
    published(
        &keys,
        |_, key| dump.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
        previous,
    )
}

/// [`run`], for a case on a Cluster or under a Sentinel, which also needs `redis-sentinel` and
/// `redis-cli`.
fn run_on_group(case: impl Future<Output = String> + Send + 'static) {
    run_with(
        redis_server::available() && redis_groups::available(),
        "redis-server, redis-sentinel, redis-cli and openssl",
        case,
    );
}

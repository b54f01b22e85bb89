//! Execution leases ([`Leases`]): exclusive until released or expired, fencing their old
//! holder once taken over, renewed in one call, gone with the task's end. Each case is
//! skipped (said on stderr) by a store without leases.

use std::sync::Arc;
use std::time::{Duration, Instant};

use harbor_a2a::{StreamResponse, Task, TaskState};
use harbor_distributed::store::project;
use harbor_distributed::{Error, Fence, Leases, Owner, TaskLog};

use super::fixtures::{base_time, owner, task_at, unique};
use super::log::{snapshot, status};

/// Long enough never to expire during a case.
const LONG: Duration = Duration::from_secs(600);

/// How long a case waits for a short lease to expire.
const DEADLINE: Duration = Duration::from_secs(10);

fn leases(store: &dyn TaskLog) -> Option<&dyn Leases> {
    let leases = store.leases();
    if leases.is_none() {
        eprintln!("skipped: this store has no execution leases (one process owns it)");
    }
    leases
}

fn fence(holder: &str, epoch: u64) -> Fence {
    Fence {
        holder: holder.into(),
        epoch,
    }
}

/// Creates a WORKING task under `holder`'s first lease, for `ttl`.
async fn create_leased(
    leases: &dyn Leases,
    who: &Owner,
    holder: &str,
    ttl: Duration,
) -> (Task, u64) {
    let task = task_at(&unique("leased"), "ctx", TaskState::Working, base_time());
    let version = leases
        .append_fenced(who, &task, 0, &[snapshot(&task)], &fence(holder, 1), ttl)
        .await
        .expect("create under a lease");
    (task, version)
}

/// Whether `id` is among the store's expired leases.
async fn is_expired(leases: &dyn Leases, id: &str) -> bool {
    let mut after = String::new();
    loop {
        let page = leases.expired(&after, 100).await.expect("expired");
        if page.iter().any(|(_, t)| t == id) {
            return true;
        }
        match page.last() {
            Some((_, last)) => after.clone_from(last),
            None => return false,
        }
    }
}

/// Waits (with a deadline) until the lease of `id` has expired.
async fn until_expired(leases: &dyn Leases, id: &str) {
    let started = Instant::now();
    while !is_expired(leases, id).await {
        assert!(
            started.elapsed() < DEADLINE,
            "the lease of {id} did not expire within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `event` appended under `fence`.
async fn append_under(
    leases: &dyn Leases,
    who: &Owner,
    task: &Task,
    version: u64,
    event: StreamResponse,
    fence: &Fence,
) -> Result<(Task, u64), Error> {
    let mut next = task.clone();
    project(&mut next, &event);
    let version = leases
        .append_fenced(who, &next, version, &[event], fence, LONG)
        .await?;
    Ok((next, version))
}

/// A live lease is its holder's alone: another holder gets `None` until it is released,
/// then the lease at the next epoch; its holder may take it again, at a new epoch too.
/// Another owner's task is not found.
pub async fn leases_are_exclusive_while_alive(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let (task, _) = create_leased(leases, &me, "a", LONG).await;
    let taken = leases.acquire(&me, &task.id, "b", LONG).await;
    assert_eq!(taken.expect("acquire"), None, "a's live lease is not b's");
    let again = leases
        .acquire(&me, &task.id, "a", LONG)
        .await
        .expect("acquire");
    assert_eq!(again, Some(fence("a", 2)), "a takes its own lease again");
    assert!(
        !is_expired(leases, &task.id).await,
        "a live lease is not expired"
    );
    leases
        .release(&task.id, &fence("a", 1))
        .await
        .expect("release");
    let held = leases
        .acquire(&me, &task.id, "b", LONG)
        .await
        .expect("acquire");
    assert_eq!(held, None, "a stale fence releases nothing");
    leases
        .release(&task.id, &fence("a", 2))
        .await
        .expect("release");
    let held = leases
        .acquire(&me, &task.id, "b", LONG)
        .await
        .expect("acquire");
    assert_eq!(held, Some(fence("b", 3)), "a released lease is anyone's");
    let other = leases.acquire(&owner("u2"), &task.id, "c", LONG).await;
    assert!(
        matches!(other, Err(Error::TaskNotFound { .. })),
        "another owner's task: {other:?}"
    );
}

/// Once another holder took an expired lease over, every write of the old holder is
/// refused with `LeaseLost` and leaves nothing; the new holder writes.
pub async fn a_taken_over_lease_fences_its_old_holder(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let (task, version) = create_leased(leases, &me, "a", Duration::from_millis(1)).await;
    until_expired(leases, &task.id).await;
    let b = leases
        .acquire(&me, &task.id, "b", LONG)
        .await
        .expect("acquire")
        .expect("an expired lease is anyone's");
    assert_eq!(b, fence("b", 2));
    let stale = append_under(
        leases,
        &me,
        &task,
        version,
        status(&task, TaskState::Completed, "from a"),
        &fence("a", 1),
    )
    .await;
    assert!(
        matches!(stale, Err(Error::LeaseLost { .. })),
        "the old holder's write: {stale:?}"
    );
    let stored = store.get(&me, &task.id).await.expect("get");
    assert_eq!(stored.version, version, "the refused write left nothing");
    let log = store.read_log(&me, &task.id, 0, 100).await.expect("read");
    assert_eq!(log.len(), 1, "the refused write left no log entry");
    let (_, written) = append_under(
        leases,
        &me,
        &task,
        version,
        status(&task, TaskState::Failed, "from b"),
        &b,
    )
    .await
    .expect("the new holder writes");
    assert_eq!(written, version + 1);
}

/// `renew` extends every lease of its holder at once, so an expired one is live again
/// (until someone else took it); it touches no other holder's.
pub async fn renew_extends_every_lease_of_a_holder(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let holder = unique("renewer");
    let short = Duration::from_millis(1);
    let (one, _) = create_leased(leases, &me, &holder, short).await;
    let (two, _) = create_leased(leases, &me, &holder, short).await;
    let (other, _) = create_leased(leases, &me, "someone-else", short).await;
    until_expired(leases, &two.id).await;
    let renewed = leases.renew(&holder, LONG).await.expect("renew");
    assert_eq!(renewed, 2, "both of the holder's leases");
    for id in [&one.id, &two.id] {
        assert!(!is_expired(leases, id).await, "{id} was renewed");
        let taken = leases.acquire(&me, id, "b", LONG).await.expect("acquire");
        assert_eq!(taken, None, "a renewed lease is its holder's");
    }
    until_expired(leases, &other.id).await;
}

/// A finished task holds no lease and is never expired; a task created without a lease
/// while active is (nothing runs it).
pub async fn finished_tasks_hold_no_lease(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let holder = unique("finisher");
    let (task, version) = create_leased(leases, &me, &holder, LONG).await;
    append_under(
        leases,
        &me,
        &task,
        version,
        status(&task, TaskState::Completed, "done"),
        &fence(&holder, 1),
    )
    .await
    .expect("finish");
    assert_eq!(
        leases.renew(&holder, LONG).await.expect("renew"),
        0,
        "the finished task's lease is gone"
    );
    assert!(!is_expired(leases, &task.id).await, "a finished task");
    let unleased = task_at(
        &unique("unleased"),
        "ctx",
        TaskState::Submitted,
        base_time(),
    );
    store
        .append(&me, &unleased, 0, &[snapshot(&unleased)])
        .await
        .expect("create");
    assert!(
        is_expired(leases, &unleased.id).await,
        "an active task nobody leased"
    );
    let fresh = task_at(&unique("t"), "ctx", TaskState::Working, base_time());
    let wrong = leases
        .append_fenced(
            &me,
            &fresh,
            0,
            &[snapshot(&fresh)],
            &fence(&holder, 2),
            LONG,
        )
        .await;
    assert!(
        matches!(wrong, Err(Error::InvalidArgument(_))),
        "a task is created under epoch 1: {wrong:?}"
    );
}

/// Whether `holder` claims the push config `config` of `task` now (it claims whatever
/// else is claimable too).
async fn claims(leases: &dyn Leases, holder: &str, task: &str, config: &str) -> bool {
    let claimed = leases
        .claim_pushes(holder, LONG, 1000)
        .await
        .expect("claim");
    claimed
        .iter()
        .any(|c| c.task_id == task && c.config_id == config)
}

/// A push config held by a live process is not claimed; once its hold expired another
/// process claims it (with its cursor) and no third one then; a config never held is never
/// claimed; a hold ends when the cursor is saved with nothing left to deliver.
pub async fn push_holds_pass_on_once_they_expire(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let task = task_at(&unique("pushed"), "ctx", TaskState::Working, base_time());
    store
        .append(&me, &task, 0, &[snapshot(&task)])
        .await
        .expect("create");
    let (a, b, c) = (unique("a"), unique("b"), unique("c"));
    for config in ["held", "never-held"] {
        store
            .track(&me, &super::fixtures::push_config(&task.id, config), 1)
            .await
            .expect("track");
    }
    leases
        .hold_push(&task.id, "held", &a, LONG)
        .await
        .expect("hold");
    assert!(
        !claims(leases, &b, &task.id, "held").await,
        "a live hold is its holder's"
    );
    leases
        .hold_push(&task.id, "held", &a, Duration::from_millis(1))
        .await
        .expect("hold");
    let started = Instant::now();
    while !claims(leases, &b, &task.id, "held").await {
        assert!(
            started.elapsed() < DEADLINE,
            "an expired push hold was not claimed within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !claims(leases, &c, &task.id, "held").await,
        "a claimed hold is the claimer's"
    );
    assert!(
        !claims(leases, &c, &task.id, "never-held").await,
        "a config nobody held is nobody's to claim"
    );
    assert_eq!(leases.renew(&b, LONG).await.expect("renew"), 1);
    let mut cursor = store
        .cursor(&me, &task.id, "held")
        .await
        .expect("cursor")
        .expect("tracked");
    cursor.dead = Some("gave up".into());
    store.save(&cursor).await.expect("save");
    assert_eq!(
        leases.renew(&b, LONG).await.expect("renew"),
        0,
        "a dead cursor holds nothing"
    );
}

/// A lease is handed over only from its exact fence, alive or expired, to the next epoch;
/// the old fence can neither write nor hand it over again; a lease someone else took, or
/// a finished task's, is handed over by nobody. Another owner's task is not found.
pub async fn a_lease_is_handed_over_only_from_its_exact_fence(store: Arc<dyn TaskLog>) {
    let Some(leases) = leases(store.as_ref()) else {
        return;
    };
    let me = owner("u1");
    let (task, version) = create_leased(leases, &me, "door", LONG).await;
    for wrong in [fence("door", 2), fence("other", 1)] {
        let handed = leases
            .hand_over(&me, &task.id, &wrong, "worker", LONG)
            .await;
        assert_eq!(handed.expect("hand over"), None, "from {wrong:?}");
    }
    let other = leases
        .hand_over(&owner("u2"), &task.id, &fence("door", 1), "worker", LONG)
        .await;
    assert!(
        matches!(other, Err(Error::TaskNotFound { .. })),
        "another owner's task: {other:?}"
    );
    let worker = leases
        .hand_over(&me, &task.id, &fence("door", 1), "worker", LONG)
        .await
        .expect("hand over")
        .expect("the exact fence hands the lease over");
    assert_eq!(worker, fence("worker", 2));
    assert_eq!(
        leases
            .hand_over(&me, &task.id, &fence("door", 1), "thief", LONG)
            .await
            .expect("hand over"),
        None,
        "a fence hands its lease over once"
    );
    let stale = append_under(
        leases,
        &me,
        &task,
        version,
        status(&task, TaskState::Completed, "from the door"),
        &fence("door", 1),
    )
    .await;
    assert!(
        matches!(stale, Err(Error::LeaseLost { .. })),
        "the old holder's write: {stale:?}"
    );
    let taken = leases.acquire(&me, &task.id, "b", LONG).await;
    assert_eq!(taken.expect("acquire"), None, "the handed lease is alive");
    append_under(
        leases,
        &me,
        &task,
        version,
        status(&task, TaskState::Completed, "from the worker"),
        &worker,
    )
    .await
    .expect("the new holder writes");
    let finished = leases
        .hand_over(&me, &task.id, &worker, "next", LONG)
        .await
        .expect("hand over");
    assert_eq!(
        finished, None,
        "a finished task holds no lease to hand over"
    );

    // An expired lease nobody took is still its holder's to hand over.
    let (late, _) = create_leased(leases, &me, "door", Duration::from_millis(1)).await;
    until_expired(leases, &late.id).await;
    let handed = leases
        .hand_over(&me, &late.id, &fence("door", 1), "worker", LONG)
        .await
        .expect("hand over");
    assert_eq!(
        handed,
        Some(fence("worker", 2)),
        "an expired, untaken lease"
    );
    assert!(
        !is_expired(leases, &late.id).await,
        "live again, the worker's"
    );
}

//! A stored task that no longer decodes (an older version's record, a bug, damage) is
//! reported for that task alone: GetTask of it is [`Error::Unreadable`] naming it, and a
//! list skips it and serves every other task.

use std::time::{Duration, SystemTime};

use harbor_a2a::pbjson_types::Timestamp;
use harbor_a2a::{Part, Role, Task, TaskState, TaskStatus, TimestampExt};
use harbor_distributed::{Error, Owner, TaskQuery};
use redb::Database;

use super::tables::{Encoded, Tables};
use super::{list, tasks};

fn owner() -> Owner {
    Owner {
        tenant: "t".into(),
        user: "u".into(),
    }
}

fn task(id: &str, secs: u64) -> Task {
    Task {
        id: id.into(),
        context_id: "ctx".into(),
        status: Some(TaskStatus {
            state: TaskState::Completed as i32,
            message: None,
            timestamp: Some(Timestamp::from_system_time(
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            )),
        }),
        ..Task::default()
    }
}

/// A task whose data part nests `depth` lists: past prost's limit at 50.
fn deep_task(id: &str, secs: u64, depth: usize) -> Task {
    let data = (0..depth).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]));
    let mut task = task(id, secs);
    task.history.push(harbor_a2a::Message {
        message_id: "m".into(),
        role: Role::User as i32,
        parts: vec![Part::data(data)],
        ..harbor_a2a::Message::default()
    });
    task
}

/// Writes rows directly, past `check_task`, as an older version might have.
fn put_raw(db: &Database, tasks_to_put: &[Task]) {
    let txn = tasks::begin_write(db).expect("begin");
    {
        let mut tables = Tables::open(&txn).expect("tables");
        for task in tasks_to_put {
            let encoded = Encoded::of(task);
            let meta = encoded.meta(&owner(), 1, 1);
            tables.put(&meta, &encoded).expect("put");
            tables.add_count("t", "u", 1).expect("count");
        }
    }
    txn.commit().expect("commit");
}

#[test]
fn an_undecodable_task_fails_only_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::create(dir.path().join("store.redb")).expect("create");
    put_raw(
        &db,
        &[
            task("before", 1),
            deep_task("poison", 2, 120),
            task("after", 3),
        ],
    );
    assert!(
        harbor_distributed::store::check_task(&deep_task("x", 0, 120)).is_err(),
        "the store's own check refuses such a task"
    );

    match tasks::get(&db, &owner(), "poison") {
        Err(Error::Unreadable { task_id, reason }) => {
            assert_eq!(task_id, "poison");
            assert!(reason.contains("recursion"), "{reason}");
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }
    let a2a = Error::Unreadable {
        task_id: "poison".into(),
        reason: "r".into(),
    }
    .to_a2a();
    assert_eq!(a2a.message(), "task poison is stored but cannot be read: r");
    assert!(tasks::get(&db, &owner(), "after").is_ok());

    // Every page around it is served; the poisoned row is skipped, its neighbours kept.
    let page = list::list(
        &db,
        &owner(),
        &TaskQuery {
            page_size: 10,
            ..TaskQuery::default()
        },
    )
    .expect("the list is served");
    let ids: Vec<&str> = page.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["after", "before"]);

    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let page = list::list(
            &db,
            &owner(),
            &TaskQuery {
                page_size: 1,
                page_token: token,
                ..TaskQuery::default()
            },
        )
        .expect("each page is served");
        seen.extend(page.tasks.into_iter().map(|t| t.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["after", "before"]);
}

#[test]
fn a_byte_budget_ends_the_page_early_with_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::create(dir.path().join("store.redb")).expect("create");
    let big = |id: &str, secs| {
        let mut t = task(id, secs);
        t.history.push(harbor_a2a::Message {
            message_id: "m".into(),
            role: Role::User as i32,
            parts: vec![Part::text("x".repeat(10_000))],
            ..harbor_a2a::Message::default()
        });
        t
    };
    put_raw(&db, &[big("a", 1), big("b", 2), big("c", 3)]);
    let query = |token: String| TaskQuery {
        page_size: 10,
        page_token: token,
        max_bytes: Some(15_000),
        ..TaskQuery::default()
    };
    let mut token = String::new();
    let mut pages = Vec::new();
    loop {
        let page = list::list(&db, &owner(), &query(token)).expect("page");
        assert_eq!(page.total_size, 3);
        pages.push(page.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>());
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, [["c"], ["b"], ["a"]]);
}

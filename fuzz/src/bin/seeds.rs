//! Writes the binary seeds of the `frame` and `store_record` corpora (run from `fuzz/`:
//! `cargo run --bin seeds`); the text seeds are written by hand.

use std::path::Path;

use harbor_a2a::{Message, Part, Role, Task, TaskState, TaskStatus};
use harbor_distributed::{Envelope, Identity, frame};
use prost::Message as _;

fn write(dir: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = Path::new("corpus").join(dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let identity = Identity::new("tenant", "user", "session")?;
    let plain = Envelope::new(
        "planner.next",
        identity.clone(),
        "01J0000000000000000000000",
        "hi",
    );
    let mut full = Envelope::new(
        "a.b",
        identity,
        "01J0000000000000000000001",
        vec![0u8, 1, 2, 255],
    )
    .with_task("task-1");
    full.source = "src".into();
    full.target = "dst".into();
    full.headers
        .insert("traceparent".into(), "00-abc-def-01".into());
    full.meta.insert("k".into(), "v".into());
    write("frame", "plain", &frame::encode(&plain))?;
    write("frame", "full", &frame::encode(&full))?;
    write(
        "store_record",
        "bus_record",
        &harbor_embedded::fuzzing::encode_bus_record(&full, 42),
    )?;

    let task = Task {
        id: "t1".into(),
        context_id: "c1".into(),
        status: Some(TaskStatus {
            state: TaskState::Completed as i32,
            ..TaskStatus::default()
        }),
        history: vec![Message {
            message_id: "m".into(),
            role: Role::User as i32,
            parts: vec![
                Part::text("hi"),
                Part::data(serde_json::json!({"a": [1, 2.5, null, {"b": "c"}]})),
            ],
            ..Message::default()
        }],
        ..Task::default()
    };
    write("store_record", "task_row", &task.encode_to_vec())?;
    write(
        "store_record",
        "task_json",
        harbor_a2a::to_json_string(&task)?.as_bytes(),
    )?;
    Ok(())
}

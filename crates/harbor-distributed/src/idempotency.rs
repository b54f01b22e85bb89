//! Consumer-side deduplication on `(task_id, edge, event_id)`.

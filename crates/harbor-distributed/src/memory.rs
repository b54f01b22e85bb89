//! The `memory` bus: at-least-once delivery inside one process.

//! ProtoJSON of `TaskStatus`: its timestamp must be written in UTC with a `Z` suffix, and its
//! REQUIRED `state` is always written.

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{FieldReader, JsonFields, TaskStateJson, deserialize_message};
use super::timestamp::{TimestampIn, TimestampJson};
use crate::{TaskState, TaskStatus};

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("state", &TaskStateJson(self.state))?;
        if let Some(message) = &self.message {
            map.serialize_entry("message", message)?;
        }
        if let Some(ts) = &self.timestamp {
            map.serialize_entry("timestamp", &TimestampJson(ts))?;
        }
        map.end()
    }
}

impl JsonFields for TaskStatus {
    const NAME: &'static str = "TaskStatus";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "state" => {
                self.state = fields.value::<TaskState>("state")?.map_or(0, |s| s as i32);
            }
            "message" => self.message = fields.value("message")?,
            "timestamp" => {
                self.timestamp = fields.value::<TimestampIn>("timestamp")?.map(|t| t.0);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

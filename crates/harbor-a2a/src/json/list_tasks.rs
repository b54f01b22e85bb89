//! ProtoJSON of `ListTasksRequest` (its timestamp needs the `Z` form) and `ListTasksResponse`
//! (all four fields are REQUIRED, so they are written even at their default: `tasks: []`,
//! `nextPageToken: ""`).

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{FieldReader, Int32, JsonFields, TaskStateJson, deserialize_message};
use super::timestamp::{TimestampIn, TimestampJson};
use crate::{ListTasksRequest, ListTasksResponse, TaskState};

impl Serialize for ListTasksRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.tenant.is_empty() {
            map.serialize_entry("tenant", &self.tenant)?;
        }
        if !self.context_id.is_empty() {
            map.serialize_entry("contextId", &self.context_id)?;
        }
        if self.status != 0 {
            map.serialize_entry("status", &TaskStateJson(self.status))?;
        }
        if let Some(v) = self.page_size {
            map.serialize_entry("pageSize", &v)?;
        }
        if !self.page_token.is_empty() {
            map.serialize_entry("pageToken", &self.page_token)?;
        }
        if let Some(v) = self.history_length {
            map.serialize_entry("historyLength", &v)?;
        }
        if let Some(v) = &self.status_timestamp_after {
            map.serialize_entry("statusTimestampAfter", &TimestampJson(v))?;
        }
        if let Some(v) = self.include_artifacts {
            map.serialize_entry("includeArtifacts", &v)?;
        }
        map.end()
    }
}

impl JsonFields for ListTasksRequest {
    const NAME: &'static str = "ListTasksRequest";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "tenant" => self.tenant = fields.value("tenant")?.unwrap_or_default(),
            "contextId" | "context_id" => {
                self.context_id = fields.value("contextId")?.unwrap_or_default();
            }
            "status" => {
                self.status = fields.value::<TaskState>("status")?.map_or(0, |s| s as i32);
            }
            "pageSize" | "page_size" => {
                self.page_size = fields.value::<Int32>("pageSize")?.map(|v| v.0);
            }
            "pageToken" | "page_token" => {
                self.page_token = fields.value("pageToken")?.unwrap_or_default();
            }
            "historyLength" | "history_length" => {
                self.history_length = fields.value::<Int32>("historyLength")?.map(|v| v.0);
            }
            "statusTimestampAfter" | "status_timestamp_after" => {
                self.status_timestamp_after = fields
                    .value::<TimestampIn>("statusTimestampAfter")?
                    .map(|t| t.0);
            }
            "includeArtifacts" | "include_artifacts" => {
                self.include_artifacts = fields.value("includeArtifacts")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for ListTasksRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

impl Serialize for ListTasksResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("tasks", &self.tasks)?;
        map.serialize_entry("nextPageToken", &self.next_page_token)?;
        map.serialize_entry("pageSize", &self.page_size)?;
        map.serialize_entry("totalSize", &self.total_size)?;
        map.end()
    }
}

impl JsonFields for ListTasksResponse {
    const NAME: &'static str = "ListTasksResponse";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "tasks" => self.tasks = fields.value("tasks")?.unwrap_or_default(),
            "nextPageToken" | "next_page_token" => {
                self.next_page_token = fields.value("nextPageToken")?.unwrap_or_default();
            }
            "pageSize" | "page_size" => {
                self.page_size = fields.value::<Int32>("pageSize")?.map_or(0, |v| v.0);
            }
            "totalSize" | "total_size" => {
                self.total_size = fields.value::<Int32>("totalSize")?.map_or(0, |v| v.0);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for ListTasksResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

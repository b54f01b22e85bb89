//! ProtoJSON of `Part`: the member name of the `content` oneof is the discriminator (no
//! `kind`), `raw` is base64, and `"data": null` is a data part holding JSON null (pbjson reads
//! it as a part with no content).

use serde::de::{self, MapAccess};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{Base64, FieldReader, JsonFields, deserialize_message, encode_base64};
use super::value::{StructIn, StructJson, ValueJson, json_to_value};
use crate::Part;
use crate::part::Content;

/// The JSON member name of a `content` value.
fn content_name(content: &Content) -> &'static str {
    match content {
        Content::Text(_) => "text",
        Content::Raw(_) => "raw",
        Content::Url(_) => "url",
        Content::Data(_) => "data",
    }
}

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.content {
            Some(Content::Text(text)) => map.serialize_entry("text", text)?,
            Some(Content::Raw(bytes)) => map.serialize_entry("raw", &encode_base64(bytes))?,
            Some(Content::Url(url)) => map.serialize_entry("url", url)?,
            Some(Content::Data(value)) => map.serialize_entry("data", &ValueJson(value))?,
            None => {}
        }
        if let Some(metadata) = &self.metadata {
            map.serialize_entry("metadata", &StructJson(metadata))?;
        }
        if !self.filename.is_empty() {
            map.serialize_entry("filename", &self.filename)?;
        }
        if !self.media_type.is_empty() {
            map.serialize_entry("mediaType", &self.media_type)?;
        }
        map.end()
    }
}

impl Part {
    /// Sets the oneof, refusing a second member.
    fn set_content<E: de::Error>(&mut self, content: Option<Content>) -> Result<(), E> {
        let Some(content) = content else {
            return Ok(());
        };
        if let Some(existing) = &self.content {
            return Err(E::custom(format_args!(
                "Part: only one of text, raw, url, data may be set, found {} and {}",
                content_name(existing),
                content_name(&content)
            )));
        }
        self.content = Some(content);
        Ok(())
    }
}

impl JsonFields for Part {
    const NAME: &'static str = "Part";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "text" => self.set_content(fields.value("text")?.map(Content::Text))?,
            "raw" => {
                let raw = fields.value::<Base64>("raw")?;
                self.set_content(raw.map(|b| Content::Raw(b.0)))?;
            }
            "url" => self.set_content(fields.value("url")?.map(Content::Url))?,
            "data" => {
                // `google.protobuf.Value` is the one type where `null` is a value, not "unset".
                let json = fields.raw_value::<serde_json::Value>("data")?;
                self.set_content(Some(Content::Data(json_to_value(json))))?;
            }
            "metadata" => self.metadata = fields.value::<StructIn>("metadata")?.map(|s| s.0),
            "filename" => self.filename = fields.value("filename")?.unwrap_or_default(),
            "mediaType" | "media_type" => {
                self.media_type = fields.value("mediaType")?.unwrap_or_default();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

//! ProtoJSON of `AgentCard`: its REQUIRED fields are always written, even at their default
//! (`skills: []` above all, as the spec's canonical form shows), which pbjson would drop.
//! The same rules make the JCS canonical form used to sign a card.

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{FieldReader, JsonFields, deserialize_message};
use crate::AgentCard;

impl Serialize for AgentCard {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("supportedInterfaces", &self.supported_interfaces)?;
        if let Some(provider) = &self.provider {
            map.serialize_entry("provider", provider)?;
        }
        map.serialize_entry("version", &self.version)?;
        if let Some(url) = &self.documentation_url {
            map.serialize_entry("documentationUrl", url)?;
        }
        // A REQUIRED message: written when present; an absent one fails validation rather
        // than being invented here.
        if let Some(capabilities) = &self.capabilities {
            map.serialize_entry("capabilities", capabilities)?;
        }
        if !self.security_schemes.is_empty() {
            map.serialize_entry("securitySchemes", &self.security_schemes)?;
        }
        if !self.security_requirements.is_empty() {
            map.serialize_entry("securityRequirements", &self.security_requirements)?;
        }
        map.serialize_entry("defaultInputModes", &self.default_input_modes)?;
        map.serialize_entry("defaultOutputModes", &self.default_output_modes)?;
        map.serialize_entry("skills", &self.skills)?;
        if !self.signatures.is_empty() {
            map.serialize_entry("signatures", &self.signatures)?;
        }
        if let Some(url) = &self.icon_url {
            map.serialize_entry("iconUrl", url)?;
        }
        map.end()
    }
}

impl JsonFields for AgentCard {
    const NAME: &'static str = "AgentCard";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "name" => self.name = fields.value("name")?.unwrap_or_default(),
            "description" => self.description = fields.value("description")?.unwrap_or_default(),
            "supportedInterfaces" | "supported_interfaces" => {
                self.supported_interfaces =
                    fields.value("supportedInterfaces")?.unwrap_or_default();
            }
            "provider" => self.provider = fields.value("provider")?,
            "version" => self.version = fields.value("version")?.unwrap_or_default(),
            "documentationUrl" | "documentation_url" => {
                self.documentation_url = fields.value("documentationUrl")?;
            }
            "capabilities" => self.capabilities = fields.value("capabilities")?,
            "securitySchemes" | "security_schemes" => {
                self.security_schemes = fields.value("securitySchemes")?.unwrap_or_default();
            }
            "securityRequirements" | "security_requirements" => {
                self.security_requirements =
                    fields.value("securityRequirements")?.unwrap_or_default();
            }
            "defaultInputModes" | "default_input_modes" => {
                self.default_input_modes = fields.value("defaultInputModes")?.unwrap_or_default();
            }
            "defaultOutputModes" | "default_output_modes" => {
                self.default_output_modes = fields.value("defaultOutputModes")?.unwrap_or_default();
            }
            "skills" => self.skills = fields.value("skills")?.unwrap_or_default(),
            "signatures" => self.signatures = fields.value("signatures")?.unwrap_or_default(),
            "iconUrl" | "icon_url" => self.icon_url = fields.value("iconUrl")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for AgentCard {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

//! ProtoJSON of the OAuth flows whose `scopes` map is REQUIRED: an empty map is still written
//! as `"scopes": {}` (pbjson would drop it, and the flow would then lack a required member).

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{FieldReader, JsonFields, deserialize_message};
use crate::{AuthorizationCodeOAuthFlow, ClientCredentialsOAuthFlow, DeviceCodeOAuthFlow};

impl Serialize for AuthorizationCodeOAuthFlow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("authorizationUrl", &self.authorization_url)?;
        map.serialize_entry("tokenUrl", &self.token_url)?;
        if !self.refresh_url.is_empty() {
            map.serialize_entry("refreshUrl", &self.refresh_url)?;
        }
        map.serialize_entry("scopes", &self.scopes)?;
        if self.pkce_required {
            map.serialize_entry("pkceRequired", &true)?;
        }
        map.end()
    }
}

impl JsonFields for AuthorizationCodeOAuthFlow {
    const NAME: &'static str = "AuthorizationCodeOAuthFlow";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "authorizationUrl" | "authorization_url" => {
                self.authorization_url = fields.value("authorizationUrl")?.unwrap_or_default();
            }
            "tokenUrl" | "token_url" => {
                self.token_url = fields.value("tokenUrl")?.unwrap_or_default();
            }
            "refreshUrl" | "refresh_url" => {
                self.refresh_url = fields.value("refreshUrl")?.unwrap_or_default();
            }
            "scopes" => self.scopes = fields.value("scopes")?.unwrap_or_default(),
            "pkceRequired" | "pkce_required" => {
                self.pkce_required = fields.value("pkceRequired")?.unwrap_or_default();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Serialize for ClientCredentialsOAuthFlow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("tokenUrl", &self.token_url)?;
        if !self.refresh_url.is_empty() {
            map.serialize_entry("refreshUrl", &self.refresh_url)?;
        }
        map.serialize_entry("scopes", &self.scopes)?;
        map.end()
    }
}

impl JsonFields for ClientCredentialsOAuthFlow {
    const NAME: &'static str = "ClientCredentialsOAuthFlow";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "tokenUrl" | "token_url" => {
                self.token_url = fields.value("tokenUrl")?.unwrap_or_default();
            }
            "refreshUrl" | "refresh_url" => {
                self.refresh_url = fields.value("refreshUrl")?.unwrap_or_default();
            }
            "scopes" => self.scopes = fields.value("scopes")?.unwrap_or_default(),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Serialize for DeviceCodeOAuthFlow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("deviceAuthorizationUrl", &self.device_authorization_url)?;
        map.serialize_entry("tokenUrl", &self.token_url)?;
        if !self.refresh_url.is_empty() {
            map.serialize_entry("refreshUrl", &self.refresh_url)?;
        }
        map.serialize_entry("scopes", &self.scopes)?;
        map.end()
    }
}

impl JsonFields for DeviceCodeOAuthFlow {
    const NAME: &'static str = "DeviceCodeOAuthFlow";

    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error> {
        match key {
            "deviceAuthorizationUrl" | "device_authorization_url" => {
                self.device_authorization_url =
                    fields.value("deviceAuthorizationUrl")?.unwrap_or_default();
            }
            "tokenUrl" | "token_url" => {
                self.token_url = fields.value("tokenUrl")?.unwrap_or_default();
            }
            "refreshUrl" | "refresh_url" => {
                self.refresh_url = fields.value("refreshUrl")?.unwrap_or_default();
            }
            "scopes" => self.scopes = fields.value("scopes")?.unwrap_or_default(),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Deserialize<'de> for AuthorizationCodeOAuthFlow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

impl<'de> Deserialize<'de> for ClientCredentialsOAuthFlow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

impl<'de> Deserialize<'de> for DeviceCodeOAuthFlow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_message(deserializer)
    }
}

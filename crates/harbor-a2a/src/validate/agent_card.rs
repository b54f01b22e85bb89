//! Rules for the agent card and its parts, including the security schemes.

use super::{Check, Path};
use crate::{
    A2aError, AgentCapabilities, AgentCard, AgentCardSignature, AgentInterface, AgentProvider,
    AgentSkill, ApiKeySecurityScheme, OAuthFlows, SecurityScheme, o_auth_flows, security_scheme,
};

impl Check for AgentCard {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("name", &self.name)?;
        at.require_str("description", &self.description)?;
        at.require_items("supportedInterfaces", &self.supported_interfaces)?;
        at.each("supportedInterfaces", &self.supported_interfaces)?;
        at.optional("provider", &self.provider)?;
        at.require_str("version", &self.version)?;
        at.require("capabilities", &self.capabilities)?
            .check(&at.field("capabilities"))?;
        let schemes = at.field("securitySchemes");
        let mut names: Vec<&String> = self.security_schemes.keys().collect();
        names.sort();
        for name in names {
            self.security_schemes[name].check(&schemes.key(name))?;
        }
        at.require_items("defaultInputModes", &self.default_input_modes)?;
        at.require_items("defaultOutputModes", &self.default_output_modes)?;
        // REQUIRED, but the spec's own canonical example has `skills: []`, so it may be empty.
        at.each("skills", &self.skills)?;
        at.each("signatures", &self.signatures)
    }
}

impl Check for AgentInterface {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("url", &self.url)?;
        at.require_str("protocolBinding", &self.protocol_binding)?;
        at.require_str("protocolVersion", &self.protocol_version)
    }
}

impl Check for AgentProvider {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("url", &self.url)?;
        at.require_str("organization", &self.organization)
    }
}

impl Check for AgentCapabilities {
    fn check(&self, _at: &Path<'_>) -> Result<(), A2aError> {
        // No field of AgentCapabilities or AgentExtension is REQUIRED.
        Ok(())
    }
}

impl Check for AgentSkill {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("id", &self.id)?;
        at.require_str("name", &self.name)?;
        at.require_str("description", &self.description)?;
        at.require_items("tags", &self.tags)
    }
}

impl Check for AgentCardSignature {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("protected", &self.protected)?;
        at.require_str("signature", &self.signature)
    }
}

impl Check for SecurityScheme {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        use security_scheme::Scheme;
        match &self.scheme {
            None => Err(at.error(
                "exactly one of apiKeySecurityScheme, httpAuthSecurityScheme, \
                 oauth2SecurityScheme, openIdConnectSecurityScheme, mtlsSecurityScheme must be set",
            )),
            Some(Scheme::ApiKeySecurityScheme(s)) => s.check(&at.field("apiKeySecurityScheme")),
            Some(Scheme::HttpAuthSecurityScheme(s)) => at
                .field("httpAuthSecurityScheme")
                .require_str("scheme", &s.scheme),
            Some(Scheme::Oauth2SecurityScheme(s)) => {
                let oauth2 = at.field("oauth2SecurityScheme");
                oauth2
                    .require("flows", &s.flows)?
                    .check(&oauth2.field("flows"))
            }
            Some(Scheme::OpenIdConnectSecurityScheme(s)) => at
                .field("openIdConnectSecurityScheme")
                .require_str("openIdConnectUrl", &s.open_id_connect_url),
            Some(Scheme::MtlsSecurityScheme(_)) => Ok(()),
        }
    }
}

impl Check for ApiKeySecurityScheme {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("location", &self.location)?;
        if !matches!(self.location.as_str(), "query" | "header" | "cookie") {
            return Err(at.field("location").error(format!(
                "must be query, header or cookie, got {:?}",
                self.location
            )));
        }
        at.require_str("name", &self.name)
    }
}

impl Check for OAuthFlows {
    /// The `scopes` maps are REQUIRED but may be empty, so only the URLs are checked.
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        use o_auth_flows::Flow;
        match &self.flow {
            None => Err(at.error(
                "exactly one of authorizationCode, clientCredentials, implicit, password, \
                 deviceCode must be set",
            )),
            Some(Flow::AuthorizationCode(f)) => {
                let at = at.field("authorizationCode");
                at.require_str("authorizationUrl", &f.authorization_url)?;
                at.require_str("tokenUrl", &f.token_url)
            }
            Some(Flow::ClientCredentials(f)) => at
                .field("clientCredentials")
                .require_str("tokenUrl", &f.token_url),
            Some(Flow::DeviceCode(f)) => {
                let at = at.field("deviceCode");
                at.require_str("deviceAuthorizationUrl", &f.device_authorization_url)?;
                at.require_str("tokenUrl", &f.token_url)
            }
            // Deprecated flows with no REQUIRED fields.
            Some(Flow::Implicit(_) | Flow::Password(_)) => Ok(()),
        }
    }
}

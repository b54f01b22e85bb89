//! proptest strategies for the agent card and its security schemes.

use std::collections::BTreeMap;

use harbor_a2a::{
    AgentCapabilities, AgentCard, AgentCardSignature, AgentExtension, AgentInterface,
    AgentProvider, AgentSkill, ApiKeySecurityScheme, AuthorizationCodeOAuthFlow,
    ClientCredentialsOAuthFlow, DeviceCodeOAuthFlow, HttpAuthSecurityScheme, ImplicitOAuthFlow,
    MutualTlsSecurityScheme, OAuth2SecurityScheme, OAuthFlows, OpenIdConnectSecurityScheme,
    PasswordOAuthFlow, SecurityRequirement, SecurityScheme, StringList, o_auth_flows,
    security_scheme,
};
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;

use super::{metadata, text, texts};

fn scopes() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..3)
}

fn flows() -> impl Strategy<Value = OAuthFlows> {
    use o_auth_flows::Flow;
    of(prop_oneof![
        (text(), text(), text(), scopes(), any::<bool>()).prop_map(
            |(authorization_url, token_url, refresh_url, scopes, pkce_required)| {
                Flow::AuthorizationCode(AuthorizationCodeOAuthFlow {
                    authorization_url,
                    token_url,
                    refresh_url,
                    scopes,
                    pkce_required,
                })
            }
        ),
        (text(), text(), scopes()).prop_map(|(token_url, refresh_url, scopes)| {
            Flow::ClientCredentials(ClientCredentialsOAuthFlow {
                token_url,
                refresh_url,
                scopes,
            })
        }),
        (text(), text(), scopes()).prop_map(|(authorization_url, refresh_url, scopes)| {
            Flow::Implicit(ImplicitOAuthFlow {
                authorization_url,
                refresh_url,
                scopes,
            })
        }),
        (text(), text(), scopes()).prop_map(|(token_url, refresh_url, scopes)| {
            Flow::Password(PasswordOAuthFlow {
                token_url,
                refresh_url,
                scopes,
            })
        }),
        (text(), text(), text(), scopes()).prop_map(
            |(device_authorization_url, token_url, refresh_url, scopes)| {
                Flow::DeviceCode(DeviceCodeOAuthFlow {
                    device_authorization_url,
                    token_url,
                    refresh_url,
                    scopes,
                })
            }
        ),
    ])
    .prop_map(|flow| OAuthFlows { flow })
}

fn security_scheme() -> impl Strategy<Value = SecurityScheme> {
    use security_scheme::Scheme;
    of(prop_oneof![
        (text(), text(), text()).prop_map(|(description, location, name)| {
            Scheme::ApiKeySecurityScheme(ApiKeySecurityScheme {
                description,
                location,
                name,
            })
        }),
        (text(), text(), text()).prop_map(|(description, scheme, bearer_format)| {
            Scheme::HttpAuthSecurityScheme(HttpAuthSecurityScheme {
                description,
                scheme,
                bearer_format,
            })
        }),
        (text(), of(flows()), text()).prop_map(|(description, flows, oauth2_metadata_url)| {
            Scheme::Oauth2SecurityScheme(OAuth2SecurityScheme {
                description,
                flows,
                oauth2_metadata_url,
            })
        }),
        (text(), text()).prop_map(|(description, open_id_connect_url)| {
            Scheme::OpenIdConnectSecurityScheme(OpenIdConnectSecurityScheme {
                description,
                open_id_connect_url,
            })
        }),
        text().prop_map(
            |description| Scheme::MtlsSecurityScheme(MutualTlsSecurityScheme { description })
        ),
    ])
    .prop_map(|scheme| SecurityScheme { scheme })
}

fn requirement() -> impl Strategy<Value = SecurityRequirement> {
    btree_map(text(), texts().prop_map(|list| StringList { list }), 0..3)
        .prop_map(|schemes| SecurityRequirement { schemes })
}

fn skill() -> impl Strategy<Value = AgentSkill> {
    (
        text(),
        text(),
        text(),
        texts(),
        texts(),
        texts(),
        texts(),
        vec(requirement(), 0..2),
    )
        .prop_map(
            |(
                id,
                name,
                description,
                tags,
                examples,
                input_modes,
                output_modes,
                security_requirements,
            )| AgentSkill {
                id,
                name,
                description,
                tags,
                examples,
                input_modes,
                output_modes,
                security_requirements,
            },
        )
}

fn capabilities() -> impl Strategy<Value = AgentCapabilities> {
    let extension = (text(), text(), any::<bool>(), metadata()).prop_map(
        |(uri, description, required, params)| AgentExtension {
            uri,
            description,
            required,
            params,
        },
    );
    (
        of(any::<bool>()),
        of(any::<bool>()),
        vec(extension, 0..2),
        of(any::<bool>()),
    )
        .prop_map(
            |(streaming, push_notifications, extensions, extended_agent_card)| AgentCapabilities {
                streaming,
                push_notifications,
                extensions,
                extended_agent_card,
            },
        )
}

pub(crate) fn agent_card() -> impl Strategy<Value = AgentCard> {
    let interface = (text(), text(), text(), text()).prop_map(
        |(url, protocol_binding, tenant, protocol_version)| AgentInterface {
            url,
            protocol_binding,
            tenant,
            protocol_version,
        },
    );
    let provider =
        (text(), text()).prop_map(|(url, organization)| AgentProvider { url, organization });
    let signature = (text(), text(), metadata()).prop_map(|(protected, signature, header)| {
        AgentCardSignature {
            protected,
            signature,
            header,
        }
    });
    let head = (
        text(),
        text(),
        vec(interface, 0..3),
        of(provider),
        text(),
        of(text()),
        of(capabilities()),
    );
    let tail = (
        btree_map(text(), security_scheme(), 0..3),
        vec(requirement(), 0..2),
        texts(),
        texts(),
        vec(skill(), 0..2),
        vec(signature, 0..2),
        of(text()),
    );
    (head, tail).prop_map(
        |(
            (
                name,
                description,
                supported_interfaces,
                provider,
                version,
                documentation_url,
                capabilities,
            ),
            (
                security_schemes,
                security_requirements,
                default_input_modes,
                default_output_modes,
                skills,
                signatures,
                icon_url,
            ),
        )| AgentCard {
            name,
            description,
            supported_interfaces,
            provider,
            version,
            documentation_url,
            capabilities,
            security_schemes,
            security_requirements,
            default_input_modes,
            default_output_modes,
            skills,
            signatures,
            icon_url,
        },
    )
}

//! ProtoJSON of every A2A message: the first byte picks the message, the rest is its JSON.
//! Parsing any bytes answers a message or an error, never a panic; a parsed message can be
//! written back, and what is written parses again to the same message (compared as JSON,
//! the form clients see); a message that validates still validates after the round trip.

use harbor_a2a::validate::Validate;
use harbor_a2a::*;

/// Parses `json` as `T` and checks the round trip.
fn round_trip<T>(json: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + Validate,
{
    let Ok(message) = from_json_slice::<T>(json) else {
        return;
    };
    let valid = message.validate().is_ok();
    let written = to_json_string(&message).expect("a parsed message can be written");
    let again: T = from_json(&written).expect("what is written parses again");
    let rewritten = to_json_string(&again).expect("written twice");
    assert_eq!(written, rewritten, "the round trip changed the message");
    assert_eq!(
        again.validate().is_ok(),
        valid,
        "validity changed in the round trip"
    );
}

/// Parses `json` as `T` (a message without validation rules) and checks the round trip.
fn round_trip_plain<T>(json: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let Ok(message) = from_json_slice::<T>(json) else {
        return;
    };
    let written = to_json_string(&message).expect("a parsed message can be written");
    let again: T = from_json(&written).expect("what is written parses again");
    assert_eq!(written, to_json_string(&again).expect("written twice"));
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&pick, json)) = data.split_first() else {
            return;
        };
        match pick % 40 {
            0 => round_trip::<SendMessageRequest>(json),
            1 => round_trip::<SendMessageResponse>(json),
            2 => round_trip::<StreamResponse>(json),
            3 => round_trip::<GetTaskRequest>(json),
            4 => round_trip::<ListTasksRequest>(json),
            5 => round_trip::<ListTasksResponse>(json),
            6 => round_trip::<CancelTaskRequest>(json),
            7 => round_trip::<SubscribeToTaskRequest>(json),
            8 => round_trip::<TaskPushNotificationConfig>(json),
            9 => round_trip::<GetTaskPushNotificationConfigRequest>(json),
            10 => round_trip::<DeleteTaskPushNotificationConfigRequest>(json),
            11 => round_trip::<ListTaskPushNotificationConfigsRequest>(json),
            12 => round_trip::<ListTaskPushNotificationConfigsResponse>(json),
            13 => round_trip::<GetExtendedAgentCardRequest>(json),
            14 => round_trip::<SendMessageConfiguration>(json),
            15 => round_trip::<Task>(json),
            16 => round_trip::<TaskStatus>(json),
            17 => round_trip::<Message>(json),
            18 => round_trip::<Part>(json),
            19 => round_trip::<Artifact>(json),
            20 => round_trip::<TaskStatusUpdateEvent>(json),
            21 => round_trip::<TaskArtifactUpdateEvent>(json),
            22 => round_trip::<AuthenticationInfo>(json),
            23 => round_trip::<AgentCard>(json),
            24 => round_trip::<AgentInterface>(json),
            25 => round_trip::<AgentProvider>(json),
            26 => round_trip::<AgentCapabilities>(json),
            27 => round_trip::<AgentSkill>(json),
            28 => round_trip::<AgentCardSignature>(json),
            29 => round_trip::<SecurityScheme>(json),
            30 => round_trip::<OAuthFlows>(json),
            31 => round_trip_plain::<AgentExtension>(json),
            32 => round_trip_plain::<SecurityRequirement>(json),
            33 => round_trip_plain::<ApiKeySecurityScheme>(json),
            34 => round_trip_plain::<HttpAuthSecurityScheme>(json),
            35 => round_trip_plain::<OAuth2SecurityScheme>(json),
            36 => round_trip_plain::<AuthorizationCodeOAuthFlow>(json),
            37 => round_trip_plain::<ClientCredentialsOAuthFlow>(json),
            38 => round_trip_plain::<DeviceCodeOAuthFlow>(json),
            _ => {
                round_trip_plain::<OpenIdConnectSecurityScheme>(json);
                round_trip_plain::<MutualTlsSecurityScheme>(json);
                round_trip_plain::<ImplicitOAuthFlow>(json);
                round_trip_plain::<PasswordOAuthFlow>(json);
                round_trip_plain::<StringList>(json);
            }
        }
    });
}

//! `Debug` for the messages that carry secrets: webhook tokens and credentials never reach
//! logs or panic messages, only whether they are set.

use std::fmt;

use crate::{AuthenticationInfo, TaskPushNotificationConfig};

fn secret(value: &str) -> &'static str {
    if value.is_empty() { "" } else { "<redacted>" }
}

impl fmt::Debug for AuthenticationInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticationInfo")
            .field("scheme", &self.scheme)
            .field("credentials", &secret(&self.credentials))
            .finish()
    }
}

impl fmt::Debug for TaskPushNotificationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskPushNotificationConfig")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("task_id", &self.task_id)
            .field("url", &self.url)
            .field("token", &secret(&self.token))
            .field("authentication", &self.authentication)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = TaskPushNotificationConfig {
            id: "c1".into(),
            url: "https://hooks.example/x".into(),
            token: "tok-secret".into(),
            authentication: Some(AuthenticationInfo {
                scheme: "Bearer".into(),
                credentials: "cred-secret".into(),
            }),
            ..TaskPushNotificationConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("tok-secret") && !shown.contains("cred-secret"),
            "{shown}"
        );
        assert!(shown.contains("Bearer") && shown.contains("c1") && shown.contains("<redacted>"));
    }
}

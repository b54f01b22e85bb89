//! Push notification configs in human form, secrets masked.

use harbor_a2a::{ListTaskPushNotificationConfigsResponse, TaskPushNotificationConfig};

use super::field;

/// What is shown in place of a secret.
const MASK: &str = "*** (set, not shown)";

/// One config: id, task, webhook URL; the token and credentials only as "set".
pub(crate) fn push_config(config: &TaskPushNotificationConfig) -> String {
    let mut out = Vec::new();
    field(&mut out, "config", &config.id);
    field(&mut out, "task", &config.task_id);
    field(&mut out, "webhook", &config.url);
    if !config.token.is_empty() {
        field(&mut out, "token", MASK);
    }
    if let Some(auth) = &config.authentication {
        let credentials = if auth.credentials.is_empty() {
            ""
        } else {
            MASK
        };
        field(
            &mut out,
            "auth",
            format!("{} {credentials}", auth.scheme).trim_end(),
        );
    }
    out.join("\n")
}

/// A page of configs, separated by blank lines, then the next page's token.
pub(crate) fn push_configs(page: &ListTaskPushNotificationConfigsResponse) -> String {
    let mut blocks: Vec<String> = page.configs.iter().map(push_config).collect();
    blocks.push(format!("{} config(s)", page.configs.len()));
    if !page.next_page_token.is_empty() {
        blocks.push(format!("next page: --page-token {}", page.next_page_token));
    }
    blocks.join("\n\n")
}

#[cfg(test)]
mod tests {
    use harbor_a2a::AuthenticationInfo;

    use super::*;

    #[test]
    fn secrets_are_masked() {
        let config = TaskPushNotificationConfig {
            id: "p1".into(),
            task_id: "t1".into(),
            url: "https://hooks.example/a2a".into(),
            token: "tok-s3cret".into(),
            authentication: Some(AuthenticationInfo {
                scheme: "Bearer".into(),
                credentials: "cred-s3cret".into(),
            }),
            ..TaskPushNotificationConfig::default()
        };
        let shown = push_config(&config);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("auth       Bearer ***"), "{shown}");
        assert!(shown.contains("token      ***"), "{shown}");
        assert!(
            shown.contains("webhook    https://hooks.example/a2a"),
            "{shown}"
        );
    }
}

//! Rules for push-notification configs, checked when a config is created so that nothing is
//! stored that could never be delivered: the URL is absolute `http` or `https` with a host
//! and no user info, and nothing that becomes a header (URL, token, scheme, credentials)
//! holds control characters, which would split or smuggle headers.
//!
//! Whether the host may be called at all (public addresses only, by default) is decided at
//! delivery, when the name is resolved.

use super::Path;
use crate::{A2aError, AuthenticationInfo, TaskPushNotificationConfig};

/// The first control character (C0, DEL or C1) in `value`, if any.
fn control_char(value: &str) -> Option<char> {
    value.chars().find(|c| c.is_control())
}

fn no_control(at: &Path<'_>, value: &str) -> Result<(), A2aError> {
    match control_char(value) {
        Some(c) => Err(at.error(format!(
            "must not contain control characters, found U+{:04X}",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

/// A header value we send must be printable ASCII (what every HTTP stack carries as is).
fn printable_ascii(at: &Path<'_>, value: &str) -> Result<(), A2aError> {
    no_control(at, value)?;
    if !value.is_ascii() {
        return Err(at.error("must be printable ASCII (it is sent as an HTTP header)"));
    }
    Ok(())
}

/// The webhook URL: absolute, http or https, with a host, without user info.
pub(super) fn check_url(at: &Path<'_>, url: &str) -> Result<(), A2aError> {
    // The URL parser drops tabs and newlines silently: look at the raw text first.
    no_control(at, url)?;
    let parsed = url::Url::parse(url).map_err(|e| at.error(format!("is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(at.error(format!(
            "must be an http or https URL, not {:?}",
            parsed.scheme()
        )));
    }
    // The parser forgives `https:///host` and `http:host`; a stored URL says what it means.
    let after_scheme = url.get(parsed.scheme().len()..).unwrap_or_default();
    let authority = after_scheme.strip_prefix("://").unwrap_or_default();
    if parsed.host_str().is_none_or(str::is_empty)
        || authority.is_empty()
        || authority.starts_with(['/', '\\'])
    {
        return Err(at.error("must name a host (scheme://host/...)"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(at.error("must not carry credentials; use authentication"));
    }
    Ok(())
}

pub(super) fn check_config(
    at: &Path<'_>,
    config: &TaskPushNotificationConfig,
) -> Result<(), A2aError> {
    check_url(&at.field("url"), &config.url)?;
    printable_ascii(&at.field("token"), &config.token)?;
    no_control(&at.field("id"), &config.id)
}

/// `scheme` is an HTTP auth-scheme (a token); `credentials` printable ASCII.
pub(super) fn check_authentication(
    at: &Path<'_>,
    auth: &AuthenticationInfo,
) -> Result<(), A2aError> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !auth.scheme.chars().all(is_tchar) {
        return Err(at
            .field("scheme")
            .error("must be an HTTP authentication scheme (letters, digits and !#$%&'*+-.^_`|~)"));
    }
    printable_ascii(&at.field("credentials"), &auth.credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_error(url: &str) -> Option<String> {
        check_url(&Path::root("url"), url)
            .err()
            .map(|e| e.message().to_owned())
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert_eq!(url_error("https://example.com/hook"), None);
        assert_eq!(url_error("http://127.0.0.1:8080/x?y=1"), None);
        for bad in [
            "file:///etc/passwd",
            "gopher://example.com/",
            "ftp://example.com/",
            "example.com/hook",
            "http://",
            "https:///example.com/",
            "http:example.com/",
            "https:\\\\example.com/",
            "https://user:pw@example.com/",
            "https://example.com/a\r\nX-Injected: 1",
            "https://exa\tmple.com/",
            "https://example.com/\u{85}",
        ] {
            assert!(url_error(bad).is_some(), "{bad:?} accepted");
        }
        assert_eq!(
            url_error("https://example.com/\n").as_deref(),
            Some("url: must not contain control characters, found U+000A")
        );
    }

    #[test]
    fn header_values_are_printable_ascii() {
        let auth = |scheme: &str, credentials: &str| AuthenticationInfo {
            scheme: scheme.into(),
            credentials: credentials.into(),
        };
        let at = Path::root("authentication");
        assert!(check_authentication(&at, &auth("Bearer", "abc.def-ghi")).is_ok());
        assert!(check_authentication(&at, &auth("Bear er", "x")).is_err());
        assert!(check_authentication(&at, &auth("Bearer\r\n", "x")).is_err());
        assert!(check_authentication(&at, &auth("Bearer", "x\r\nHost: evil")).is_err());
        assert!(check_authentication(&at, &auth("Bearer", "caf\u{e9}")).is_err());
    }
}

//! Fetching a JWKS document of trusted card keys over HTTP (verifying with them is
//! [`verify`](super::verify)'s job).

/// GETs a JWKS document of trusted card keys (the URL rules of peers apply: https, or
/// http on loopback unless insecure HTTP is allowed; the card size limit bounds it).
///
/// # Errors
///
/// A refused URL, a failed request, a non-2xx answer, a body over the limit or not UTF-8.
pub async fn fetch_jwks(
    http: &reqwest::Client,
    config: &crate::ClientConfig,
    url: &str,
) -> Result<String, harbor_distributed::Error> {
    let parsed = crate::url_policy::peer_url(url, config.allow_insecure_http)
        .map_err(crate::error::ClientError::into_error)?;
    let timeout = config.card_timeout;
    let response = http
        .get(parsed)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| crate::error::request_error(url, e, timeout))?;
    let status = response.status();
    let body = crate::body::read_capped(response, config.max_card_bytes, "JWKS", timeout).await?;
    if !status.is_success() {
        return Err(crate::error::ClientError::Http {
            url: url.to_owned(),
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        }
        .into_error());
    }
    String::from_utf8(body.to_vec()).map_err(|_| {
        crate::error::ClientError::InvalidCard {
            url: url.to_owned(),
            reason: "the JWKS is not UTF-8".into(),
        }
        .into_error()
    })
}

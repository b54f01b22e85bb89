//! Response bodies read whole under a size cap: cards, JWKS documents, token responses and
//! unary replies all go through [`read_capped`].

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use harbor_distributed::Error;

use crate::error::{ClientError, request_error};

/// Reads a whole body, failing once it passes `limit` bytes (checked against
/// `Content-Length` first, then as it arrives).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    what: &'static str,
    timeout: Duration,
) -> Result<Bytes, Error> {
    let too_large = || ClientError::TooLarge { what, limit }.into_error();
    if response
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
    {
        return Err(too_large());
    }
    let url = response.url().to_string();
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| request_error(&url, e, timeout))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

//! Adding query parameters to a server's URL.

/// `url` with the query parameters `params` (`a=b&c=d`) added after any it has.
pub fn with_query(url: &str, params: &str) -> String {
    if params.is_empty() {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn adds_after_any_query() {
        assert_eq!(with_query("redis://h", "prefix=p"), "redis://h?prefix=p");
        assert_eq!(
            with_query("redis://h?a=1", "prefix=p"),
            "redis://h?a=1&prefix=p"
        );
        assert_eq!(with_query("redis://h", ""), "redis://h");
    }
}

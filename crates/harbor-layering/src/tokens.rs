//! Small readings of token trees: identifiers, punctuation, `::`, and the attributes the
//! scan cares about (`cfg(test)`, `test`, `path`).

use proc_macro2::{Spacing, TokenTree};

/// `#[cfg(test)]`, `#[cfg(all(test, …))]` and `#[test]`: code that only test builds compile.
pub(crate) fn attr_is_test_only(attr: &[TokenTree]) -> bool {
    match (ident(attr.first()).as_deref(), attr.get(1)) {
        (Some("test"), None) => true,
        (Some("cfg"), Some(TokenTree::Group(pred))) => {
            let pred: Vec<TokenTree> = pred.stream().into_iter().collect();
            cfg_is_test_only(&pred)
        }
        _ => false,
    }
}

fn cfg_is_test_only(pred: &[TokenTree]) -> bool {
    match (ident(pred.first()).as_deref(), pred.get(1)) {
        (Some("test"), None) => true,
        (Some("all"), Some(TokenTree::Group(args))) => {
            let args: Vec<TokenTree> = args.stream().into_iter().collect();
            args.split(|t| is_punct(Some(t), ',')).any(cfg_is_test_only)
        }
        _ => false,
    }
}

/// The file of `#[path = "…"]`.
pub(crate) fn path_attr_value(attr: &[TokenTree]) -> Option<String> {
    if ident(attr.first()).as_deref() != Some("path") || !is_punct(attr.get(1), '=') {
        return None;
    }
    let TokenTree::Literal(lit) = attr.get(2)? else {
        return None;
    };
    let text = lit.to_string();
    Some(text.trim_matches('"').to_owned())
}

pub(crate) fn ident(token: Option<&TokenTree>) -> Option<String> {
    match token {
        Some(TokenTree::Ident(word)) => Some(unraw(&word.to_string())),
        _ => None,
    }
}

pub(crate) fn unraw(word: &str) -> String {
    word.strip_prefix("r#").unwrap_or(word).to_owned()
}

pub(crate) fn is_punct(token: Option<&TokenTree>, ch: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// `::` starting at `at`.
pub(crate) fn is_path_sep(tokens: &[TokenTree], at: usize) -> bool {
    matches!(tokens.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && is_punct(tokens.get(at + 1), ':')
}

/// The token at `at` follows a `::` (so it is not the start of a path).
pub(crate) fn after_path_sep(tokens: &[TokenTree], at: usize) -> bool {
    at >= 2 && is_path_sep(tokens, at - 2)
}

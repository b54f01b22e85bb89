//! `use` trees, flattened to their leaves.

use proc_macro2::{Delimiter, TokenTree};

use crate::model::Import;

/// Appends the leaves of the `use` tree in `tokens` (what follows `use`, without the `;`),
/// each with `prefix` in front. Absolute paths (`::std::…`) are left out: never this crate.
pub(crate) fn parse_use(tokens: &[TokenTree], prefix: &[String], out: &mut Vec<Import>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    if prefix.is_empty() && is_colon(tokens.first()) {
        return;
    }
    while let Some(token) = tokens.get(i) {
        match token {
            TokenTree::Ident(word) => {
                let word = word.to_string();
                let word = word.strip_prefix("r#").unwrap_or(&word);
                if word == "as" {
                    let alias = tokens.get(i + 1).map(ToString::to_string);
                    let local = alias.filter(|a| a != "_");
                    out.push(Import {
                        local,
                        path,
                        glob: false,
                        public: false,
                    });
                    return;
                }
                // `self` first in a group names the group's prefix itself.
                if !(word == "self" && i == 0 && !prefix.is_empty()) {
                    path.push(word.to_owned());
                }
            }
            TokenTree::Punct(p) if p.as_char() == '*' => {
                out.push(Import {
                    local: None,
                    path,
                    glob: true,
                    public: false,
                });
                return;
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for part in inner.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    if !part.is_empty() {
                        parse_use(part, &path, out);
                    }
                }
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(last) = path.last().cloned() {
        out.push(Import {
            local: Some(last),
            path,
            glob: false,
            public: false,
        });
    }
}

fn is_colon(token: Option<&TokenTree>) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ':')
}

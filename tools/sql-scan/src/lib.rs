//! Reads PostgreSQL text just far enough to know where code is: which characters sit inside string
//! literals, quoted identifiers, comments or dollar-quoted bodies, and which do not.
//!
//! Two jobs build on that, and both must agree with PostgreSQL's own lexer:
//! - [`split_statements`]: the RDS Data API runs one statement per call, so a migration file is cut
//!   at the semicolons that end statements, and the local Data API rejects calls holding more than one.
//! - [`rewrite_placeholders`]: the Data API's `:name` parameters become PostgreSQL's `$n`, leaving
//!   `::type` casts and anything inside literals or comments alone.
//!
//! It does not parse SQL; a malformed text (say, an unterminated literal) is cut where PostgreSQL
//! would report the error, and PostgreSQL reports it.

use std::ops::Range;

/// What a stretch of text is, as far as statement boundaries and placeholders are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ordinary SQL: keywords, identifiers, operators, punctuation, white space.
    Code,
    /// A string literal, quoted identifier or dollar-quoted body, quotes included.
    Quoted,
    /// A `--` line comment or a (possibly nested) `/* */` block comment.
    Comment,
}

/// Cuts `sql` into consecutive pieces, each wholly code, quoted text or comment.
pub fn pieces(sql: &str) -> Vec<(Kind, Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut out: Vec<(Kind, Range<usize>)> = Vec::new();
    let mut push = |kind: Kind, range: Range<usize>| match out.last_mut() {
        Some((last, r)) if *last == kind && r.end == range.start => r.end = range.end,
        _ => out.push((kind, range)),
    };
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let (kind, end) = match bytes[i] {
            b'\'' => (Kind::Quoted, end_of_string(bytes, i, escapes_backslash(bytes, i))),
            b'"' => (Kind::Quoted, end_of_quoted(bytes, i + 1, b'"')),
            b'-' if bytes.get(i + 1) == Some(&b'-') => (Kind::Comment, end_of_line(bytes, i)),
            b'/' if bytes.get(i + 1) == Some(&b'*') => (Kind::Comment, end_of_block_comment(bytes, i)),
            b'$' if !follows_identifier(bytes, i) => match dollar_tag(bytes, i) {
                Some(tag) => (Kind::Quoted, end_of_dollar_quote(sql, i, tag)),
                None => (Kind::Code, i + 1),
            },
            _ => (Kind::Code, next_char_boundary(sql, i)),
        };
        push(kind, start..end);
        i = end;
    }
    out
}

/// The statements in `sql`, trimmed, without their terminating semicolons; pieces that hold only
/// white space and comments are not statements.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    for (kind, range) in pieces(sql) {
        match kind {
            Kind::Comment => {}
            Kind::Quoted => has_code = true,
            Kind::Code => {
                for (offset, ch) in sql[range.clone()].char_indices() {
                    if ch == ';' {
                        if has_code {
                            statements.push(sql[start..range.start + offset].trim());
                        }
                        start = range.start + offset + 1;
                        has_code = false;
                    } else if !ch.is_whitespace() {
                        has_code = true;
                    }
                }
            }
        }
    }
    if has_code {
        statements.push(sql[start..].trim());
    }
    statements
}

/// SQL with `:name` placeholders rewritten to `$1`, `$2`, … in order of first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub sql: String,
    /// `names[k]` is bound to `$k+1`; a name used twice keeps one position.
    pub names: Vec<String>,
}

/// Rewrites the Data API's `:name` placeholders to PostgreSQL's positional ones.
///
/// A placeholder is a `:` directly followed by a letter or underscore, in code, that is not part of
/// a `::` cast. Names are case-sensitive, as the Data API's are.
pub fn rewrite_placeholders(sql: &str) -> Rewritten {
    let mut out = String::with_capacity(sql.len());
    let mut names: Vec<String> = Vec::new();
    for (kind, range) in pieces(sql) {
        let text = &sql[range];
        if kind != Kind::Code {
            out.push_str(text);
            continue;
        }
        let mut chars = text.char_indices().peekable();
        while let Some((at, ch)) = chars.next() {
            if ch != ':' {
                out.push(ch);
                continue;
            }
            match chars.peek() {
                Some(&(_, ':')) => {
                    out.push_str("::");
                    chars.next();
                }
                Some(&(_, next)) if next.is_alphabetic() || next == '_' => {
                    let name_start = at + 1;
                    let mut name_end = text.len();
                    while let Some(&(pos, c)) = chars.peek() {
                        if c.is_alphanumeric() || c == '_' {
                            chars.next();
                        } else {
                            name_end = pos;
                            break;
                        }
                    }
                    let name = &text[name_start..name_end];
                    let position = match names.iter().position(|n| n == name) {
                        Some(index) => index + 1,
                        None => {
                            names.push(name.to_owned());
                            names.len()
                        }
                    };
                    out.push('$');
                    out.push_str(&position.to_string());
                }
                _ => out.push(':'),
            }
        }
    }
    Rewritten { sql: out, names }
}

fn next_char_boundary(sql: &str, i: usize) -> usize {
    sql[i..].chars().next().map_or(sql.len(), |c| i + c.len_utf8())
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn follows_identifier(bytes: &[u8], i: usize) -> bool {
    i > 0 && is_identifier_byte(bytes[i - 1])
}

/// `E'…'` strings take backslash escapes; the `E` must start its own token.
fn escapes_backslash(bytes: &[u8], quote: usize) -> bool {
    quote > 0
        && matches!(bytes[quote - 1], b'E' | b'e')
        && !(quote > 1 && is_identifier_byte(bytes[quote - 2]))
}

fn end_of_string(bytes: &[u8], quote: usize, backslash_escapes: bool) -> usize {
    let mut i = quote + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn end_of_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn end_of_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p + 1)
}

fn end_of_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The tag of a dollar quote opening at `i` (`$$` or `$tag$`), with both dollars.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
        return None; // `$1` is a positional parameter
    }
    while j < bytes.len() && bytes[j] != b'$' {
        let ok = bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] >= 0x80;
        if !ok {
            return None;
        }
        j += 1;
    }
    (j < bytes.len()).then_some(j + 1 - i)
}

fn end_of_dollar_quote(sql: &str, open: usize, tag_len: usize) -> usize {
    let tag = &sql[open..open + tag_len];
    let body = open + tag_len;
    sql[body..].find(tag).map_or(sql.len(), |p| body + p + tag_len)
}

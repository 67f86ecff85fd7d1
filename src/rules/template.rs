//! Incident title templates: `"FTP brute force from {source.ip}: {count} failures"`.
//!
//! A placeholder names a group field of the rule, or `{count}` (matching events so far) or
//! `{distinct}` (distinct values so far, for `distinct` rules). Text values are escaped, since
//! user names and paths come from attackers.

use super::field::{Field, Value};
use crate::escape::escape_text;

/// One piece of a title.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
    Count,
    Distinct,
}

/// A parsed title template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Parses a template; the error says which placeholder is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| "title: `{` without a closing `}`".to_string())?;
            let name = &after[..close];
            pieces.push(match name {
                "count" => Piece::Count,
                "distinct" => Piece::Distinct,
                _ => Piece::Field(
                    Field::from_name(name)
                        .ok_or_else(|| format!("title: unknown placeholder `{{{name}}}`"))?,
                ),
            });
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    /// The fields the template names.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().filter_map(|p| match p {
            Piece::Field(f) => Some(*f),
            _ => None,
        })
    }

    /// Renders the title from group values and the incident's counters.
    pub fn render(&self, value_of: impl Fn(Field) -> Value, count: u64, distinct: u64) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => out.push_str(&escape_text(&value_of(*f).to_string())),
                Piece::Count => out.push_str(&count.to_string()),
                Piece::Distinct => out.push_str(&distinct.to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_counters() {
        let t = Template::parse("{user.name} from {source.ip}: {count} tries, {distinct} ports")
            .unwrap();
        let s = t.render(
            |f| match f {
                Field::UserName => Value::Text("evil\n\"x\"".into()),
                Field::SourceIp => Value::Ip("192.0.2.7".parse().unwrap()),
                _ => Value::Missing,
            },
            9,
            3,
        );
        assert_eq!(s, r#"evil\n\"x\" from 192.0.2.7: 9 tries, 3 ports"#);
    }

    #[test]
    fn rejects_unknown_and_unclosed_placeholders() {
        assert_eq!(
            Template::parse("x {source.addr}").unwrap_err(),
            "title: unknown placeholder `{source.addr}`"
        );
        assert!(Template::parse("x {source.ip").is_err());
    }
}

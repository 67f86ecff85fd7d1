//! Allowlists from configuration: known scanners, known off-port servers, monitoring hosts.
//! An event that matches an allowlist entry of a rule is not seen by that rule (for joins:
//! the joined pair), so it never opens or updates an incident of it.
//!
//! ```toml
//! [[allow]]
//! rules  = ["firewall.*"]            # rule names, or prefixes ending in `*`; all rules if absent
//! field  = "source.ip"
//! values = ["192.0.2.0/24", "198.51.100.7"]
//! reason = "vulnerability scanner"
//! ```

use super::cond::{compile_expr, Cond};
use super::lang::parse_rule;
use super::Rule;
use serde::Deserialize;

/// One `[[allow]]` entry as written in the configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Rules it applies to: exact names or prefixes ending in `*`. All rules when absent.
    #[serde(default)]
    pub rules: Vec<String>,
    /// The event field to compare.
    pub field: String,
    /// Values: addresses, address blocks, numbers or text, as the field's type requires.
    pub values: Vec<String>,
    /// Why the entry exists (shown by `rules check`).
    #[serde(default)]
    pub reason: String,
}

/// A compiled entry.
#[derive(Debug, Clone)]
pub struct Allow {
    rules: Vec<String>,
    /// Holds for allowed events.
    pub cond: Cond,
    /// The reason from the configuration.
    pub reason: String,
}

impl Allow {
    /// Whether the entry applies to the rule named `name`.
    pub fn applies_to(&self, name: &str) -> bool {
        self.rules.is_empty()
            || self.rules.iter().any(|r| match r.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => r == name,
            })
    }
}

/// Compiles an entry, reusing the rule language's typing of values: `field in [values]`.
pub fn compile_allow(entry: &AllowEntry) -> Result<Allow, String> {
    let values: Vec<String> = entry
        .values
        .iter()
        .map(|v| {
            let bare = v.parse::<std::net::IpAddr>().is_ok()
                || v.contains('/')
                    && v.split('/')
                        .next()
                        .is_some_and(|a| a.parse::<std::net::IpAddr>().is_ok())
                || v.parse::<u64>().is_ok();
            if bare {
                v.clone()
            } else {
                format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            }
        })
        .collect();
    if values.is_empty() {
        return Err(format!("allow entry for `{}` has no values", entry.field));
    }
    let text = format!(
        "rule allow title \"a\" severity low count 1 within 1s where {} in [{}]",
        entry.field,
        values.join(", ")
    );
    let ast = parse_rule(&text)
        .map_err(|e| format!("allow entry for `{}`: expected {}", entry.field, e.expected))?;
    let cond = compile_expr(ast.filter.as_ref().expect("written with a where clause"))
        .map_err(|e| format!("allow entry: {}", e.message))?;
    Ok(Allow {
        rules: entry.rules.clone(),
        cond,
        reason: entry.reason.clone(),
    })
}

/// Attaches the entries that apply to each rule.
pub fn attach(rules: &mut [Rule], allows: &[Allow]) {
    for r in rules {
        r.allow = allows
            .iter()
            .filter(|a| a.applies_to(&r.name))
            .map(|a| a.cond.clone())
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use portcullis_parsers::{Action, Dataset, Event};

    fn entry(rules: &[&str], field: &str, values: &[&str]) -> AllowEntry {
        AllowEntry {
            rules: rules.iter().map(|s| s.to_string()).collect(),
            field: field.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
            reason: String::new(),
        }
    }

    #[test]
    fn entries_match_addresses_blocks_ports_and_text() {
        let mut e = Event::new(Utc::now(), Dataset::Iptables, Action::FirewallDeny);
        e.source_ip = Some("192.0.2.77".parse().unwrap());
        e.destination_port = Some(2121);
        e.user_name = Some("scan\"ner".into());
        let table = [
            (entry(&[], "source.ip", &["192.0.2.0/24"]), true),
            (
                entry(&[], "source.ip", &["192.0.2.78", "10.0.0.0/8"]),
                false,
            ),
            (entry(&[], "destination.port", &["2121"]), true),
            (entry(&[], "user.name", &["scan\"ner"]), true),
        ];
        for (en, want) in table {
            assert_eq!(compile_allow(&en).unwrap().cond.eval(&e), want, "{en:?}");
        }
    }

    #[test]
    fn rule_selection_and_errors() {
        let a = compile_allow(&entry(
            &["firewall.*", "cross.ftp_off_port"],
            "source.ip",
            &["192.0.2.1"],
        ))
        .unwrap();
        assert!(a.applies_to("firewall.port_scan"));
        assert!(a.applies_to("cross.ftp_off_port"));
        assert!(!a.applies_to("ftp.brute_force"));
        assert!(compile_allow(&entry(&[], "source.addr", &["1.2.3.4"]))
            .unwrap_err()
            .contains("unknown field"));
        assert!(compile_allow(&entry(&[], "destination.port", &["ssh"])).is_err());
        assert!(compile_allow(&entry(&[], "source.ip", &[])).is_err());
    }
}

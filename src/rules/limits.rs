//! The engine's hard caps on state, from the `[limits]` table of the configuration. Each
//! defaults to the named constant beside the state it bounds (the constant's comment says why
//! that number); a host with less memory, or a larger network, sets its own.

use super::compact::{MAX_COMPACT_GROUPS, MAX_COMPACT_VALUES};
use super::first_seen::MAX_FIRST_SEEN_VALUES;
use super::join::MAX_JOIN_PENDING;
use super::sequence::MAX_SEQUENCE_EVENTS;
use super::trw::MAX_CONTACTS;
use super::window::{MAX_GROUPS_PER_RULE, MAX_VALUES_PER_GROUP};
use serde::Deserialize;

/// Caps on the engine's state. Hitting one is counted (`portcullis stats`), never an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Groups one windowed rule (`count`, `distinct`, joins, sequences) tracks at once.
    pub groups_per_rule: usize,
    /// Distinct values one group of a `distinct` rule remembers.
    pub values_per_group: usize,
    /// Groups one long-window, random-walk or first-seen rule tracks (compact state).
    pub compact_groups: usize,
    /// Distinct values one compact group of a long `distinct` rule remembers.
    pub compact_values: usize,
    /// Events one join rule holds while they wait for a partner.
    pub join_pending: usize,
    /// Step events one group of a `sequence` rule remembers.
    pub sequence_events: usize,
    /// Values one group of a `first_seen` rule remembers.
    pub first_seen_values: usize,
    /// First contacts a random walk remembers per undecided source.
    pub trw_contacts: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            groups_per_rule: MAX_GROUPS_PER_RULE,
            values_per_group: MAX_VALUES_PER_GROUP,
            compact_groups: MAX_COMPACT_GROUPS,
            compact_values: MAX_COMPACT_VALUES,
            join_pending: MAX_JOIN_PENDING,
            sequence_events: MAX_SEQUENCE_EVENTS,
            first_seen_values: MAX_FIRST_SEEN_VALUES,
            trw_contacts: MAX_CONTACTS,
        }
    }
}

impl Limits {
    /// Checks that every cap is at least 1 (a cap of 0 would silently disable rules).
    pub fn validate(&self) -> Result<(), String> {
        let caps = [
            ("groups_per_rule", self.groups_per_rule),
            ("values_per_group", self.values_per_group),
            ("compact_groups", self.compact_groups),
            ("compact_values", self.compact_values),
            ("join_pending", self.join_pending),
            ("sequence_events", self.sequence_events),
            ("first_seen_values", self.first_seen_values),
            ("trw_contacts", self.trw_contacts),
        ];
        match caps.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("[limits] {name} must be at least 1")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_keys_take_the_defaults_and_zero_is_refused() {
        let l: Limits = toml::from_str("groups_per_rule = 10").unwrap();
        assert_eq!(
            l,
            Limits {
                groups_per_rule: 10,
                ..Limits::default()
            }
        );
        assert_eq!(l.validate(), Ok(()));
        let l: Limits = toml::from_str("join_pending = 0").unwrap();
        assert_eq!(
            l.validate(),
            Err("[limits] join_pending must be at least 1".into())
        );
        assert!(toml::from_str::<Limits>("groups = 1").is_err());
    }
}

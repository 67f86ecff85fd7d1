//! Group and join keys read straight from an event: hashed and compared field by field
//! without building a `Vec<Value>` (one is built only when a new group is stored), and
//! field values borrowed instead of copied.

use super::field::{Field, Value};
use portcullis_parsers::{Event, TcpFlags, Transport};
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::OnceLock;

/// A field value borrowed from an event or a stored [`Value`]: equal exactly when the
/// owned values are, and hashed the same whichever it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// The event does not carry the field.
    Missing,
    /// A keyword from a fixed vocabulary.
    Keyword(&'static str),
    /// An address.
    Ip(IpAddr),
    /// A number.
    Number(u64),
    /// Free text.
    Text(&'a str),
    /// A flag.
    Bool(bool),
}

/// TCP flags as text (`SYN ACK`), for every one of the 256 combinations: made once, so
/// reading `tcp.flags` allocates nothing.
fn flags_text(f: TcpFlags) -> &'static str {
    static TEXT: OnceLock<Vec<String>> = OnceLock::new();
    let all = TEXT.get_or_init(|| (0..=255u8).map(|b| TcpFlags(b).to_string()).collect());
    &all[usize::from(f.0)]
}

impl Field {
    /// Reads the field from an event without copying text (see [`Field::get`]).
    pub fn get_ref(self, e: &Event) -> ValueRef<'_> {
        fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> ValueRef<'static>) -> ValueRef<'static> {
            v.map(f).unwrap_or(ValueRef::Missing)
        }
        fn text(v: Option<&str>) -> ValueRef<'_> {
            v.map_or(ValueRef::Missing, ValueRef::Text)
        }
        match self {
            Field::Dataset => ValueRef::Keyword(e.dataset.as_str()),
            Field::Action => ValueRef::Keyword(e.action.as_str()),
            Field::Outcome => ValueRef::Keyword(e.outcome.as_str()),
            Field::SourceIp => opt(e.source_ip, ValueRef::Ip),
            Field::SourcePort => opt(e.source_port, |p| ValueRef::Number(p.into())),
            Field::DestinationIp => opt(e.destination_ip, ValueRef::Ip),
            Field::DestinationPort => opt(e.destination_port, |p| ValueRef::Number(p.into())),
            Field::Transport => opt(e.transport, |t| match t {
                Transport::Tcp => ValueRef::Keyword("tcp"),
                Transport::Udp => ValueRef::Keyword("udp"),
                Transport::Icmp => ValueRef::Keyword("icmp"),
                Transport::Icmpv6 => ValueRef::Keyword("ipv6-icmp"),
                Transport::Other(n) => ValueRef::Number(n.into()),
            }),
            Field::Bytes => opt(e.bytes, ValueRef::Number),
            Field::Packets => opt(e.packets, ValueRef::Number),
            Field::TcpFlags => opt(e.tcp_flags, |f| ValueRef::Text(flags_text(f))),
            Field::UserName => text(e.user_name.as_deref()),
            Field::FtpAnonymous => ValueRef::Bool(e.ftp_anonymous),
            Field::FilePath => text(e.file_path.as_deref()),
            Field::FileSize => opt(e.file_size, ValueRef::Number),
            Field::HostName => text(e.host_name.as_deref()),
            Field::ObserverIp => opt(e.observer_ip, ValueRef::Ip),
            Field::ProcessPid => opt(e.process_pid, |p| ValueRef::Number(p.into())),
            Field::RuleName => text(e.rule_name.as_deref()),
            Field::Duration => opt(e.duration_ns, ValueRef::Number),
        }
    }
}

impl Value {
    /// The value borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Missing => ValueRef::Missing,
            Value::Keyword(k) => ValueRef::Keyword(k),
            Value::Ip(ip) => ValueRef::Ip(*ip),
            Value::Number(n) => ValueRef::Number(*n),
            Value::Text(t) => ValueRef::Text(t),
            Value::Bool(b) => ValueRef::Bool(*b),
        }
    }
}

impl ValueRef<'_> {
    /// The value owned.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Missing => Value::Missing,
            ValueRef::Keyword(k) => Value::Keyword(k),
            ValueRef::Ip(ip) => Value::Ip(ip),
            ValueRef::Number(n) => Value::Number(n),
            ValueRef::Text(t) => Value::Text(t.into()),
            ValueRef::Bool(b) => Value::Bool(b),
        }
    }

    /// Feeds the value to a hasher: a tag, then the value in machine words.
    fn hash_into(self, h: &mut impl Hasher) {
        match self {
            ValueRef::Missing => h.write_u8(0),
            ValueRef::Keyword(k) => {
                h.write_u8(1);
                h.write(k.as_bytes());
            }
            ValueRef::Ip(IpAddr::V4(a)) => h.write_u64(2 << 32 | u64::from(u32::from(a))),
            ValueRef::Ip(IpAddr::V6(a)) => {
                h.write_u8(3);
                h.write_u128(u128::from(a));
            }
            ValueRef::Number(n) => {
                h.write_u8(4);
                h.write_u64(n);
            }
            ValueRef::Text(t) => {
                h.write_u8(5);
                h.write(t.as_bytes());
                h.write_u8(0xff);
            }
            ValueRef::Bool(b) => h.write_u8(6 + u8::from(b)),
        }
    }
}

/// A key: the rule's `by` fields of an event, or values already read.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// These fields of this event.
    Event(&'a [Field], &'a Event),
    /// Values read before (a joined pair's, a detector's).
    Values(&'a [Value]),
}

impl<'a> Key<'a> {
    /// Number of values in the key.
    pub fn len(&self) -> usize {
        match self {
            Key::Event(fields, _) => fields.len(),
            Key::Values(v) => v.len(),
        }
    }

    /// True for a key without values (a rule without `by`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th value.
    pub fn get(&self, i: usize) -> ValueRef<'a> {
        match self {
            Key::Event(fields, e) => fields[i].get_ref(e),
            Key::Values(v) => v[i].as_ref(),
        }
    }

    /// The key's hash under `state`: the same for an event's fields and for the values
    /// read from them.
    pub fn hash(&self, state: &impl BuildHasher) -> u64 {
        let mut h = state.build_hasher();
        for i in 0..self.len() {
            self.get(i).hash_into(&mut h);
        }
        h.finish()
    }

    /// True when the key equals the stored values.
    pub fn matches(&self, stored: &[Value]) -> bool {
        stored.len() == self.len()
            && stored
                .iter()
                .enumerate()
                .all(|(i, v)| self.get(i) == v.as_ref())
    }

    /// True when both keys hold equal values.
    pub fn equals(&self, other: &Key<'_>) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }

    /// The key's [`stable_hash`](super::field::stable_hash): the same in every run.
    pub fn stable_hash(&self) -> u64 {
        super::field::stable_hash_refs((0..self.len()).map(|i| self.get(i)))
    }

    /// True when one of the key's fields is missing.
    pub fn has_missing(&self) -> bool {
        (0..self.len()).any(|i| self.get(i) == ValueRef::Missing)
    }

    /// The key as owned values, to store with a new group.
    pub fn to_vec(&self) -> Vec<Value> {
        match self {
            Key::Event(fields, e) => fields.iter().map(|f| f.get(e)).collect(),
            Key::Values(v) => v.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use portcullis_parsers::{Action, Dataset};

    #[test]
    fn borrowed_values_equal_and_hash_like_owned_ones() {
        let mut e = Event::new(Utc::now(), Dataset::Iptables, Action::FirewallDeny);
        e.source_ip = Some("192.0.2.7".parse().unwrap());
        e.destination_port = Some(445);
        e.tcp_flags = Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        e.user_name = Some("a-user-name-longer-than-24-bytes".into());
        let fields = [
            Field::SourceIp,
            Field::DestinationPort,
            Field::TcpFlags,
            Field::UserName,
            Field::FilePath,
            Field::Action,
            Field::FtpAnonymous,
        ];
        for f in fields {
            assert_eq!(f.get_ref(&e), f.get(&e).as_ref(), "{f:?}");
            assert_eq!(f.get_ref(&e).to_value(), f.get(&e), "{f:?}");
        }
        let owned: Vec<Value> = fields.iter().map(|f| f.get(&e)).collect();
        let state = foldhash::fast::RandomState::default();
        let (a, b) = (Key::Event(&fields, &e), Key::Values(&owned));
        assert_eq!(a.hash(&state), b.hash(&state));
        assert!(a.matches(&owned) && b.matches(&owned));
        assert_eq!(a.to_vec(), owned);
        e.destination_port = Some(446);
        assert!(!Key::Event(&fields, &e).matches(&owned));
        assert_ne!(Key::Event(&fields, &e).hash(&state), b.hash(&state));
    }
}

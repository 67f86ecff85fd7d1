//! Compiled conditions: an expression checked against the event schema, with typed literals,
//! ready to evaluate on every event without parsing or allocating.

use super::ast::{CmpOp, Expr, Literal};
use super::field::{Field, FieldType, Value};
use super::key::ValueRef;
use portcullis_parsers::{Action, Dataset, Event, Outcome};
use std::net::IpAddr;

/// A compile error inside an expression: byte offset in the file and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    /// Byte offset into the rule file.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// An address block, `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// True when `ip` lies in the block (an IPv4 address never lies in an IPv6 block).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A compiled regular expression; equal when the patterns are.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// Largest compiled form a rule's regular expression may take: bounds the memory and the
/// per-event cost of a careless or hostile pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A condition over one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// Always true (a rule without `where`).
    True,
    /// All must hold.
    And(Box<Cond>, Box<Cond>),
    /// One must hold.
    Or(Box<Cond>, Box<Cond>),
    /// Negation; `!=` and `not in` compile to this, so they hold for a missing field.
    Not(Box<Cond>),
    /// `event.action in [...]` as a bit set over `Action::ALL`.
    Action(u32),
    /// `event.dataset in [...]` as a bit set over `Dataset::ALL`.
    Dataset(u32),
    /// `event.outcome in [...]` as a bit set over `Outcome::ALL`.
    Outcome(u32),
    /// Any field equal to one of the values.
    In(Field, Vec<Value>),
    /// A numeric field compared with a number.
    Num(Field, CmpOp, u64),
    /// An address field inside one of the blocks.
    InCidr(Field, Vec<Cidr>),
    /// A text field matched by a regular expression (unanchored, like `grep -E`).
    Matches(Field, Pattern),
    /// A test on a field with at most 256 values ([`Field::Transport`] by protocol number,
    /// [`Field::TcpFlags`] by flag bits), compiled to the set of values that pass: one bit
    /// test per event instead of a text comparison or a regular expression.
    Byte(Field, Box<ByteSet>),
}

/// A set of byte values, one bit each.
pub type ByteSet = [u64; 4];

/// The bit of a keyword value in a mask built over its `ALL` list: the enums list their
/// variants in declaration order, so the discriminant is the index (checked by a test).
fn bit(discriminant: u8) -> u32 {
    1u32.checked_shl(u32::from(discriminant)).unwrap_or(0)
}

impl Cond {
    /// Evaluates the condition on an event. The one-test conditions most rules reduce to
    /// (once their action tests are settled) are decided inline at the call site.
    #[inline]
    pub fn eval(&self, e: &Event) -> bool {
        match self {
            Cond::True => true,
            Cond::Outcome(mask) => mask & bit(e.outcome as u8) != 0,
            Cond::Byte(field, set) => byte_in(*field, set, e),
            _ => self.eval_tree(e),
        }
    }

    /// [`Cond::eval`] for every kind of condition.
    fn eval_tree(&self, e: &Event) -> bool {
        match self {
            Cond::True => true,
            Cond::And(a, b) => a.eval(e) && b.eval(e),
            Cond::Or(a, b) => a.eval(e) || b.eval(e),
            Cond::Not(a) => !a.eval(e),
            Cond::Action(mask) => mask & bit(e.action as u8) != 0,
            Cond::Dataset(mask) => mask & bit(e.dataset as u8) != 0,
            Cond::Outcome(mask) => mask & bit(e.outcome as u8) != 0,
            Cond::In(field, values) => {
                let v = field.get_ref(e);
                v != ValueRef::Missing && values.iter().any(|x| x.as_ref() == v)
            }
            Cond::Num(field, op, n) => match field.get_ref(e) {
                ValueRef::Number(v) => match op {
                    CmpOp::Eq => v == *n,
                    CmpOp::Ne => v != *n,
                    CmpOp::Lt => v < *n,
                    CmpOp::Le => v <= *n,
                    CmpOp::Gt => v > *n,
                    CmpOp::Ge => v >= *n,
                },
                _ => false,
            },
            Cond::InCidr(field, blocks) => match field.get_ref(e) {
                ValueRef::Ip(ip) => blocks.iter().any(|b| b.contains(ip)),
                _ => false,
            },
            Cond::Matches(field, re) => match field.get_ref(e) {
                ValueRef::Text(t) => re.0.is_match(t),
                _ => false,
            },
            Cond::Byte(field, set) => byte_in(*field, set, e),
        }
    }

    /// The condition for events whose action is in `actions` (a mask from
    /// [`Cond::actions`]): action tests that every such event passes become `True`, so a
    /// rule whose filter only names actions costs nothing once the engine's action
    /// prefilter has passed the event.
    pub fn given_actions(&self, actions: u32) -> Cond {
        match self {
            Cond::Action(mask) if mask & actions == actions => Cond::True,
            Cond::And(a, b) => match (a.given_actions(actions), b.given_actions(actions)) {
                (Cond::True, c) | (c, Cond::True) => c,
                (a, b) => Cond::And(Box::new(a), Box::new(b)),
            },
            Cond::Or(a, b) => match (a.given_actions(actions), b.given_actions(actions)) {
                (Cond::True, _) | (_, Cond::True) => Cond::True,
                (a, b) => Cond::Or(Box::new(a), Box::new(b)),
            },
            Cond::Not(a) => Cond::Not(Box::new(a.given_actions(actions))),
            c => c.clone(),
        }
    }
}

/// True when the byte `field` reads from `e` (the protocol number, the TCP flag bits) is
/// in `set`; false when the event lacks the field.
#[inline]
fn byte_in(field: Field, set: &ByteSet, e: &Event) -> bool {
    let b = match field {
        Field::Transport => e.transport.map(|t| t.number()),
        Field::TcpFlags => e.tcp_flags.map(|f| f.0),
        _ => None,
    };
    b.is_some_and(|b| set[usize::from(b >> 6)] >> (b & 63) & 1 != 0)
}

/// `leaf` as a [`Cond::Byte`] when it tests a byte-valued field: evaluated once on an
/// event carrying each of the 256 values (protocol numbers read as events carry them).
fn as_byte_set(leaf: Cond) -> Cond {
    let field = match &leaf {
        Cond::In(f, _) | Cond::Matches(f, _) => *f,
        _ => return leaf,
    };
    if !matches!(field, Field::Transport | Field::TcpFlags) {
        return leaf;
    }
    let mut set: ByteSet = [0; 4];
    for b in 0..=255u8 {
        let mut probe = Event::new(
            chrono::DateTime::UNIX_EPOCH,
            Dataset::Iptables,
            Action::Flow,
        );
        probe.transport = Some(portcullis_parsers::Transport::from_number(b));
        probe.tcp_flags = Some(portcullis_parsers::TcpFlags(b));
        if leaf.eval(&probe) {
            set[usize::from(b >> 6)] |= 1 << (b & 63);
        }
    }
    Cond::Byte(field, Box::new(set))
}

impl Cond {
    /// The actions of events the condition can hold for, as a bit set over `Action::ALL`
    /// (a superset: every action where the condition does not look at the action). The
    /// engine checks this one mask before evaluating the whole condition, so most rules skip
    /// most events with a single AND.
    pub fn actions(&self) -> u32 {
        match self {
            Cond::Action(mask) => *mask,
            Cond::And(a, b) => a.actions() & b.actions(),
            Cond::Or(a, b) => a.actions() | b.actions(),
            // `not` of an action test could be sharpened, but rules rarely write one.
            Cond::True
            | Cond::Not(_)
            | Cond::Dataset(_)
            | Cond::Outcome(_)
            | Cond::In(..)
            | Cond::Num(..)
            | Cond::InCidr(..)
            | Cond::Matches(..)
            | Cond::Byte(..) => u32::MAX,
        }
    }
}

/// True when `action` is in a mask from [`Cond::actions`].
pub fn action_in(mask: u32, action: Action) -> bool {
    mask & bit(action as u8) != 0
}

/// Resolves a field name, or says which names exist.
pub fn resolve_field(name: &str, at: usize) -> Result<Field, CondError> {
    Field::from_name(name).ok_or_else(|| CondError {
        at,
        message: format!(
            "unknown field `{name}`; known fields: {}",
            Field::ALL
                .iter()
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// Compiles an expression against the event schema.
pub fn compile_expr(expr: &Expr) -> Result<Cond, CondError> {
    Ok(match expr {
        Expr::And(a, b) => Cond::And(Box::new(compile_expr(a)?), Box::new(compile_expr(b)?)),
        Expr::Or(a, b) => Cond::Or(Box::new(compile_expr(a)?), Box::new(compile_expr(b)?)),
        Expr::Not(a) => Cond::Not(Box::new(compile_expr(a)?)),
        Expr::Truthy(f) => {
            let field = resolve_field(&f.name, f.at)?;
            if field.field_type() != FieldType::Bool {
                return Err(CondError {
                    at: f.at,
                    message: format!("`{}` is not a true/false field; compare it", f.name),
                });
            }
            Cond::In(field, vec![Value::Bool(true)])
        }
        Expr::Cmp(f, op, lit, at) => {
            let field = resolve_field(&f.name, f.at)?;
            match op {
                CmpOp::Eq => membership(field, std::slice::from_ref(lit), *at)?,
                CmpOp::Ne => Cond::Not(Box::new(membership(
                    field,
                    std::slice::from_ref(lit),
                    *at,
                )?)),
                _ => match (field.field_type(), lit) {
                    (FieldType::Number, Literal::Int(n)) => Cond::Num(field, *op, *n),
                    _ => {
                        return Err(CondError {
                            at: *at,
                            message: format!(
                                "`<`, `<=`, `>`, `>=` need a numeric field and a number; `{}` is not numeric",
                                f.name
                            ),
                        })
                    }
                },
            }
        }
        Expr::In(f, lits, at) => membership(resolve_field(&f.name, f.at)?, lits, *at)?,
        Expr::Matches(f, pattern, at) => {
            let field = resolve_field(&f.name, f.at)?;
            if field.field_type() != FieldType::Text {
                return Err(CondError {
                    at: *at,
                    message: format!("`matches` needs a text field; `{}` is not text", f.name),
                });
            }
            let re = regex::RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| CondError {
                    at: *at,
                    message: format!("bad regular expression: {e}"),
                })?;
            as_byte_set(Cond::Matches(field, Pattern(re)))
        }
    })
}

/// `field in [literals]` (and `==`, a one-element list), typed by the field.
fn membership(field: Field, lits: &[Literal], at: usize) -> Result<Cond, CondError> {
    let err = |message: String| CondError { at, message };
    let name = field.name();
    match field {
        Field::Action => {
            return keyword_mask(field, lits, at, Action::ALL, |a| a.as_str()).map(Cond::Action)
        }
        Field::Dataset => {
            return keyword_mask(field, lits, at, Dataset::ALL, |d| d.as_str()).map(Cond::Dataset)
        }
        Field::Outcome => {
            return keyword_mask(field, lits, at, Outcome::ALL, |o| o.as_str()).map(Cond::Outcome)
        }
        _ => {}
    }
    let ty = field.field_type();
    // Address lists with at least one block: every address is a block of one.
    if ty == FieldType::Ip
        && lits.iter().any(|l| matches!(l, Literal::Cidr(..)))
        && lits
            .iter()
            .all(|l| matches!(l, Literal::Cidr(..) | Literal::Ip(_)))
    {
        let blocks = lits
            .iter()
            .map(|l| match l {
                Literal::Cidr(net, bits) => Cidr {
                    net: *net,
                    bits: *bits,
                },
                Literal::Ip(ip) => Cidr {
                    net: *ip,
                    bits: if ip.is_ipv4() { 32 } else { 128 },
                },
                _ => unreachable!("checked above"),
            })
            .collect();
        return Ok(Cond::InCidr(field, blocks));
    }
    let mut values = Vec::with_capacity(lits.len());
    for lit in lits {
        let v = match (ty, lit) {
            (FieldType::Ip, Literal::Ip(ip)) => Value::Ip(*ip),
            (FieldType::Number, Literal::Int(n)) => Value::Number(*n),
            (FieldType::Text, Literal::Str(s)) => Value::Text(s.as_str().into()),
            (FieldType::Bool, Literal::Bool(b)) => Value::Bool(*b),
            (FieldType::Keyword, Literal::Str(s)) if field == Field::Transport => {
                match portcullis_parsers::Transport::from_name(s) {
                    Some(t) => Field::Transport.get(&transport_probe(t)),
                    None => return Err(err(format!("unknown transport {s:?}"))),
                }
            }
            (FieldType::Keyword, Literal::Int(n)) if field == Field::Transport => {
                match u8::try_from(*n) {
                    Ok(n) => Field::Transport.get(&transport_probe(
                        portcullis_parsers::Transport::from_number(n),
                    )),
                    Err(_) => return Err(err(format!("protocol number {n} is over 255"))),
                }
            }
            (_, Literal::Cidr(..)) => {
                return Err(err(format!(
                    "`{name}` cannot mix address blocks with other values"
                )))
            }
            _ => return Err(err(format!("`{name}` cannot be compared with {lit:?}"))),
        };
        values.push(v);
    }
    Ok(as_byte_set(Cond::In(field, values)))
}

/// An event carrying only a transport, to normalise transport literals the way events read.
fn transport_probe(t: portcullis_parsers::Transport) -> Event {
    let mut e = Event::new(
        chrono::DateTime::UNIX_EPOCH,
        Dataset::Iptables,
        Action::Flow,
    );
    e.transport = Some(t);
    e
}

fn keyword_mask<T: Copy>(
    field: Field,
    lits: &[Literal],
    at: usize,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<u32, CondError> {
    let mut mask = 0;
    for lit in lits {
        let Literal::Str(s) = lit else {
            return Err(CondError {
                at,
                message: format!("`{}` takes quoted names", field.name()),
            });
        };
        let i = all
            .iter()
            .position(|v| name(*v) == s)
            .ok_or_else(|| CondError {
                at,
                message: format!(
                    "unknown {} {s:?}; known: {}",
                    field.name(),
                    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ")
                ),
            })?;
        mask |= 1 << i;
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::lang::parse_rule;
    use chrono::Utc;

    fn cond(text: &str) -> Result<Cond, CondError> {
        let rule = parse_rule(&format!(
            "rule t title \"t\" severity low count 1 within 1s where {text}"
        ))
        .expect("syntax");
        compile_expr(rule.filter.as_ref().unwrap())
    }

    fn firewall_event() -> Event {
        let mut e = Event::new(Utc::now(), Dataset::Iptables, Action::FirewallDeny);
        e.source_ip = Some("10.1.2.3".parse().unwrap());
        e.destination_port = Some(445);
        e.transport = Some(portcullis_parsers::Transport::Tcp);
        e.tcp_flags = Some(portcullis_parsers::TcpFlags(
            portcullis_parsers::TcpFlags::SYN,
        ));
        e.set_ended_after(90_000_000_000);
        e
    }

    #[test]
    fn conditions_evaluate_as_written() {
        let e = firewall_event();
        let table: &[(&str, bool)] = &[
            (r#"event.action == "firewall.deny""#, true),
            (r#"event.action in ["firewall.allow", "flow"]"#, false),
            ("destination.port not in [21, 990]", true),
            ("destination.port >= 1024", false),
            ("source.ip in 10.0.0.0/8", true),
            ("source.ip in [192.168.0.0/16, 172.16.0.0/12]", false),
            ("source.ip == 10.1.2.3", true),
            (r#"network.transport == "tcp""#, true),
            ("network.transport == 6", true),
            ("source.port == 1", false),
            ("source.port != 1", true),
            (r#"user.name == "root" or not ftp.anonymous"#, true),
            (
                r#"(destination.port == 445 and event.outcome == "unknown")"#,
                true,
            ),
            (r#"tcp.flags matches "SYN""#, true),
            (r#"user.name matches ".""#, false),
            ("event.duration > 60000000000", true),
            ("event.duration >= 3600000000000", false),
        ];
        for (text, want) in table {
            assert_eq!(cond(text).unwrap().eval(&e), *want, "{text}");
        }
    }

    #[test]
    fn schema_errors_name_the_problem() {
        let table: &[(&str, &str)] = &[
            ("source.addr == 1.2.3.4", "unknown field `source.addr`"),
            (
                r#"event.action == "ftp.logn""#,
                "unknown event.action \"ftp.logn\"",
            ),
            (
                r#"destination.port == "21""#,
                "`destination.port` cannot be compared",
            ),
            ("user.name > 3", "`<`, `<=`, `>`, `>=` need a numeric field"),
            ("source.port", "`source.port` is not a true/false field"),
            (r#"source.port matches "1""#, "`matches` needs a text field"),
            (r#"user.name matches "(""#, "bad regular expression"),
        ];
        for (text, want) in table {
            let err = cond(text).unwrap_err();
            assert!(err.message.starts_with(want), "{text}: {}", err.message);
        }
    }

    #[test]
    fn keyword_lists_are_in_declaration_order() {
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(*a as usize, i, "{a:?}");
        }
        for (i, d) in Dataset::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i, "{d:?}");
        }
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(*o as usize, i, "{o:?}");
        }
        assert!(Action::ALL.len() <= 32 && Dataset::ALL.len() <= 32);
    }

    #[test]
    fn action_masks_are_supersets() {
        let e = firewall_event();
        let table: &[(&str, bool)] = &[
            (r#"event.action == "firewall.deny""#, true),
            (
                r#"event.action == "flow" and destination.port == 445"#,
                false,
            ),
            (r#"event.action == "flow" or destination.port == 445"#, true),
            (r#"not event.action == "firewall.deny""#, true),
            ("destination.port == 1", true),
        ];
        for (text, want) in table {
            assert_eq!(
                action_in(cond(text).unwrap().actions(), e.action),
                *want,
                "{text}"
            );
        }
    }

    #[test]
    fn byte_fields_compile_to_sets_that_read_as_written() {
        use portcullis_parsers::{TcpFlags, Transport};
        let tcp = cond(r#"network.transport == "tcp""#).unwrap();
        let ack = cond(r#"tcp.flags matches "ACK""#).unwrap();
        let not_udp = cond(r#"network.transport != "udp""#).unwrap();
        assert!(matches!(tcp, Cond::Byte(Field::Transport, _)), "{tcp:?}");
        assert!(matches!(ack, Cond::Byte(Field::TcpFlags, _)), "{ack:?}");
        let mut e = firewall_event();
        // (transport, flags), then what `tcp`, `ack` and `not udp` say.
        type Row = ((Option<Transport>, Option<u8>), (bool, bool, bool));
        let table: &[Row] = &[
            (
                (Some(Transport::Tcp), Some(TcpFlags::SYN)),
                (true, false, true),
            ),
            (
                (Some(Transport::Udp), Some(TcpFlags::SYN | TcpFlags::ACK)),
                (false, true, false),
            ),
            (
                (Some(Transport::Other(47)), Some(TcpFlags::ACK)),
                (false, true, true),
            ),
            // Missing fields match nothing; `!=` holds for them.
            ((None, None), (false, false, true)),
        ];
        for &((transport, flags), want) in table {
            e.transport = transport;
            e.tcp_flags = flags.map(TcpFlags);
            let got = (tcp.eval(&e), ack.eval(&e), not_udp.eval(&e));
            assert_eq!(got, want, "{transport:?} {flags:?}");
        }
    }

    #[test]
    fn action_tests_settled_by_the_prefilter_are_left_out() {
        let given = |text: &str| {
            let c = cond(text).unwrap();
            c.given_actions(c.actions())
        };
        assert_eq!(given(r#"event.action == "firewall.deny""#), Cond::True);
        assert_eq!(
            given(r#"event.action == "ftp.login" and event.outcome == "failure""#),
            cond(r#"event.outcome == "failure""#).unwrap()
        );
        // Each side of an `or` names only part of the mask: both stay.
        let either = r#"event.action == "flow" or event.action == "firewall.deny""#;
        assert_eq!(given(either), cond(either).unwrap());
        let e = firewall_event();
        let deny_and_port = r#"event.action == "firewall.deny" and destination.port == 445"#;
        assert!(given(deny_and_port).eval(&e));
    }

    #[test]
    fn cidr_edges() {
        let c = Cidr {
            net: "0.0.0.0".parse().unwrap(),
            bits: 0,
        };
        assert!(c.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c = Cidr {
            net: "2001:db8::".parse().unwrap(),
            bits: 32,
        };
        assert!(c.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!c.contains("2001:db9::".parse().unwrap()));
    }
}

//! The syntax tree of a rule file, as written: names are still strings, values untyped.
//! `compile` checks it against the event schema.

use std::time::Duration;

/// A literal in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `"text"`.
    Str(String),
    /// `42`.
    Int(u64),
    /// `true` / `false`.
    Bool(bool),
    /// `192.0.2.1` or `2001:db8::1`.
    Ip(std::net::IpAddr),
    /// `10.0.0.0/8`.
    Cidr(std::net::IpAddr, u8),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A field name as written, with its position for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// The dotted name (`source.ip`).
    pub name: String,
    /// Byte offset of the name in the rule file.
    pub at: usize,
}

/// A boolean condition over one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// `field op literal`.
    Cmp(FieldRef, CmpOp, Literal, usize),
    /// `field in [literals]` (a single CIDR literal may stand without brackets).
    In(FieldRef, Vec<Literal>, usize),
    /// `field matches "regex"`.
    Matches(FieldRef, String, usize),
    /// `field` alone: a boolean field that is true.
    Truthy(FieldRef),
}

/// The correlation a rule performs.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeAst {
    /// `count N`: N matching events per group.
    Count(u64),
    /// `distinct FIELD N`: N distinct values of FIELD per group.
    Distinct(FieldRef, u64),
    /// `join on KEYS left EXPR right EXPR`: an event of each side with equal keys.
    Join {
        /// Join keys; a key marked optional (`destination.ip?`) matches when either side lacks it.
        keys: Vec<(FieldRef, bool)>,
        /// Condition for the left side (the event that asks for a partner).
        left: Expr,
        /// Condition for the right side (the partner).
        right: Expr,
        /// `join unmatched`: report left events that find no partner instead.
        unmatched: bool,
    },
    /// `sequence step EXPR [times N] step EXPR ...`: steps in order per group.
    Sequence(Vec<(Expr, u64)>),
    /// `trw FIELD, ...`: threshold random walk over first contacts with distinct values of the
    /// fields (Jung et al. 2004).
    Trw(Vec<FieldRef>),
    /// `first_seen FIELD`: a value of FIELD never seen before for the group.
    FirstSeen(FieldRef),
}

/// One rule file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleAst {
    /// `rule NAME`.
    pub name: String,
    /// `title "..."` with `{field}` placeholders.
    pub title: String,
    /// `severity low|medium|high|critical`.
    pub severity: String,
    /// `where EXPR`: the event filter (for joins: applied to the joined pair).
    pub filter: Option<Expr>,
    /// The correlation shape.
    pub shape: ShapeAst,
    /// `within DURATION`: the window (for joins: the time tolerance).
    pub within: Duration,
    /// `by FIELD, ...`: group keys.
    pub by: Vec<FieldRef>,
    /// `quiet DURATION`: silence that ends an incident.
    pub quiet: Option<Duration>,
    /// `until EXPR`: an event that cancels a sequence in progress.
    pub until: Option<Expr>,
    /// `learn DURATION`: how long `first_seen` only learns before it reports.
    pub learn: Option<Duration>,
}

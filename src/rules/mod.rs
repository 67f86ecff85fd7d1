//! Correlation rules: the language (`lang`), its compilation against the event schema
//! (`cond`, this module) and the engine that runs them (`engine`).

pub mod allow;
pub mod ast;
pub mod compact;
pub mod cond;
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod field;
pub mod first_seen;
pub mod join;
pub mod key;
pub mod lang;
pub mod limits;
pub mod sequence;
pub mod shards;
pub mod template;
pub mod time;
pub mod trw;
pub mod window;

use ast::ShapeAst;
use cond::{compile_expr, resolve_field, Cond, CondError};
use field::Field;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use template::Template;

/// How bad an incident is, in CVSS-style bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Worth a look (CVSS 0.1–3.9).
    Low,
    /// Likely hostile (4.0–6.9).
    Medium,
    /// Hostile and working (7.0–8.9).
    High,
    /// Act now (9.0–10.0).
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Looks a severity up by name.
    pub fn from_name(s: &str) -> Option<Severity> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What a rule correlates.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// N matching events per group within the window.
    Count(u64),
    /// N distinct values of a field per group within the window.
    Distinct(Field, u64),
    /// A left event and a right event with equal keys within the tolerance.
    Join {
        /// Keys and whether each is optional (matches when either side lacks it).
        keys: Vec<(Field, bool)>,
        /// Condition for the left side.
        left: Cond,
        /// Condition for the right side.
        right: Cond,
        /// Report left events without a partner (e.g. traffic to port 21 that no FTP server
        /// logged) instead of pairs.
        unmatched: bool,
    },
    /// Steps in order per group within the window; each step must match `times` events.
    Sequence(Vec<(Cond, u64)>),
    /// Threshold random walk over first contacts with new values of these fields.
    Trw(Vec<Field>),
    /// A value of the field never seen for the group, after the learning period.
    FirstSeen(Field),
}

/// Learning period of a `first_seen` rule that does not say: a day sees every daily job.
pub const DEFAULT_LEARN: Duration = Duration::from_secs(86_400);

/// Silence after which an incident of a join rule ends, when the rule does not say.
pub const DEFAULT_JOIN_QUIET: Duration = Duration::from_secs(3600);

/// A compiled rule, ready for the engine.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique name, e.g. `ftp.brute_force`.
    pub name: String,
    /// Incident title template.
    pub title: Template,
    /// Severity of its incidents.
    pub severity: Severity,
    /// Event filter (for joins: applied to the joined pair).
    pub filter: Cond,
    /// The correlation.
    pub shape: Shape,
    /// Window length (for joins: time tolerance).
    pub within: Duration,
    /// Group keys of its incidents.
    pub by: Vec<Field>,
    /// Silence that ends an incident; later activity opens a new one.
    pub quiet: Duration,
    /// Cancels a sequence in progress (`until`).
    pub until: Option<Cond>,
    /// Learning period of a `first_seen` rule.
    pub learn: Duration,
    /// Allowlist conditions from configuration: matching events (joined pairs, for joins)
    /// are not seen by the rule.
    pub allow: Vec<Cond>,
    /// The file it was read from.
    pub file: PathBuf,
}

/// A rule that does not load: file, line and column, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct RuleError {
    /// The rule file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was expected or what is wrong.
    pub message: String,
}

impl RuleError {
    fn at(file: &Path, text: &str, offset: usize, message: String) -> RuleError {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        RuleError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    }
}

/// Parses and compiles one rule file's text.
pub fn compile_rule(file: &Path, text: &str) -> Result<Rule, RuleError> {
    let ast = lang::parse_rule(text)
        .map_err(|e| RuleError::at(file, text, e.at, format!("expected {}", e.expected)))?;
    let cerr = |e: CondError| RuleError::at(file, text, e.at, e.message);
    let severity = Severity::from_name(&ast.severity).ok_or_else(|| {
        let at = text.find(&ast.severity).unwrap_or(0);
        RuleError::at(
            file,
            text,
            at,
            format!(
                "unknown severity `{}`; use low, medium, high or critical",
                ast.severity
            ),
        )
    })?;
    let filter = match &ast.filter {
        Some(e) => compile_expr(e).map_err(cerr)?,
        None => Cond::True,
    };
    let shape = match &ast.shape {
        ShapeAst::Count(n) => Shape::Count(*n),
        ShapeAst::Distinct(f, n) => {
            Shape::Distinct(resolve_field(&f.name, f.at).map_err(cerr)?, *n)
        }
        ShapeAst::Join {
            keys,
            left,
            right,
            unmatched,
        } => Shape::Join {
            unmatched: *unmatched,
            keys: keys
                .iter()
                .map(|(f, optional)| Ok((resolve_field(&f.name, f.at)?, *optional)))
                .collect::<Result<_, _>>()
                .map_err(cerr)?,
            left: compile_expr(left).map_err(cerr)?,
            right: compile_expr(right).map_err(cerr)?,
        },
        ShapeAst::Sequence(steps) => Shape::Sequence(
            steps
                .iter()
                .map(|(e, n)| Ok((compile_expr(e)?, *n)))
                .collect::<Result<_, _>>()
                .map_err(cerr)?,
        ),
        ShapeAst::Trw(fields) => Shape::Trw(
            fields
                .iter()
                .map(|f| resolve_field(&f.name, f.at))
                .collect::<Result<_, _>>()
                .map_err(cerr)?,
        ),
        ShapeAst::FirstSeen(f) => Shape::FirstSeen(resolve_field(&f.name, f.at).map_err(cerr)?),
    };
    let until = match (&ast.until, &shape) {
        (None, _) => None,
        (Some(e), Shape::Sequence(_)) => Some(compile_expr(e).map_err(cerr)?),
        (Some(_), _) => {
            let at = text.find("until").unwrap_or(0);
            return Err(RuleError::at(
                file,
                text,
                at,
                "`until` belongs to a `sequence` rule".into(),
            ));
        }
    };
    if let Shape::Sequence(steps) = &shape {
        if steps.len() > 64 {
            let at = text.find("sequence").unwrap_or(0);
            return Err(RuleError::at(
                file,
                text,
                at,
                "a sequence has at most 64 steps".into(),
            ));
        }
        if steps.iter().any(|(_, n)| *n == 0) {
            let at = text.find("times").unwrap_or(0);
            return Err(RuleError::at(
                file,
                text,
                at,
                "a step must match at least once".into(),
            ));
        }
    }
    if matches!(shape, Shape::Count(0) | Shape::Distinct(_, 0)) {
        let at = text
            .find("count")
            .or_else(|| text.find("distinct"))
            .unwrap_or(0);
        return Err(RuleError::at(
            file,
            text,
            at,
            "a threshold must be at least 1".into(),
        ));
    }
    let mut by = ast
        .by
        .iter()
        .map(|f| resolve_field(&f.name, f.at))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cerr)?;
    // A first-seen incident is about one new value: the value is part of its group.
    if let Shape::FirstSeen(f) = shape {
        if !by.contains(&f) {
            by.push(f);
        }
    }
    if ast.learn.is_some() && !matches!(shape, Shape::FirstSeen(_)) {
        let at = text.find("learn").unwrap_or(0);
        return Err(RuleError::at(
            file,
            text,
            at,
            "`learn` belongs to a `first_seen` rule".into(),
        ));
    }
    let title = Template::parse(&ast.title).map_err(|m| {
        let at = text.find(&ast.title).unwrap_or(0);
        RuleError::at(file, text, at, m)
    })?;
    if let Some(f) = title.fields().find(|f| !by.contains(f)) {
        let at = text.find(&ast.title).unwrap_or(0);
        return Err(RuleError::at(
            file,
            text,
            at,
            format!(
                "title: `{{{}}}` is not one of the rule's `by` fields",
                f.name()
            ),
        ));
    }
    let quiet = ast.quiet.unwrap_or(match shape {
        Shape::Join { .. } => DEFAULT_JOIN_QUIET,
        _ => ast.within,
    });
    Ok(Rule {
        name: ast.name,
        title,
        severity,
        filter,
        shape,
        within: ast.within,
        by,
        quiet,
        until,
        learn: ast.learn.unwrap_or(DEFAULT_LEARN),
        allow: Vec::new(),
        file: file.to_path_buf(),
    })
}

/// The default rule pack, built into the binary so it runs with no files around it.
pub const DEFAULT_PACK: &[(&str, &str)] = &[
    (
        "ftp/anonymous-login.rule",
        include_str!("../../correlation-rules/ftp/anonymous-login.rule"),
    ),
    (
        "ftp/brute-force.rule",
        include_str!("../../correlation-rules/ftp/brute-force.rule"),
    ),
    (
        "ftp/brute-force-success.rule",
        include_str!("../../correlation-rules/ftp/brute-force-success.rule"),
    ),
    (
        "ftp/anonymous-upload.rule",
        include_str!("../../correlation-rules/ftp/anonymous-upload.rule"),
    ),
    (
        "ftp/sensitive-transfer.rule",
        include_str!("../../correlation-rules/ftp/sensitive-transfer.rule"),
    ),
    (
        "ftp/new-service-port.rule",
        include_str!("../../correlation-rules/ftp/new-service-port.rule"),
    ),
    (
        "ssh/brute-force.rule",
        include_str!("../../correlation-rules/ssh/brute-force.rule"),
    ),
    (
        "firewall/port-scan.rule",
        include_str!("../../correlation-rules/firewall/port-scan.rule"),
    ),
    (
        "firewall/host-sweep.rule",
        include_str!("../../correlation-rules/firewall/host-sweep.rule"),
    ),
    (
        "firewall/trw-scanner.rule",
        include_str!("../../correlation-rules/firewall/trw-scanner.rule"),
    ),
    (
        "firewall/slow-port-scan.rule",
        include_str!("../../correlation-rules/firewall/slow-port-scan.rule"),
    ),
    (
        "firewall/slow-host-sweep.rule",
        include_str!("../../correlation-rules/firewall/slow-host-sweep.rule"),
    ),
    (
        "cross/ftp-off-port.rule",
        include_str!("../../correlation-rules/cross/ftp-off-port.rule"),
    ),
    (
        "cross/non-ftp-on-21.rule",
        include_str!("../../correlation-rules/cross/non-ftp-on-21.rule"),
    ),
    (
        "cross/ssh-off-port.rule",
        include_str!("../../correlation-rules/cross/ssh-off-port.rule"),
    ),
];

/// All problems found while loading a rule set.
#[derive(Debug, thiserror::Error)]
pub struct RuleSetError(pub Vec<RuleError>);

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Compiles the built-in default pack.
pub fn default_rules() -> Result<Vec<Rule>, RuleSetError> {
    let sources = DEFAULT_PACK.iter().map(|(name, text)| {
        (
            PathBuf::from("correlation-rules").join(name),
            text.to_string(),
        )
    });
    compile_all(sources)
}

/// Loads every `*.rule` file under `dir` (recursively, in name order).
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, RuleSetError> {
    let mut files = Vec::new();
    collect_rule_files(dir, &mut files).map_err(|e| {
        RuleSetError(vec![RuleError {
            file: dir.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read rules: {e}"),
        }])
    })?;
    files.sort();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(text) => sources.push((f, text)),
            Err(e) => errors.push(RuleError {
                file: f,
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(RuleSetError(errors));
    }
    compile_all(sources.into_iter())
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rule_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rule") {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles a set of rule files, collecting every error and rejecting duplicate names.
fn compile_all(
    sources: impl Iterator<Item = (PathBuf, String)>,
) -> Result<Vec<Rule>, RuleSetError> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in sources {
        match compile_rule(&file, &text) {
            Ok(rule) => {
                if let Some(other) = rules.iter().find(|r| r.name == rule.name) {
                    errors.push(RuleError::at(
                        &file,
                        &text,
                        text.find(&rule.name).unwrap_or(0),
                        format!(
                            "rule `{}` is already defined in {}",
                            rule.name,
                            other.file.display()
                        ),
                    ));
                } else {
                    rules.push(rule);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(RuleSetError(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pack_compiles() {
        let rules = default_rules().unwrap();
        let names: Vec<_> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ftp.anonymous_login",
                "ftp.brute_force",
                "ftp.brute_force_success",
                "ftp.anonymous_upload",
                "ftp.sensitive_transfer",
                "ftp.new_service_port",
                "ssh.brute_force",
                "firewall.port_scan",
                "firewall.host_sweep",
                "firewall.trw_scanner",
                "firewall.slow_port_scan",
                "firewall.slow_host_sweep",
                "cross.ftp_off_port",
                "cross.non_ftp_on_21",
                "cross.ssh_off_port"
            ]
        );
    }

    #[test]
    fn shipped_directory_equals_embedded_pack() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("correlation-rules");
        let from_dir = load_dir(&dir).unwrap();
        assert_eq!(from_dir.len(), DEFAULT_PACK.len());
    }

    #[test]
    fn errors_carry_line_and_column() {
        let text =
            "rule x\ntitle \"t\"\nseverity high\nwhere source.ipp == 1.2.3.4\ncount 1 within 1s";
        let err = compile_rule(Path::new("x.rule"), text).unwrap_err();
        assert_eq!((err.line, err.column), (4, 7));
        assert!(err.message.starts_with("unknown field `source.ipp`"));
        assert!(err.to_string().starts_with("x.rule:4:7: unknown field"));
    }

    #[test]
    fn unknown_severity_and_zero_threshold_are_rejected() {
        let err = compile_rule(
            Path::new("x"),
            "rule x title \"t\" severity dire count 1 within 1s",
        )
        .unwrap_err();
        assert!(err.message.contains("unknown severity `dire`"));
        let err = compile_rule(
            Path::new("x"),
            "rule x title \"t\" severity low count 0 within 1s",
        )
        .unwrap_err();
        assert_eq!(err.message, "a threshold must be at least 1");
    }
}

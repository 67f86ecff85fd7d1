//! Templates and the template cache: what v9 and IPFIX data records look like, per exporter
//! and observation domain (v9 source ID), plus what options data told about each domain
//! (sampling rate, boot time) and the data sets that arrived before their template.
//!
//! Bounded: at most `max_exporters` exporters, `max_templates_per_exporter` templates each and
//! `max_templates` in all (a template holds at most [`MAX_TEMPLATE_FIELDS`] fields), at most
//! `pending_sets_per_exporter` buffered data sets per exporter and `max_pending_bytes` in all.
//! A template not re-sent within `template_timeout` (by the datagrams' receive times) is
//! forgotten; so are buffered sets that old. When a cap is full after expiring what is old, the
//! new template is refused (counted) so that a flood from new addresses cannot push out the
//! templates of exporters already known; a full pending buffer drops its oldest set.

use super::fields::{FlowAcc, Ie, VARLEN};
use super::{DecoderLimits, ErrorKind, Header, NetflowError};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Most fields one template may have. Real templates have under 100 (the largest vendor
/// templates in the wild, Netscaler and VMware, about 60); 512 leaves room and bounds a
/// template's memory to a few KB.
pub(crate) const MAX_TEMPLATE_FIELDS: usize = 512;

/// Most sampler ids remembered per observation domain (Cisco exports one per sampler map;
/// a router has a handful).
const MAX_SAMPLERS: usize = 64;

/// How often (in ms of receive time) the cache looks for expired entries.
const SWEEP_EVERY_MS: i64 = 60_000;

/// (observation domain or v9 source ID, template ID).
pub(crate) type Key = (u32, u16);

/// One field of a template: its meaning and its length ([`VARLEN`]: variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub ie: Ie,
    pub len: u16,
}

/// A field that matters, at a fixed offset of a fixed-length record.
#[derive(Debug, Clone, Copy)]
struct Op {
    off: usize,
    len: usize,
    ie: Ie,
}

/// A data or options template, ready to read records with.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    fields: Box<[Field]>,
    /// For fixed-length templates: the fields that are not skipped, by offset.
    ops: Box<[Op]>,
    /// Record length (fixed) or shortest record (variable: 1 byte per variable field).
    min_len: usize,
    variable: bool,
    /// Options template: its records describe the exporter, not flows.
    pub options: bool,
}

impl Template {
    /// A template of these fields.
    pub(crate) fn new(fields: Vec<Field>, options: bool) -> Template {
        let variable = fields.iter().any(|f| f.len == VARLEN);
        let mut ops = Vec::new();
        let mut off = 0usize;
        for f in &fields {
            if f.len == VARLEN {
                off += 1;
                continue;
            }
            if f.ie != Ie::Skip {
                ops.push(Op {
                    off,
                    len: usize::from(f.len),
                    ie: f.ie,
                });
            }
            off += usize::from(f.len);
        }
        Template {
            fields: fields.into_boxed_slice(),
            ops: if variable { Box::new([]) } else { ops.into() },
            min_len: off,
            variable,
            options,
        }
    }

    /// Checks that the records of a data set body (starting at byte `at` of the datagram) can
    /// be read: only variable-length records can overrun their set.
    pub(crate) fn check(&self, body: &[u8], at: usize, version: u16) -> Result<(), NetflowError> {
        if self.variable {
            self.walk(body, at, version, &mut |_| {})?;
        }
        Ok(())
    }

    /// Reads every record of a data set body, calling `f` with each; returns how many.
    /// Trailing bytes shorter than a record are padding. A template whose records are 0 bytes
    /// long (only zero-length fields) reads no records.
    pub(crate) fn walk(
        &self,
        body: &[u8],
        at: usize,
        version: u16,
        f: &mut dyn FnMut(&FlowAcc),
    ) -> Result<usize, NetflowError> {
        if self.min_len == 0 {
            return Ok(0);
        }
        if !self.variable {
            let mut n = 0;
            for rec in body.chunks_exact(self.min_len) {
                let mut acc = FlowAcc::default();
                for op in self.ops.iter() {
                    if let Some(v) = rec.get(op.off..op.off + op.len) {
                        acc.apply(op.ie, v);
                    }
                }
                f(&acc);
                n += 1;
            }
            return Ok(n);
        }
        let mut pos = 0;
        let mut n = 0;
        while body.len() - pos >= self.min_len {
            let mut acc = FlowAcc::default();
            for field in self.fields.iter() {
                let len = if field.len == VARLEN {
                    let (len, used) = var_len(body, pos, at, version)?;
                    pos += used;
                    len
                } else {
                    usize::from(field.len)
                };
                let v = body.get(pos..pos + len).ok_or_else(|| {
                    NetflowError::new(
                        version,
                        ErrorKind::BadRecord,
                        at + pos,
                        "a field within its set (a variable-length field overruns it)",
                    )
                })?;
                acc.apply(field.ie, v);
                pos += len;
            }
            f(&acc);
            n += 1;
        }
        Ok(n)
    }
}

/// The length prefix of a variable-length field at `pos`: one byte, or 255 and two more bytes
/// (RFC 7011 §7). Returns (length, prefix bytes).
fn var_len(
    body: &[u8],
    pos: usize,
    at: usize,
    version: u16,
) -> Result<(usize, usize), NetflowError> {
    let missing = |off| {
        NetflowError::new(
            version,
            ErrorKind::BadRecord,
            at + off,
            "the length of a variable-length field",
        )
    };
    match body.get(pos) {
        Some(255) => match body.get(pos + 1..pos + 3) {
            Some(b) => Ok((usize::from(u16::from_be_bytes([b[0], b[1]])), 3)),
            None => Err(missing(pos + 1)),
        },
        Some(&n) => Ok((usize::from(n), 1)),
        None => Err(missing(pos)),
    }
}

/// What options data said about one observation domain.
#[derive(Debug, Default, Clone)]
pub(crate) struct Domain {
    /// Sampling rate (1 in N) that holds for the whole domain.
    pub sampling: Option<u32>,
    /// When the exporter booted (IPFIX systemInitTimeMilliseconds), Unix ms.
    pub sys_init_ms: Option<i64>,
    /// Sampling rate per sampler / selector id.
    samplers: Vec<(u64, u32)>,
}

impl Domain {
    /// The rate of sampler `id`, if an options record named it.
    pub(crate) fn sampler(&self, id: u64) -> Option<u32> {
        self.samplers.iter().find(|s| s.0 == id).map(|s| s.1)
    }

    /// Takes in one options data record.
    pub(crate) fn learn(&mut self, acc: &FlowAcc) {
        if let Some(init) = acc.sys_init_ms {
            self.sys_init_ms = i64::try_from(init).ok();
        }
        let Some(rate) = acc.own_sampling() else {
            return;
        };
        match acc.sampler_id {
            Some(id) => {
                if let Some(s) = self.samplers.iter_mut().find(|s| s.0 == id) {
                    s.1 = rate;
                } else if self.samplers.len() < MAX_SAMPLERS {
                    self.samplers.push((id, rate));
                }
            }
            None => self.sampling = Some(rate),
        }
    }
}

/// A data set kept until its template arrives.
#[derive(Debug)]
pub(crate) struct Pending {
    pub key: Key,
    pub header: Header,
    /// Offset of the set body in its datagram (for error messages).
    pub at: usize,
    pub body: Box<[u8]>,
    received_ms: i64,
}

#[derive(Debug)]
struct Entry {
    template: Template,
    refreshed_ms: i64,
}

#[derive(Debug, Default)]
struct Exporter {
    templates: HashMap<Key, Entry>,
    domains: HashMap<u32, Domain>,
    pending: VecDeque<Pending>,
}

/// Templates, domain facts and pending data sets of every exporter.
#[derive(Debug)]
pub(crate) struct Cache {
    limits: DecoderLimits,
    exporters: HashMap<IpAddr, Exporter>,
    templates: usize,
    pending_bytes: usize,
    last_sweep_ms: i64,
}

impl Cache {
    pub(crate) fn new(limits: DecoderLimits) -> Cache {
        Cache {
            limits,
            exporters: HashMap::new(),
            templates: 0,
            pending_bytes: 0,
            last_sweep_ms: i64::MIN,
        }
    }

    fn timeout_ms(&self) -> i64 {
        i64::try_from(self.limits.template_timeout.as_millis()).unwrap_or(i64::MAX)
    }

    fn fresh(&self, since_ms: i64, now_ms: i64) -> bool {
        now_ms.saturating_sub(since_ms) <= self.timeout_ms()
    }

    /// The template for `key` of `exporter`, unless it expired by `now_ms`.
    pub(crate) fn get(&self, exporter: IpAddr, key: Key, now_ms: i64) -> Option<&Template> {
        let e = self.exporters.get(&exporter)?.templates.get(&key)?;
        if self.fresh(e.refreshed_ms, now_ms) {
            Some(&e.template)
        } else {
            None
        }
    }

    /// What options data said about a domain.
    pub(crate) fn domain(&self, exporter: IpAddr, domain: u32) -> Option<&Domain> {
        self.exporters.get(&exporter)?.domains.get(&domain)
    }

    /// The facts of a domain, to update (the exporter must have a template already).
    pub(crate) fn domain_mut(&mut self, exporter: IpAddr, domain: u32) -> Option<&mut Domain> {
        Some(
            self.exporters
                .get_mut(&exporter)?
                .domains
                .entry(domain)
                .or_default(),
        )
    }

    /// Stores (or refreshes) a template; `false` when a cap refused it.
    pub(crate) fn insert(&mut self, exporter: IpAddr, key: Key, t: Template, now_ms: i64) -> bool {
        if let Some(e) = self
            .exporters
            .get_mut(&exporter)
            .and_then(|x| x.templates.get_mut(&key))
        {
            *e = Entry {
                template: t,
                refreshed_ms: now_ms,
            };
            return true;
        }
        if !self.room_for(exporter, now_ms) {
            return false;
        }
        let x = self.exporters.entry(exporter).or_default();
        x.templates.insert(
            key,
            Entry {
                template: t,
                refreshed_ms: now_ms,
            },
        );
        self.templates += 1;
        true
    }

    /// Whether one more template of `exporter` fits, after expiring old entries if needed.
    fn room_for(&mut self, exporter: IpAddr, now_ms: i64) -> bool {
        let fits = |c: &Cache| {
            let (known, count) = c
                .exporters
                .get(&exporter)
                .map_or((false, 0), |x| (true, x.templates.len()));
            c.templates < c.limits.max_templates
                && count < c.limits.max_templates_per_exporter
                && (known || c.exporters.len() < c.limits.max_exporters)
        };
        if fits(self) {
            return true;
        }
        self.sweep(now_ms);
        fits(self)
    }

    /// Forgets one template (IPFIX withdrawal).
    pub(crate) fn withdraw(&mut self, exporter: IpAddr, key: Key) {
        if let Some(x) = self.exporters.get_mut(&exporter) {
            if x.templates.remove(&key).is_some() {
                self.templates -= 1;
            }
        }
    }

    /// Forgets every data (or options) template of a domain (IPFIX "withdraw all").
    pub(crate) fn withdraw_all(&mut self, exporter: IpAddr, domain: u32, options: bool) {
        if let Some(x) = self.exporters.get_mut(&exporter) {
            let before = x.templates.len();
            x.templates
                .retain(|k, e| k.0 != domain || e.template.options != options);
            self.templates -= before - x.templates.len();
        }
    }

    /// Buffers a data set whose template is unknown. Returns (kept, sets dropped to make room
    /// or because buffering is off or the exporter cap is full).
    pub(crate) fn push_pending(
        &mut self,
        exporter: IpAddr,
        key: Key,
        header: Header,
        at: usize,
        body: &[u8],
        now_ms: i64,
    ) -> (bool, usize) {
        let per_exporter = self.limits.pending_sets_per_exporter;
        if per_exporter == 0 || body.len() > self.limits.max_pending_bytes {
            return (false, 1);
        }
        if !self.exporters.contains_key(&exporter) {
            if self.exporters.len() >= self.limits.max_exporters {
                self.sweep(now_ms);
            }
            if self.exporters.len() >= self.limits.max_exporters {
                return (false, 1);
            }
        }
        let mut dropped = 0;
        let x = self.exporters.entry(exporter).or_default();
        while x.pending.len() >= per_exporter {
            if let Some(old) = x.pending.pop_front() {
                self.pending_bytes -= old.body.len();
                dropped += 1;
            }
        }
        // Over the global byte cap: drop this exporter's oldest first, then refuse.
        while self.pending_bytes + body.len() > self.limits.max_pending_bytes {
            match x.pending.pop_front() {
                Some(old) => {
                    self.pending_bytes -= old.body.len();
                    dropped += 1;
                }
                None => return (false, dropped + 1),
            }
        }
        self.pending_bytes += body.len();
        x.pending.push_back(Pending {
            key,
            header,
            at,
            body: body.into(),
            received_ms: now_ms,
        });
        (true, dropped)
    }

    /// Takes out the buffered data sets of `key`, oldest first, and how many of them were too
    /// old to use.
    pub(crate) fn take_pending(
        &mut self,
        exporter: IpAddr,
        key: Key,
        now_ms: i64,
    ) -> (Vec<Pending>, usize) {
        let timeout = self.timeout_ms();
        let Some(x) = self.exporters.get_mut(&exporter) else {
            return (Vec::new(), 0);
        };
        if !x.pending.iter().any(|p| p.key == key) {
            return (Vec::new(), 0);
        }
        let mut taken = Vec::new();
        let mut stale = 0;
        let mut kept = VecDeque::with_capacity(x.pending.len());
        for p in x.pending.drain(..) {
            if p.key != key {
                kept.push_back(p);
                continue;
            }
            self.pending_bytes -= p.body.len();
            if now_ms.saturating_sub(p.received_ms) <= timeout {
                taken.push(p);
            } else {
                stale += 1;
            }
        }
        x.pending = kept;
        (taken, stale)
    }

    /// Expires old templates and pending sets, then drops exporters with nothing left, at most
    /// once a minute of receive time unless a cap forces it.
    pub(crate) fn maybe_sweep(&mut self, now_ms: i64) {
        if now_ms < self.last_sweep_ms
            || now_ms.saturating_sub(self.last_sweep_ms) >= SWEEP_EVERY_MS
        {
            self.sweep(now_ms);
        }
    }

    fn sweep(&mut self, now_ms: i64) {
        self.last_sweep_ms = now_ms;
        let timeout = self.timeout_ms();
        let (mut templates, mut bytes) = (0, 0);
        self.exporters.retain(|_, x| {
            x.templates
                .retain(|_, e| now_ms.saturating_sub(e.refreshed_ms) <= timeout);
            x.pending
                .retain(|p| now_ms.saturating_sub(p.received_ms) <= timeout);
            templates += x.templates.len();
            bytes += x.pending.iter().map(|p| p.body.len()).sum::<usize>();
            !x.templates.is_empty() || !x.pending.is_empty()
        });
        self.templates = templates;
        self.pending_bytes = bytes;
    }

    /// Number of templates held.
    pub(crate) fn template_count(&self) -> usize {
        self.templates
    }

    /// Number of exporters with templates or pending sets.
    pub(crate) fn exporter_count(&self) -> usize {
        self.exporters.len()
    }

    /// Number of buffered data sets and their bytes.
    pub(crate) fn pending(&self) -> (usize, usize) {
        let sets = self.exporters.values().map(|x| x.pending.len()).sum();
        (sets, self.pending_bytes)
    }
}

//! The sets of a v9 or IPFIX datagram, in three passes: read the template sets and check every
//! data set whose template is known (the only steps that can fail), then store the templates,
//! then read the data sets (options data updates the domain's facts; flow data becomes flow
//! records; data without a template is buffered) and finally the buffered sets the new
//! templates unlock.

use super::record::{finish, Clock, FlowRecord};
use super::templates::{Cache, Key, Template};
use super::{ipfix, v9, DecodeStats, Header, NetflowError};
use std::net::IpAddr;

/// Where one set's body lies in the datagram, and the header of its message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetSpan {
    pub id: u16,
    /// Offset of the body (after the 4-byte set header).
    pub at: usize,
    pub len: usize,
    pub header: Header,
}

/// What a template set says.
#[derive(Debug)]
pub(crate) enum Def {
    /// A template for this key.
    Define(Key, Template),
    /// IPFIX: forget this template.
    Withdraw(Key),
    /// IPFIX: forget every data (`false`) or options (`true`) template of a domain.
    WithdrawAll(u32, bool),
}

/// The datagram being decoded.
pub(crate) struct Job<'a> {
    pub exporter: IpAddr,
    pub datagram: &'a [u8],
    pub now_ms: i64,
    pub version: u16,
}

impl Job<'_> {
    fn body(&self, s: &SetSpan) -> &[u8] {
        self.datagram.get(s.at..s.at + s.len).unwrap_or(&[])
    }
}

/// Set IDs 256 and up carry data records.
const FIRST_DATA_SET: u16 = 256;

fn is_template_set(version: u16, id: u16) -> bool {
    match version {
        9 => id <= 1,
        _ => id == 2 || id == 3,
    }
}

/// The latest definition of `key` in this datagram (`Some(None)`: withdrawn in it).
fn defined(defs: &[Def], key: Key) -> Option<Option<&Template>> {
    defs.iter().rev().find_map(|d| match d {
        Def::Define(k, t) if *k == key => Some(Some(t)),
        Def::Withdraw(k) if *k == key => Some(None),
        Def::WithdrawAll(domain, _) if *domain == key.0 => Some(None),
        _ => None,
    })
}

/// Decodes the sets of one datagram (see the module notes for the order).
pub(crate) fn process(
    cache: &mut Cache,
    spans: &[SetSpan],
    defs: &mut Vec<Def>,
    job: &Job<'_>,
    sink: &mut dyn FnMut(&FlowRecord),
    stats: &mut DecodeStats,
) -> Result<(), NetflowError> {
    defs.clear();
    for s in spans.iter().filter(|s| is_template_set(job.version, s.id)) {
        let body = job.body(s);
        match job.version {
            9 => v9::parse_templates(s, body, defs)?,
            _ => ipfix::parse_templates(s, body, defs)?,
        }
    }
    for s in spans.iter().filter(|s| s.id >= FIRST_DATA_SET) {
        let key = (s.header.domain, s.id);
        let template = match defined(defs, key) {
            Some(t) => t,
            None => cache.get(job.exporter, key, job.now_ms),
        };
        if let Some(t) = template {
            t.check(job.body(s), s.at, job.version)?;
        }
    }
    // Everything that can fail has been checked: from here on the datagram takes effect.
    cache.maybe_sweep(job.now_ms);
    let mut new_keys: Vec<Key> = Vec::new();
    for d in defs.drain(..) {
        match d {
            Def::Define(key, t) => {
                if cache.insert(job.exporter, key, t, job.now_ms) {
                    stats.templates += 1;
                    if !new_keys.contains(&key) {
                        new_keys.push(key);
                    }
                } else {
                    stats.templates_dropped += 1;
                }
            }
            Def::Withdraw(key) => {
                cache.withdraw(job.exporter, key);
                stats.templates_withdrawn += 1;
            }
            Def::WithdrawAll(domain, options) => {
                cache.withdraw_all(job.exporter, domain, options);
                stats.templates_withdrawn += 1;
            }
        }
    }
    for s in spans.iter().filter(|s| s.id >= FIRST_DATA_SET) {
        let key = (s.header.domain, s.id);
        let body = job.body(s);
        if cache.get(job.exporter, key, job.now_ms).is_some() {
            read_data(cache, job, key, &s.header, body, s.at, sink, stats)?;
        } else {
            let (kept, dropped) =
                cache.push_pending(job.exporter, key, s.header, s.at, body, job.now_ms);
            stats.waiting_for_template += usize::from(kept);
            stats.dropped_sets += dropped;
        }
    }
    for key in new_keys {
        let (pending, stale) = cache.take_pending(job.exporter, key, job.now_ms);
        stats.dropped_sets += stale;
        for p in pending {
            let before = stats.flows;
            let ok = cache
                .get(job.exporter, key, job.now_ms)
                .is_some_and(|t| t.check(&p.body, p.at, p.header.version).is_ok());
            if ok && read_data(cache, job, key, &p.header, &p.body, p.at, sink, stats).is_ok() {
                stats.replayed_flows += stats.flows - before;
            } else {
                stats.dropped_sets += 1;
            }
        }
    }
    Ok(())
}

/// Reads one data set with its (known, fresh) template.
#[allow(clippy::too_many_arguments)]
fn read_data(
    cache: &mut Cache,
    job: &Job<'_>,
    key: Key,
    header: &Header,
    body: &[u8],
    at: usize,
    sink: &mut dyn FnMut(&FlowRecord),
    stats: &mut DecodeStats,
) -> Result<(), NetflowError> {
    let Some(t) = cache.get(job.exporter, key, job.now_ms) else {
        return Ok(());
    };
    if t.options {
        let mut learned = Vec::new();
        let n = t.walk(body, at, header.version, &mut |acc| {
            learned.push(acc.clone())
        })?;
        stats.options_records += n;
        if let Some(domain) = cache.domain_mut(job.exporter, key.0) {
            for acc in &learned {
                domain.learn(acc);
            }
        }
        return Ok(());
    }
    let domain = cache.domain(job.exporter, key.0);
    let (mut flows, mut other) = (0, 0);
    let mut clock = Clock::default();
    t.walk(body, at, header.version, &mut |acc| match finish(
        acc,
        header,
        job.exporter,
        domain,
        None,
        &mut clock,
    ) {
        Some(r) => {
            flows += 1;
            sink(&r);
        }
        None => other += 1,
    })?;
    stats.flows += flows;
    stats.non_flow_records += other;
    Ok(())
}

//! Deterministic generator of realistic vsftpd and iptables logs with ground truth.
//!
//! The simulated site: an FTP server 203.0.113.10 (vsftpd on port 21, plus an attacker's
//! second vsftpd on port 2121 writing to the same log), a web server 203.0.113.20, a LAN
//! 10.0.1.0-10.0.4.255, and a firewall `fw01` logging netfilter LOG lines to kern.log.
//! Benign traffic fills the requested number of lines and raises no incident of the default
//! rule pack. Attack scenarios (anonymous logins, one of them uploading; a brute force; a
//! brute force that works; an insider downloading sensitive files; a port scan; a host
//! sweep; an off-port FTP server used as a drop) are placed at fixed fractions of the run and
//! listed in truth.json as the incidents the rule pack must raise. [`Scenario::Benign`] gives
//! benign logs only and truth.json lists none; [`Scenario::SlowScan`] and
//! [`Scenario::FastScan`] add one scanner each to benign traffic (`scans.rs`), to measure
//! how soon the slow-scan and random-walk rules find it.
//!
//! The same options always give byte-identical files: the random numbers come from a
//! hand-written xoshiro256** (see `rng.rs`), and no floating point or platform math is used.

mod attacks_ftp;
mod background;
mod driver;
mod event;
mod fmt;
mod rng;
mod scans;
mod scenarios;
mod session;
mod truth;
mod world;
mod writer;

#[cfg(test)]
mod checks_fail;
#[cfg(test)]
mod checks_ftp;
#[cfg(test)]
mod checks_fw;
#[cfg(test)]
mod invariants;
#[cfg(test)]
mod logscan;
#[cfg(test)]
mod tests;

use chrono::{DateTime, TimeZone, Utc};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Seed of every random choice.
    pub seed: u64,
    /// Approximate total lines across vsftpd.log and kern.log (within 1 %; the scenarios, a
    /// few hundred lines, are always written, so smaller values are exceeded). At 12 lines a
    /// second of log time, 1 M lines span about a day.
    pub lines: u64,
    /// Time of the first line (UTC).
    pub start: DateTime<Utc>,
    /// What happens on top of the benign background.
    pub scenario: Scenario,
}

/// Which attacks the generator adds to the benign background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// One of each attack scenario, at fixed fractions of the run (the default).
    #[default]
    Mixed,
    /// Benign traffic only: no incident.
    Benign,
    /// One scanner refused on a new port of the FTP server every 5 minutes, from the first
    /// minutes to the end of the run (about 288 probes in a 1 M-line day).
    SlowScan,
    /// One scanner sweeping 20 hosts on one port each within seconds, every probe refused: a
    /// case for the threshold random walk only.
    FastScan,
}

impl Default for GenOptions {
    /// Seed 1, 5 000 lines, starting 2026-03-02T08:00:00Z, with the mixed attacks.
    fn default() -> Self {
        Self {
            seed: 1,
            lines: 5000,
            start: Utc
                .with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
                .single()
                .expect("valid date"),
            scenario: Scenario::Mixed,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSummary {
    /// Lines in vsftpd.log.
    pub vsftpd_lines: u64,
    /// Lines in kern.log.
    pub firewall_lines: u64,
    /// Incidents listed in truth.json.
    pub incidents: usize,
}

/// Writes `<out>/vsftpd.log`, `<out>/kern.log` and `<out>/truth.json` (creating `out`).
pub fn generate(opts: &GenOptions, out: &Path) -> std::io::Result<GenSummary> {
    generate_with_actors(opts, out).map(|(summary, _)| summary)
}

/// [`generate`], also returning the scenario addresses (for tests).
fn generate_with_actors(
    opts: &GenOptions,
    out: &Path,
) -> std::io::Result<(GenSummary, scenarios::Actors)> {
    std::fs::create_dir_all(out)?;
    // The writers buffer 1 MiB themselves (`writer::CHUNK`): no BufWriter on top.
    let open = |name: &str| File::create(out.join(name));
    let run = driver::run(
        opts.seed,
        opts.lines,
        opts.start.timestamp_micros(),
        opts.scenario,
        open("vsftpd.log")?,
        open("kern.log")?,
    )?;
    // Both writers were flushed by the driver; dropping them closes the files.
    drop((run.vs_out, run.fw_out));
    let incidents = truth::incidents(&run.actors);
    let json = truth::to_json(
        opts.seed,
        opts.lines,
        &opts.start,
        (run.vs_lines, run.fw_lines),
        &incidents,
    );
    let mut f = File::create(out.join("truth.json"))?;
    f.write_all(&json)?;
    let summary = GenSummary {
        vsftpd_lines: run.vs_lines,
        firewall_lines: run.fw_lines,
        incidents: incidents.len(),
    };
    Ok((summary, run.actors))
}

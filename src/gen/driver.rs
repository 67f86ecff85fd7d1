//! The generation loop: benign arrivals advance the clock, scenario scripts are dropped in at
//! fixed fractions of the line budget, and two min-heaps release lines in time order.

use super::background::{Background, DIURNAL};
use super::event::{FwLine, Line, Timed, VsLine};
use super::rng::Rng;
use super::scenarios::{self, Actors, Script};
use super::session::{Pids, PID_PLACEHOLDER, SEC};
use super::world::World;
use super::writer::LineOut;
use super::Scenario;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Write};

/// Average log lines per second of log time: 5 000 lines span minutes, 1 M lines about a day.
pub const RATE: u64 = 12;
/// Below this many lines left in the budget, arrivals are single probes (1-3 lines), so the
/// total lands within a couple of lines of the request.
const SMALL_TAIL: u64 = 32;

/// Random streams derived from the seed; separate so one part's draws never shift another's.
const STREAM_WORLD: u64 = 1;
const STREAM_BACKGROUND: u64 = 2;
const STREAM_SCENARIOS: u64 = 3;
const STREAM_PIDS: u64 = 4;

/// What one run produced.
pub struct Outcome<W> {
    /// Lines written to vsftpd.log.
    pub vs_lines: u64,
    /// Lines written to kern.log.
    pub fw_lines: u64,
    /// Scenario addresses.
    pub actors: Actors,
    /// The vsftpd.log writer, flushed.
    pub vs_out: W,
    /// The kern.log writer, flushed.
    pub fw_out: W,
}

struct Sched<W: Write> {
    vs: BinaryHeap<Timed<VsLine>>,
    fw: BinaryHeap<Timed<FwLine>>,
    seq: u64,
    watermark: i64,
    pids: Pids,
    /// Real pids of scripted sessions already seen, by placeholder.
    script_pids: HashMap<u32, u32>,
    /// Placeholders handed out so far.
    script_sessions: u32,
    boot_us: i64,
    vs_out: LineOut<W>,
    fw_out: LineOut<W>,
}

impl<W: Write> Sched<W> {
    fn push(&mut self, t: i64, line: Line) {
        debug_assert!(
            t >= self.watermark,
            "line at {t} scheduled after flushing {}",
            self.watermark
        );
        self.seq += 1;
        match line {
            Line::Vs(ev) => self.vs.push(Timed {
                t,
                seq: self.seq,
                ev,
            }),
            Line::Fw(ev) => self.fw.push(Timed {
                t,
                seq: self.seq,
                ev,
            }),
        }
    }

    /// Writes every line earlier than `t` (no later push may go below `t`).
    fn flush_before(&mut self, t: i64) -> io::Result<()> {
        self.watermark = t;
        while self.vs.peek().is_some_and(|x| x.t < t) {
            let mut x = self.vs.pop().expect("peeked");
            if x.ev.pid & PID_PLACEHOLDER != 0 {
                x.ev.pid = *self
                    .script_pids
                    .entry(x.ev.pid)
                    .or_insert_with(|| self.pids.alloc());
            }
            self.vs_out.write_vs(x.t, &x.ev)?;
        }
        while self.fw.peek().is_some_and(|x| x.t < t) {
            let x = self.fw.pop().expect("peeked");
            self.fw_out.write_fw(x.t, self.boot_us, &x.ev)?;
        }
        Ok(())
    }

    /// Places a script at `base`; its sessions get placeholders, made real pids when written.
    fn place(&mut self, script: &Script, base: i64) {
        for &(t, line) in &script.lines {
            let line = match line {
                Line::Vs(mut v) => {
                    v.pid = PID_PLACEHOLDER | (self.script_sessions + v.pid);
                    Line::Vs(v)
                }
                fw => fw,
            };
            self.push(base + t, line);
        }
        self.script_sessions += script.sessions;
    }
}

/// Mean gap before the next arrival after one of `k` lines at time `now` (µs).
fn mean_gap(k: u64, now: i64) -> u64 {
    let hour = (now.div_euclid(SEC).rem_euclid(86_400) / 3600) as usize;
    let sum: u64 = DIURNAL.iter().map(|&w| u64::from(w)).sum();
    k * SEC as u64 * sum / (RATE * 24 * u64::from(DIURNAL[hour]))
}

/// Generates `lines` lines for `seed` from `start_us` into the two writers, with the attack
/// attacks of `scenario`.
pub fn run<W: Write>(
    seed: u64,
    lines: u64,
    start_us: i64,
    scenario: Scenario,
    vs_out: W,
    fw_out: W,
) -> io::Result<Outcome<W>> {
    let mut world = World::new(&mut Rng::new(seed, STREAM_WORLD), start_us);
    let plan = scenarios::plan(
        &mut Rng::new(seed, STREAM_SCENARIOS),
        &mut world,
        lines,
        RATE,
        scenario,
    );
    let scripted: u64 = plan.scripts.iter().map(|s| s.lines.len() as u64).sum();
    let budget = lines.saturating_sub(scripted);
    let mut bg = Background::new(Rng::new(seed, STREAM_BACKGROUND));
    let mut sched = Sched {
        vs: BinaryHeap::new(),
        fw: BinaryHeap::new(),
        seq: 0,
        watermark: i64::MIN,
        pids: Pids::new(Rng::new(seed, STREAM_PIDS)),
        script_pids: HashMap::new(),
        script_sessions: 0,
        boot_us: world.boot_us,
        vs_out: LineOut::new(vs_out),
        fw_out: LineOut::new(fw_out),
    };
    let (mut now, mut done, mut next) = (start_us, 0u64, 0usize);
    let mut buf = Vec::with_capacity(64);
    loop {
        while let Some(s) = plan.scripts.get(next) {
            if u64::from(s.ppm) * budget / 1_000_000 > done {
                break;
            }
            sched.place(s, now);
            next += 1;
        }
        if done >= budget {
            break;
        }
        sched.flush_before(now)?;
        buf.clear();
        let k = bg.arrival(
            &mut world,
            &mut sched.pids,
            now,
            budget - done < SMALL_TAIL,
            &mut buf,
        );
        for &(t, l) in &buf {
            sched.push(t, l);
        }
        done += k;
        now += bg.rng().skewed(mean_gap(k, now)) as i64;
    }
    sched.flush_before(i64::MAX)?;
    let (vs_lines, fw_lines) = (sched.vs_out.lines, sched.fw_out.lines);
    Ok(Outcome {
        vs_lines,
        fw_lines,
        actors: plan.actors,
        vs_out: sched.vs_out.finish()?,
        fw_out: sched.fw_out.finish()?,
    })
}

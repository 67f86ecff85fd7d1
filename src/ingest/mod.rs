//! Getting lines in: files read whole (replay) or followed (tail), split into lines and parsed.

pub mod fingerprint;
pub mod flowfile;
pub mod gz;
pub mod lines;
pub mod listen;
pub mod lookup;
pub mod source;
pub mod tail;

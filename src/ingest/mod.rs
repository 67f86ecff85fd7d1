//! Getting lines in: files read whole (replay) or followed (tail), split into lines and parsed.

pub mod compressed;
pub mod fingerprint;
pub mod flowfile;
pub mod lines;
pub mod listen;
pub mod lookup;
pub mod source;
pub mod tail;

//! Getting lines in: files read whole (replay) or followed (tail), split into lines and parsed.

pub mod lines;
pub mod source;

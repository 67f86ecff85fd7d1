//! Unit tests of the tailer.

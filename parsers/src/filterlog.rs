//! Filterlog lines. Not written yet (issue 3): every line is rejected with a clear error, and
//! format detection never picks this format.

use crate::{ErrorKind, Event, Format, ParseContext, ParseError};

/// Parses one line.
pub fn parse_filterlog_line(
    _line: &[u8],
    _ctx: &ParseContext,
) -> Result<Option<Event>, ParseError> {
    Err(ParseError::new(
        Format::Filterlog,
        ErrorKind::Syntax,
        0,
        "a format portcullis reads (the Filterlog parser is not written yet)",
    ))
}

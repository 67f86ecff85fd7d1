//! IisFtp lines. Not written yet (issue 3): every line is rejected with a clear error, and
//! format detection never picks this format.

use crate::{ErrorKind, Event, Format, ParseContext, ParseError};

/// What this format remembers between lines of one source.
#[derive(Debug, Default)]
pub struct State {}

/// Parses one line.
pub fn parse_iis_line(
    _line: &[u8],
    _ctx: &ParseContext,
    _state: &mut State,
) -> Result<Option<Event>, ParseError> {
    Err(ParseError::new(
        Format::IisFtp,
        ErrorKind::Syntax,
        0,
        "a format portcullis reads (the IisFtp parser is not written yet)",
    ))
}

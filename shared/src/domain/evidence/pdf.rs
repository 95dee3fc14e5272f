//! A PDF's checks: its structure (header, `startxref`, the cross-reference section and the
//! trailer with its `/Root`), then one pass over its tokens. Names are compared decoded
//! (`/J#61vaScript`); strings, hex strings and comments are skipped as tokens, so their text
//! is never read as names; streams are skipped by their direct `/Length` (image bytes that
//! spell a name are data); object streams (any stream with `/First`, as readers take them) are
//! inflated when their only filter is Flate without parameters, scanned as they are when
//! unfiltered, and refused otherwise. Anything that cannot be read safely is refused.

use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};

use super::{Refusal, HEADER_WINDOW};

/// All object streams of one file may inflate to at most this much (a zip bomb is refused).
const MAX_INFLATED: usize = 32 * 1024 * 1024;
/// How far from the end `%%EOF` and the last `startxref` may be (trailing junk is common).
const TAIL_WINDOW: usize = 16 * 1024;

/// Where `%PDF-` starts, within the first KiB.
pub(super) fn header(bytes: &[u8]) -> Option<usize> {
    find(&bytes[..bytes.len().min(HEADER_WINDOW)], b"%PDF-")
}

pub(super) fn check(bytes: &[u8]) -> Result<(), Refusal> {
    check_within(bytes, MAX_INFLATED)
}

/// `check` with object streams inflating to at most `inflate_limit` bytes in all.
fn check_within(bytes: &[u8], inflate_limit: usize) -> Result<(), Refusal> {
    let at = header(bytes).ok_or(Refusal::PdfMalformed)?;
    let version = bytes.get(at + 5..at + 8).ok_or(Refusal::PdfMalformed)?;
    if !(version[0].is_ascii_digit() && version[1] == b'.' && version[2].is_ascii_digit()) {
        return Err(Refusal::PdfMalformed);
    }
    let names = names(trailer(bytes, at)?)?;
    if !names.iter().any(|n| n == b"Root") {
        return Err(Refusal::PdfMalformed);
    }
    // `/Encrypt` in any trailer (an earlier revision's too) is found by the scan.
    Scan { room: inflate_limit }.scan(bytes, true)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    is_white(b) || b"()<>[]{}/%".contains(&b)
}

fn skip_white(s: &[u8], from: usize) -> usize {
    from + s.get(from..).unwrap_or_default().iter().take_while(|b| is_white(**b)).count()
}

/// The trailer dictionary the last `startxref` leads to: a classic table's `trailer`, or a
/// cross-reference stream's own dictionary.
fn trailer(bytes: &[u8], header: usize) -> Result<&[u8], Refusal> {
    let tail_start = bytes.len().saturating_sub(TAIL_WINDOW);
    let tail = &bytes[tail_start..];
    rfind(tail, b"%%EOF").ok_or(Refusal::PdfMalformed)?;
    let at = skip_white(bytes, tail_start + rfind(tail, b"startxref").ok_or(Refusal::PdfMalformed)? + 9);
    let digits = bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let offset: usize =
        std::str::from_utf8(&bytes[at..at + digits]).ok().and_then(|d| d.parse().ok()).ok_or(Refusal::PdfMalformed)?;
    // Offsets count from the file's start; readers also take them from a late header's, and
    // forgive one that lands on the line end before the section.
    let section = [Some(offset), offset.checked_add(header)]
        .into_iter()
        .flatten()
        .filter(|o| *o < bytes.len())
        .map(|o| &bytes[skip_white(bytes, o)..])
        .find(|s| s.starts_with(b"xref") || starts_with_object(s))
        .ok_or(Refusal::PdfMalformed)?;
    if section.starts_with(b"xref") {
        let from = find(section, b"trailer").ok_or(Refusal::PdfMalformed)?;
        return dictionary(&section[from..]).ok_or(Refusal::PdfMalformed);
    }
    // `N G obj << /Type /XRef ... >>`
    let dict = dictionary(section).ok_or(Refusal::PdfMalformed)?;
    if !names(dict)?.windows(2).any(|w| w[0] == b"Type" && w[1] == b"XRef") {
        return Err(Refusal::PdfMalformed);
    }
    Ok(dict)
}

/// Whether `s` starts with `N G obj`.
fn starts_with_object(s: &[u8]) -> bool {
    let mut parts = s.split(|b| is_white(*b)).filter(|p| !p.is_empty());
    let number = |p: Option<&[u8]>| p.is_some_and(|p| p.iter().all(u8::is_ascii_digit));
    number(parts.next()) && number(parts.next()) && parts.next().is_some_and(|p| p.starts_with(b"obj"))
}

/// Past what starts at `s[at]` when it is not a token that matters: a comment, a string, a
/// hex string. `None` when something else starts there.
fn skip_opaque(s: &[u8], at: usize) -> Option<Result<usize, Refusal>> {
    match (s[at], s.get(at + 1)) {
        (b'%', _) => Some(Ok(at + s[at..].iter().position(|b| *b == b'\n' || *b == b'\r').unwrap_or(s.len() - at))),
        (b'(', _) => Some(skip_string(s, at)),
        (b'<', Some(b'<')) => None,
        // A hex string holds hex digits and white space up to its `>`; anything else in it is
        // refused (readers skip it, so it could hide what they read).
        (b'<', _) => Some(
            s[at + 1..]
                .iter()
                .position(|b| !(b.is_ascii_hexdigit() || is_white(*b)))
                .filter(|p| s[at + 1 + p] == b'>')
                .map(|p| at + p + 2)
                .ok_or(Refusal::PdfMalformed),
        ),
        _ => None,
    }
}

/// The first balanced `<< ... >>` of `s` (strings, hex strings and comments skipped).
fn dictionary(s: &[u8]) -> Option<&[u8]> {
    let start = find(s, b"<<")?;
    let (mut depth, mut i) = (0usize, start);
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next.ok()?;
            continue;
        }
        match s.get(i..i + 2) {
            Some(b"<<") => {
                depth += 1;
                i += 2;
            }
            Some(b">>") => {
                depth = depth.checked_sub(1)?;
                i += 2;
                if depth == 0 {
                    return Some(&s[start..i]);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The names of `s`, decoded, outside strings, hex strings and comments.
fn names(s: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let (mut out, mut i) = (Vec::new(), 0);
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next?;
        } else if s[i..].starts_with(b"<<") {
            i += 2;
        } else if s[i] == b'/' {
            let (name, next) = name_at(s, i);
            out.push(name);
            i = next;
        } else {
            i += 1;
        }
    }
    Ok(out)
}

/// The name starting at `s[at] == '/'`, decoded (`#xx`), and where it ends.
fn name_at(s: &[u8], at: usize) -> (Vec<u8>, usize) {
    let mut name = Vec::new();
    let mut i = at + 1;
    while i < s.len() && !is_delimiter(s[i]) {
        let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
        match (s[i], hex(s.get(i + 1)), hex(s.get(i + 2))) {
            (b'#', Some(h), Some(l)) => {
                name.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                name.push(b);
                i += 1;
            }
        }
    }
    (name, i)
}

/// Past the literal string opening at `s[at] == '('` (nested brackets, escapes). A string that
/// never closes is malformed: read on, it would hide the rest of the file from the scan.
fn skip_string(s: &[u8], at: usize) -> Result<usize, Refusal> {
    let (mut depth, mut i) = (0usize, at);
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(Refusal::PdfMalformed)
}

/// What a name found anywhere means for the file.
fn refused(name: &[u8]) -> Result<(), Refusal> {
    match name {
        b"JavaScript" | b"JS" | b"XFA" => Err(Refusal::PdfJavascript),
        b"Launch" => Err(Refusal::PdfLaunchAction),
        b"Encrypt" => Err(Refusal::PdfEncrypted),
        _ => Ok(()),
    }
}

const FILTERS: [&[u8]; 17] = [
    b"FlateDecode",
    b"Fl",
    b"ASCIIHexDecode",
    b"AHx",
    b"ASCII85Decode",
    b"A85",
    b"LZWDecode",
    b"LZW",
    b"RunLengthDecode",
    b"RL",
    b"CCITTFaxDecode",
    b"CCF",
    b"JBIG2Decode",
    b"DCTDecode",
    b"DCT",
    b"JPXDecode",
    b"Crypt",
];

/// One pass over a file's tokens: names checked, streams skipped (object streams read).
struct Scan {
    /// What object streams may still inflate to.
    room: usize,
}

/// What the current object's own dictionary (depth 1) says about its stream.
#[derive(Default)]
struct ObjectState {
    depth: usize,
    object_stream: bool,
    filters: Vec<Vec<u8>>,
    parameters: bool,
    length: Option<usize>,
    after_length: bool,
}

impl Scan {
    fn scan(&mut self, s: &[u8], streams: bool) -> Result<(), Refusal> {
        let mut object = ObjectState::default();
        let mut i = 0;
        while i < s.len() {
            if let Some(next) = skip_opaque(s, i) {
                object.after_length = false;
                i = next?;
                continue;
            }
            match s[i] {
                b'<' => {
                    object.depth += 1;
                    object.after_length = false;
                    i += 2;
                }
                b'>' if s.get(i + 1) == Some(&b'>') => {
                    object.depth = object.depth.saturating_sub(1);
                    object.after_length = false;
                    i += 2;
                }
                b'/' => {
                    let (name, next) = name_at(s, i);
                    refused(&name)?;
                    object.after_length = object.depth == 1 && name == b"Length";
                    if object.depth == 1 {
                        match name.as_slice() {
                            b"First" => object.object_stream = true,
                            b"DecodeParms" | b"DP" => object.parameters = true,
                            n if FILTERS.contains(&n) => object.filters.push(name.clone()),
                            _ => {}
                        }
                    }
                    i = next;
                }
                b'0'..=b'9' if object.after_length => {
                    let (length, next) = length_at(s, i);
                    object.length = length;
                    object.after_length = false;
                    i = next;
                }
                b if b.is_ascii_alphabetic() && (i == 0 || is_delimiter(s[i - 1])) => {
                    let end = i + s[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    match &s[i..end] {
                        b"obj" | b"endobj" => object = ObjectState::default(),
                        b"stream" if streams => {
                            let (data, next) = stream_at(s, end, object.length)?;
                            if object.object_stream {
                                self.object_stream(data, &object)?;
                            }
                            object = ObjectState::default();
                            i = next;
                            continue;
                        }
                        _ => {}
                    }
                    object.after_length = false;
                    i = end;
                }
                b => {
                    object.after_length &= is_white(b);
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// An object stream's objects, scanned for names: as they are when unfiltered, inflated
    /// (within the file's bound) when Flate is their one filter; refused otherwise.
    fn object_stream(&mut self, data: &[u8], object: &ObjectState) -> Result<(), Refusal> {
        match (object.filters.as_slice(), object.parameters) {
            ([], _) => self.scan(data, false),
            ([one], false) if one == b"FlateDecode" || one == b"Fl" => {
                let objects = decompress_to_vec_zlib_with_limit(data, self.room).map_err(|e| match e.status {
                    TINFLStatus::HasMoreOutput => Refusal::PdfTooComplex,
                    _ => Refusal::PdfMalformed,
                })?;
                self.room -= objects.len();
                self.scan(&objects, false)
            }
            _ => Err(Refusal::PdfTooComplex),
        }
    }
}

/// A direct `/Length`'s value at `s[at]` and where it ends; none for `12 0 R` (indirect: the
/// stream's end is found by its keyword) or a number too large.
fn length_at(s: &[u8], at: usize) -> (Option<usize>, usize) {
    let end = at + s[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let generation = skip_white(s, end);
    let generation_end = generation + s[generation..].iter().take_while(|b| b.is_ascii_digit()).count();
    let indirect = generation_end > generation && s.get(skip_white(s, generation_end)) == Some(&b'R');
    let value = std::str::from_utf8(&s[at..end]).ok().and_then(|n| n.parse().ok()).filter(|_| !indirect);
    (value, end)
}

/// A stream's data, its keyword ending at `s[at]`, and where scanning goes on (after
/// `endstream`): by its direct length when that lands on `endstream`, else by the keyword.
fn stream_at(s: &[u8], at: usize, length: Option<usize>) -> Result<(&[u8], usize), Refusal> {
    // Writers put spaces before the end of line now and then.
    let eol = at + s[at..].iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let start = match s.get(eol..eol + 2) {
        Some(b"\r\n") => eol + 2,
        Some([b'\n' | b'\r', _]) => eol + 1,
        None if s.get(eol) == Some(&b'\n') => eol + 1,
        _ => return Err(Refusal::PdfMalformed),
    };
    if let Some(end) = length.and_then(|n| start.checked_add(n)).filter(|end| *end <= s.len()) {
        let after = skip_white(s, end);
        if s[after..].starts_with(b"endstream") {
            return Ok((&s[start..end], after + b"endstream".len()));
        }
    }
    let end = start + find(&s[start..], b"endstream").ok_or(Refusal::PdfMalformed)?;
    Ok((&s[start..end], end + b"endstream".len()))
}

#[cfg(test)]
mod tests;

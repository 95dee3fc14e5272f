//! Evidence files of claims and condition reports (issue 23): what a file is, told by its bytes
//! (never by its name or declared type), and what a PDF must be to be kept: it parses (header,
//! cross-reference, trailer with its root), is not encrypted, and carries no JavaScript and no
//! launch action, also inside compressed object streams. A refused file gets a reason code,
//! as a refused photo does. Images are checked by decoding them (the image pipeline).
//!
//! The file is read once, into memory (at most 20 MiB), and scanned once: names outside
//! streams, the streams skipped by their length, object streams inflated (within a bound) and
//! their names scanned too. Names are compared decoded (`/J#61vaScript` is `/JavaScript`).

use miniz_oxide::inflate::decompress_to_vec_zlib_with_limit;

string_enum!(
    /// What an evidence file is, by its bytes.
    EvidenceType { Pdf => "application/pdf", Jpeg => "image/jpeg", Png => "image/png", Webp => "image/webp" }
);

string_enum!(
    /// Why an evidence file is refused.
    Refusal {
        Empty => "empty",
        TooLarge => "too_large",
        UnknownType => "unknown_type",
        PdfMalformed => "pdf_malformed",
        PdfEncrypted => "pdf_encrypted",
        PdfJavascript => "pdf_javascript",
        PdfLaunchAction => "pdf_launch_action",
        PdfTooComplex => "pdf_too_complex",
    }
);

pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;
/// All object streams of one file may inflate to at most this much (a zip bomb is refused).
const MAX_INFLATED: usize = 64 * 1024 * 1024;
/// Where the header may start, and how far from the end `%%EOF` and `startxref` may be.
const HEADER_WINDOW: usize = 1024;
const TAIL_WINDOW: usize = 2048;

/// What `bytes` are, by their first bytes.
pub fn identify(bytes: &[u8]) -> Result<EvidenceType, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(Refusal::TooLarge);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(EvidenceType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(EvidenceType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(EvidenceType::Webp)
    } else if find(&bytes[..bytes.len().min(HEADER_WINDOW)], b"%PDF-").is_some() {
        Ok(EvidenceType::Pdf)
    } else {
        Err(Refusal::UnknownType)
    }
}

/// What `bytes` are, with a PDF's checks passed.
pub fn check(bytes: &[u8]) -> Result<EvidenceType, Refusal> {
    let kind = identify(bytes)?;
    if kind == EvidenceType::Pdf {
        check_pdf(bytes)?;
    }
    Ok(kind)
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

/// The PDF's structure, then its names.
fn check_pdf(bytes: &[u8]) -> Result<(), Refusal> {
    check_pdf_within(bytes, MAX_INFLATED)
}

/// `check_pdf` with object streams inflating to at most `inflate_limit` bytes in all.
fn check_pdf_within(bytes: &[u8], inflate_limit: usize) -> Result<(), Refusal> {
    let header = find(&bytes[..bytes.len().min(HEADER_WINDOW)], b"%PDF-").ok_or(Refusal::PdfMalformed)?;
    let version = bytes.get(header + 5..header + 8).ok_or(Refusal::PdfMalformed)?;
    if !(version[0].is_ascii_digit() && version[1] == b'.' && version[2].is_ascii_digit()) {
        return Err(Refusal::PdfMalformed);
    }
    let trailer = trailer(bytes, header)?;
    if names_in(trailer).any(|n| n == b"Encrypt") {
        return Err(Refusal::PdfEncrypted);
    }
    if !names_in(trailer).any(|n| n == b"Root") {
        return Err(Refusal::PdfMalformed);
    }
    Scan { room: inflate_limit }.scan(bytes, true)
}

/// The trailer dictionary the last `startxref` leads to: a classic table's `trailer`, or a
/// cross-reference stream's own dictionary.
fn trailer(bytes: &[u8], header: usize) -> Result<&[u8], Refusal> {
    let tail_start = bytes.len().saturating_sub(TAIL_WINDOW);
    let tail = &bytes[tail_start..];
    rfind(tail, b"%%EOF").ok_or(Refusal::PdfMalformed)?;
    let at = tail_start + rfind(tail, b"startxref").ok_or(Refusal::PdfMalformed)? + b"startxref".len();
    let digits: Vec<u8> =
        bytes[at..].iter().skip_while(|b| is_white(**b)).take_while(|b| b.is_ascii_digit()).copied().collect();
    let offset: usize = std::str::from_utf8(&digits).ok().and_then(|d| d.parse().ok()).ok_or(Refusal::PdfMalformed)?;
    // Offsets count from the file's start; readers also accept them from a late header's.
    let section = [offset, offset + header]
        .into_iter()
        .filter_map(|o| bytes.get(o..))
        .find(|s| s.starts_with(b"xref") || starts_with_object(s))
        .ok_or(Refusal::PdfMalformed)?;
    let dict_from = if section.starts_with(b"xref") {
        find(section, b"trailer").ok_or(Refusal::PdfMalformed)?
    } else {
        // `N G obj << /Type /XRef ... >>`
        let dict = dictionary(section).ok_or(Refusal::PdfMalformed)?;
        if !names_in(dict).collect::<Vec<_>>().windows(2).any(|w| w[0] == b"Type" && w[1] == b"XRef") {
            return Err(Refusal::PdfMalformed);
        }
        0
    };
    dictionary(&section[dict_from..]).ok_or(Refusal::PdfMalformed)
}

/// Whether `s` starts with `N G obj`.
fn starts_with_object(s: &[u8]) -> bool {
    let mut parts = s.split(|b| is_white(*b)).filter(|p| !p.is_empty());
    let number = |p: Option<&[u8]>| p.is_some_and(|p| p.iter().all(u8::is_ascii_digit));
    number(parts.next()) && number(parts.next()) && parts.next().is_some_and(|p| p.starts_with(b"obj"))
}

/// The first balanced `<< ... >>` of `s`.
fn dictionary(s: &[u8]) -> Option<&[u8]> {
    let start = find(s, b"<<")?;
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < s.len() {
        match &s[i..i + 2] {
            b"<<" => {
                depth += 1;
                i += 2;
            }
            b">>" => {
                depth -= 1;
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

/// The names in `s` (outside strings), decoded.
fn names_in(s: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() {
            match s[i] {
                b'(' => i = skip_string(s, i),
                b'/' => {
                    let (name, next) = name_at(s, i);
                    i = next;
                    return Some(name);
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// The name starting at `s[at] == '/'`, decoded (`#xx`), and where it ends.
fn name_at(s: &[u8], at: usize) -> (Vec<u8>, usize) {
    let mut name = Vec::new();
    let mut i = at + 1;
    while i < s.len() && !is_delimiter(s[i]) {
        let hex = |b: u8| (b as char).to_digit(16);
        match (s[i], s.get(i + 1).and_then(|b| hex(*b)), s.get(i + 2).and_then(|b| hex(*b))) {
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

/// Past the literal string opening at `s[at] == '('` (nested brackets, escapes).
fn skip_string(s: &[u8], at: usize) -> usize {
    let (mut depth, mut i) = (0usize, at);
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// One pass over a file's tokens: names checked, streams skipped (object streams inflated and
/// scanned).
struct Scan {
    /// What object streams may still inflate to.
    room: usize,
}

/// What the current object's dictionary said about its stream.
#[derive(Default)]
struct ObjectState {
    object_stream: bool,
    flate: bool,
    length: Option<usize>,
    after_length: bool,
}

impl Scan {
    fn scan(&mut self, s: &[u8], streams: bool) -> Result<(), Refusal> {
        let mut object = ObjectState::default();
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'%' => i += s[i..].iter().position(|b| *b == b'\n' || *b == b'\r').unwrap_or(s.len() - i),
                b'(' => i = skip_string(s, i),
                b'/' => {
                    let (name, next) = name_at(s, i);
                    match name.as_slice() {
                        b"JavaScript" | b"JS" => return Err(Refusal::PdfJavascript),
                        b"Launch" => return Err(Refusal::PdfLaunchAction),
                        b"ObjStm" => object.object_stream = true,
                        b"FlateDecode" => object.flate = true,
                        _ => {}
                    }
                    object.after_length = name == b"Length";
                    i = next;
                }
                b'0'..=b'9' if object.after_length => {
                    let end = i + s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                    // `/Length 12 0 R` is indirect: the stream's end is found by its keyword.
                    let indirect =
                        s[end..].iter().skip_while(|b| is_white(**b)).take_while(|b| b.is_ascii_digit()).count() > 0;
                    object.length =
                        std::str::from_utf8(&s[i..end]).ok().and_then(|n| n.parse().ok()).filter(|_| !indirect);
                    object.after_length = false;
                    i = end;
                }
                b if b.is_ascii_alphabetic() && (i == 0 || is_delimiter(s[i - 1])) => {
                    let end = i + s[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    match &s[i..end] {
                        b"obj" => object = ObjectState::default(),
                        b"stream" if streams => {
                            let (data, next) = stream_at(s, end, object.length)?;
                            if object.object_stream {
                                self.object_stream(data, object.flate)?;
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
                b if !is_white(b) => {
                    object.after_length = false;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// An object stream's objects, inflated within the file's bound, scanned for names.
    fn object_stream(&mut self, data: &[u8], flate: bool) -> Result<(), Refusal> {
        if !flate {
            // Unfiltered object streams are scanned as they are; other filters are not read.
            return if data.iter().all(|b| b.is_ascii()) {
                self.scan(data, false)
            } else {
                Err(Refusal::PdfTooComplex)
            };
        }
        let objects = decompress_to_vec_zlib_with_limit(data, self.room).map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => Refusal::PdfTooComplex,
            _ => Refusal::PdfMalformed,
        })?;
        self.room -= objects.len();
        self.scan(&objects, false)
    }
}

/// A stream's data, its keyword ending at `s[at]`, and where scanning goes on (after
/// `endstream`): by its direct length when that lands on `endstream`, else by the keyword.
fn stream_at(s: &[u8], at: usize, length: Option<usize>) -> Result<(&[u8], usize), Refusal> {
    let start = match s.get(at..at + 2) {
        Some(b"\r\n") => at + 2,
        Some([b'\n', _]) | Some([b'\r', _]) => at + 1,
        _ => return Err(Refusal::PdfMalformed),
    };
    if let Some(end) = length.map(|n| start + n).filter(|end| *end <= s.len()) {
        let rest = &s[end..];
        let skip = rest.iter().take_while(|b| is_white(**b)).count();
        if rest[skip..].starts_with(b"endstream") {
            return Ok((&s[start..end], end + skip + b"endstream".len()));
        }
    }
    let end = start + find(&s[start..], b"endstream").ok_or(Refusal::PdfMalformed)?;
    Ok((&s[start..end], end + b"endstream".len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PDF of `objects` (numbered from 1) with a classic cross-reference table and `trailer`.
    pub(crate) fn pdf(objects: &[Vec<u8>], trailer: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (n, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} {trailer} >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }

    fn basic(extra: &str) -> Vec<Vec<u8>> {
        vec![
            format!("<< /Type /Catalog /Pages 2 0 R {extra} >>").into_bytes(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec(),
        ]
    }

    fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut o = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        o.extend_from_slice(data);
        o.extend_from_slice(b"\nendstream");
        o
    }

    #[test]
    fn files_are_told_by_their_bytes() {
        assert_eq!(identify(b""), Err(Refusal::Empty));
        assert_eq!(identify(b"hello, I am a text file named claim.pdf"), Err(Refusal::UnknownType));
        assert_eq!(identify(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(EvidenceType::Jpeg));
        assert_eq!(identify(b"\x89PNG\r\n\x1a\n...."), Ok(EvidenceType::Png));
        assert_eq!(identify(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(EvidenceType::Webp));
        assert_eq!(identify(&vec![b'%'; MAX_EVIDENCE_BYTES + 1]), Err(Refusal::TooLarge));
        assert_eq!(check(&pdf(&basic(""), "/Root 1 0 R")), Ok(EvidenceType::Pdf));
    }

    #[test]
    fn a_pdf_must_parse() {
        let good = pdf(&basic(""), "/Root 1 0 R");
        assert_eq!(check(&good[..good.len() - 7]), Err(Refusal::PdfMalformed), "no %%EOF");
        assert_eq!(check(&pdf(&basic(""), "")), Err(Refusal::PdfMalformed), "no root");
        let broken = String::from_utf8_lossy(&good).replace("startxref\n", "startxref\n9");
        assert_eq!(check(broken.as_bytes()), Err(Refusal::PdfMalformed), "startxref past the end");
        assert_eq!(check(b"%PDF-x.y\n%%EOF"), Err(Refusal::PdfMalformed));
    }

    #[test]
    fn encrypted_javascript_and_launch_actions_are_refused() {
        assert_eq!(check(&pdf(&basic(""), "/Root 1 0 R /Encrypt 9 0 R")), Err(Refusal::PdfEncrypted));
        let js = basic("/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>");
        assert_eq!(check(&pdf(&js, "/Root 1 0 R")), Err(Refusal::PdfJavascript));
        let escaped = basic("/OpenAction << /S /J#61vaScript >>");
        assert_eq!(check(&pdf(&escaped, "/Root 1 0 R")), Err(Refusal::PdfJavascript), "names are decoded");
        let launch = basic("/OpenAction << /S /Launch /F (calc.exe) >>");
        assert_eq!(check(&pdf(&launch, "/Root 1 0 R")), Err(Refusal::PdfLaunchAction));
        let quoted = basic("/Title (a note on /JS and /Launch)");
        assert_eq!(check(&pdf(&quoted, "/Root 1 0 R")), Ok(EvidenceType::Pdf), "inside a string it is text");
    }

    #[test]
    fn streams_are_skipped_and_object_streams_read() {
        // Image bytes that happen to spell a name are data, not a name.
        let mut objects = basic("");
        objects.push(stream("/Type /XObject /Subtype /Image", b"\x00\x01/JS /Launch endstreamX\xff"));
        assert_eq!(check(&pdf(&objects, "/Root 1 0 R")), Ok(EvidenceType::Pdf));
        // JavaScript hidden in a compressed object stream.
        let hidden = miniz_oxide::deflate::compress_to_vec_zlib(b"5 0 << /S /JavaScript /JS (x) >>", 6);
        let mut objects = basic("");
        objects.push(stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &hidden));
        assert_eq!(check(&pdf(&objects, "/Root 1 0 R")), Err(Refusal::PdfJavascript));
        // A bomb: more than the bound once inflated (a small bound here; 64 MiB in use).
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&[b' '; 4096], 10);
        let mut objects = basic("");
        objects.push(stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb));
        let file = pdf(&objects, "/Root 1 0 R");
        assert_eq!(check_pdf_within(&file, 4095), Err(Refusal::PdfTooComplex));
        assert_eq!(check_pdf_within(&file, 4096), Ok(()));
    }

    #[test]
    fn a_cross_reference_stream_holds_the_trailer() {
        let mut out = b"%PDF-1.5\n".to_vec();
        for (n, body) in basic("").iter().enumerate() {
            out.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(b"4 0 obj\n");
        out.extend_from_slice(&stream("/Type /XRef /Size 5 /Root 1 0 R /W [1 2 1]", b"\x00\x00\x00\x00"));
        out.extend_from_slice(format!("\nendobj\nstartxref\n{xref}\n%%EOF\n").as_bytes());
        assert_eq!(check(&out), Ok(EvidenceType::Pdf));
        let encrypted = String::from_utf8_lossy(&out).replace("/Root 1 0 R", "/Root 1 0 R /Encrypt 9 0 R");
        assert_eq!(check(encrypted.as_bytes()), Err(Refusal::PdfEncrypted));
    }
}

//! Well-formed and hostile PDFs, built here with their cross-reference offsets right.

use super::*;

/// A PDF of `objects` (numbered from 1) with a classic cross-reference table and `trailer`.
fn pdf(objects: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n".to_vec();
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
    let size = objects.len() + 1;
    out.extend_from_slice(format!("trailer\n<< /Size {size} {trailer} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// Where `file`'s cross-reference table starts.
fn xref_of(file: &[u8]) -> usize {
    let Some(at) = find(file, b"xref\n0") else { panic!("no cross-reference table") };
    at
}

fn basic(extra: &str) -> Vec<Vec<u8>> {
    vec![
        format!("<< /Type /Catalog /Pages 2 0 R {extra} >>").into_bytes(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec(),
    ]
}

fn with(extra_objects: Vec<Vec<u8>>) -> Vec<u8> {
    let mut objects = basic("");
    objects.extend(extra_objects);
    pdf(&objects, "/Root 1 0 R")
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut o = format!("<< {dict} /Length {} >>\r\nstream\r\n", data.len()).into_bytes();
    o.extend_from_slice(data);
    o.extend_from_slice(b"\r\nendstream");
    o
}

/// `bytes` with the first `from` replaced by `to` (byte for byte: the header's binary comment
/// is no UTF-8).
fn replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let Some(at) = find(bytes, from.as_bytes()) else { panic!("{from:?} is not in the file") };
    [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat()
}

fn deflated(text: &str) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6)
}

const JS: &str = "5 0 << /S /JavaScript /JS (app.alert\\(1\\)) >>";

#[test]
fn a_pdf_must_parse() {
    let good = pdf(&basic(""), "/Root 1 0 R");
    assert_eq!(check(&good), Ok(()));
    assert_eq!(check(&good[..good.len() - 7]), Err(Refusal::PdfMalformed), "no %%EOF");
    assert_eq!(check(&pdf(&basic(""), "")), Err(Refusal::PdfMalformed), "no root");
    let past_the_end = replaced(&good, "startxref\n", "startxref\n9");
    assert_eq!(check(&past_the_end), Err(Refusal::PdfMalformed), "startxref past the end");
    let huge = replaced(&good, "startxref\n", "startxref\n18446744073709551615");
    assert_eq!(check(&huge), Err(Refusal::PdfMalformed), "no overflow");
    assert_eq!(check(b"%PDF-x.y\n%%EOF"), Err(Refusal::PdfMalformed));
    // Forgiven as readers do: the offset on the line end before `xref`, junk after `%%EOF`.
    let xref = xref_of(&good);
    let early = replaced(&good, &format!("startxref\n{xref}"), &format!("startxref\n{}", xref - 1));
    assert_eq!(check(&early), Ok(()));
    let mut junk = good.clone();
    junk.extend_from_slice(&[b'x'; 4096]);
    assert_eq!(check(&junk), Ok(()));
}

#[test]
fn encrypted_javascript_xfa_and_launch_actions_are_refused() {
    assert_eq!(check(&pdf(&basic(""), "/Root 1 0 R /Encrypt 9 0 R")), Err(Refusal::PdfEncrypted));
    let js = basic("/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>");
    assert_eq!(check(&pdf(&js, "/Root 1 0 R")), Err(Refusal::PdfJavascript));
    let escaped = basic("/OpenAction << /S /J#61vaScript >>");
    assert_eq!(check(&pdf(&escaped, "/Root 1 0 R")), Err(Refusal::PdfJavascript), "names are decoded");
    let xfa = basic("/AcroForm << /XFA 6 0 R >>");
    assert_eq!(check(&pdf(&xfa, "/Root 1 0 R")), Err(Refusal::PdfJavascript), "XFA forms run scripts");
    let launch = basic("/OpenAction << /S /Launch /F (calc.exe) >>");
    assert_eq!(check(&pdf(&launch, "/Root 1 0 R")), Err(Refusal::PdfLaunchAction));
    let quoted = basic("/Title (a note on /JS and /Launch) /Lang <656e>");
    assert_eq!(check(&pdf(&quoted, "/Root 1 0 R")), Ok(()), "inside a string it is text");
}

#[test]
fn nothing_hides_a_name_from_the_scan() {
    // A hex string's `%` or `(` would hide what follows from a careless scan: refused.
    for x in ["<%>", "<(>", "<00/4A53>"] {
        let hex = basic(&format!("/X {x} /S /JavaScript"));
        assert_eq!(check(&pdf(&hex, "/Root 1 0 R")), Err(Refusal::PdfMalformed), "{x}");
    }
    // A string that never closes would swallow the rest: refused.
    let open = basic("/Title (never closed");
    assert_eq!(check(&pdf(&open, "/Root 1 0 R")), Err(Refusal::PdfMalformed));
    // An earlier revision's trailer is read by the scan too.
    let mut twice = pdf(&basic(""), "/Root 1 0 R /Encrypt 9 0 R");
    twice.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n");
    assert_eq!(check(&twice), Err(Refusal::PdfMalformed), "its startxref leads nowhere");
    let good = pdf(&basic(""), "/Root 1 0 R");
    let xref = xref_of(&good);
    let mut revised = pdf(&basic(""), "/Root 1 0 R /Encrypt 9 0 R");
    revised.extend_from_slice(format!("trailer\n<< /Root 1 0 R /Prev 0 >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    assert_eq!(check(&revised), Err(Refusal::PdfEncrypted));
    // A trailer's string or comment hides no `/Encrypt` from its check.
    assert_eq!(check(&pdf(&basic(""), "/Root 1 0 R /ID [(>>)(x)] /Encrypt 5 0 R")), Err(Refusal::PdfEncrypted));
    assert_eq!(check(&pdf(&basic(""), "/Root 1 0 R %(\n/Encrypt 5 0 R")), Err(Refusal::PdfEncrypted));
}

#[test]
fn streams_are_skipped_by_their_own_length() {
    // Image bytes that happen to spell a name are data, not a name.
    let image = with(vec![stream("/Type /XObject /Subtype /Image", b"\x00\x01/JS /Launch endstreamX\xff(")]);
    assert_eq!(check(&image), Ok(()));
    // A nested dictionary's /Length is not the stream's.
    let mut nested =
        b"<< /Length 2 /X << /Length 300 >> >>\nstream\nAB\nendstream\nendobj\n5 0 obj\n<< /S /JavaScript >>".to_vec();
    nested.extend_from_slice(&[b' '; 300]);
    assert_eq!(check(&with(vec![nested])), Err(Refusal::PdfJavascript));
    // An indirect length: the stream ends at its keyword; a string in the data after a false
    // `endstream` is refused rather than read on.
    let indirect = b"<< /Length 9 0 R >>\nstream\nxx endstream ( yy\nendstream".to_vec();
    assert_eq!(check(&with(vec![indirect])), Err(Refusal::PdfMalformed));
    let indirect = b"<< /Length 9 0 R >>\nstream \r\nplain data\nendstream".to_vec();
    assert_eq!(check(&with(vec![indirect])), Ok(()), "spaces before the line end");
    // A length past any sense neither overflows nor panics.
    let huge = b"<< /Length 18446744073709551615 >>\nstream\nab\nendstream".to_vec();
    assert_eq!(check(&with(vec![huge])), Ok(()));
}

#[test]
fn object_streams_are_read_whatever_they_are_called() {
    let objstm = |dict: &str, data: &[u8]| with(vec![stream(dict, data)]);
    assert_eq!(
        check(&objstm("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &deflated(JS))),
        Err(Refusal::PdfJavascript)
    );
    assert_eq!(check(&objstm("/N 1 /First 4 /Filter [/Fl]", &deflated(JS))), Err(Refusal::PdfJavascript), "no /Type");
    assert_eq!(check(&objstm("/N 1 /First 4", JS.as_bytes())), Err(Refusal::PdfJavascript), "unfiltered");
    let twice = miniz_oxide::deflate::compress_to_vec_zlib(&deflated(JS), 6);
    assert_eq!(
        check(&objstm("/N 1 /First 4 /Filter [/FlateDecode /FlateDecode]", &twice)),
        Err(Refusal::PdfTooComplex)
    );
    let hex: String = JS.bytes().map(|b| format!("{b:02x}")).collect();
    assert_eq!(check(&objstm("/N 1 /First 4 /Filter /ASCIIHexDecode", hex.as_bytes())), Err(Refusal::PdfTooComplex));
    let parms = "/N 1 /First 4 /Filter /FlateDecode /DecodeParms << /Predictor 2 /Columns 8 >>";
    assert_eq!(check(&objstm(parms, &deflated(JS))), Err(Refusal::PdfTooComplex));
    let fine = "5 0 << /Type /Annot /Subtype /Text /Contents (ok) >>";
    assert_eq!(check(&objstm("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &deflated(fine))), Ok(()));
    assert_eq!(check(&objstm("/N 1 /First 4 /Filter /FlateDecode", b"not zlib")), Err(Refusal::PdfMalformed));
}

#[test]
fn inflating_is_bounded() {
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&[b' '; 4096], 10);
    let file = with(vec![stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb)]);
    assert_eq!(check_within(&file, 4095), Err(Refusal::PdfTooComplex));
    assert_eq!(check_within(&file, 4096), Ok(()));
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
    out.extend_from_slice(&stream(
        "/Type /XRef /Size 5 /Root 1 0 R /W [1 2 1] /Filter /FlateDecode",
        &deflated("\0\0\0\0"),
    ));
    out.extend_from_slice(format!("\nendobj\nstartxref\r{xref}\r%%EOF\r").as_bytes());
    assert_eq!(check(&out), Ok(()));
    let encrypted = replaced(&out, "/Root 1 0 R", "/Root 1 0 R /Encrypt 9 0 R");
    assert_eq!(check(&encrypted), Err(Refusal::PdfEncrypted));
    let no_type = replaced(&out, "/Type /XRef", "");
    assert_eq!(check(&no_type), Err(Refusal::PdfMalformed), "not a cross-reference stream");
}

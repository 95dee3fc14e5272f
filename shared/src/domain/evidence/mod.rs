//! Evidence files of claims and condition reports (issue 23): what a file is, told by its bytes
//! (never by its name or declared type), and what a PDF must be to be kept (`pdf.rs`): it
//! parses (header, cross-reference, trailer with its root), is not encrypted, and carries no
//! JavaScript (nor an XFA form, which runs scripts) and no launch action, also inside
//! compressed object streams. A refused file gets a reason code, as a refused photo does.
//! Photos are checked by decoding them (the image pipeline, in `check-evidence`), which also
//! renders them.
//!
//! The file is read once, into memory (at most 20 MiB); a PDF's tokens are scanned in one pass,
//! its streams skipped by their length and its object streams inflated (within a bound).

pub mod exif;
pub mod file;
mod pdf;

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
        /// A photo the image pipeline cannot decode (corrupt, not what its header says).
        ImageUnreadable => "image_unreadable",
        /// Checking the file failed on every try (it may crash the decoder): upload it again.
        CheckFailed => "check_failed",
        /// A photo whose dimensions the pipeline cannot render (over 50 megapixels, under 240
        /// px): kept as evidence without renditions, never recorded as a refusal.
        ImageSize => "image_size",
    }
);

pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;
/// Where a PDF's header may start.
const HEADER_WINDOW: usize = 1024;

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
    } else if pdf::header(bytes).is_some() {
        Ok(EvidenceType::Pdf)
    } else {
        Err(Refusal::UnknownType)
    }
}

/// What `bytes` are, with a PDF's checks passed.
pub fn check(bytes: &[u8]) -> Result<EvidenceType, Refusal> {
    let kind = identify(bytes)?;
    if kind == EvidenceType::Pdf {
        pdf::check(bytes)?;
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_their_bytes() {
        assert_eq!(identify(b""), Err(Refusal::Empty));
        assert_eq!(identify(b"hello, I am a text file named claim.pdf"), Err(Refusal::UnknownType));
        assert_eq!(identify(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(EvidenceType::Jpeg));
        assert_eq!(identify(b"\x89PNG\r\n\x1a\n...."), Ok(EvidenceType::Png));
        assert_eq!(identify(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(EvidenceType::Webp));
        assert_eq!(identify(b"junk before %PDF-1.4\n"), Ok(EvidenceType::Pdf), "a late header is a PDF's");
        assert_eq!(identify(&vec![b'%'; MAX_EVIDENCE_BYTES + 1]), Err(Refusal::TooLarge));
        assert_eq!(check(b"%PDF-1.4\nnot a document"), Err(Refusal::PdfMalformed));
    }
}

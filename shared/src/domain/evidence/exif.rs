//! When a JPEG photo was taken, by its EXIF data: `DateTimeOriginal` (with `OffsetTimeOriginal`
//! when the camera wrote one), else the image's `DateTime`. Cameras write local time without a
//! zone, so the time is kept as written (`2026-12-01T09:30:00`, `+01:00` appended if known). A
//! photo without EXIF, or with EXIF that does not parse, has none: it is still evidence.

use chrono::NaiveDateTime;

const EXIF_IFD_POINTER: u16 = 0x8769;
const DATE_TIME: u16 = 0x0132;
const DATE_TIME_ORIGINAL: u16 = 0x9003;
const OFFSET_TIME_ORIGINAL: u16 = 0x9011;
/// How far into the file the APP1 segment is looked for (EXIF comes first, before the image).
const SEARCH_LIMIT: usize = 256 * 1024;

/// The capture time of a JPEG, as written by its camera; `None` without a readable one.
pub fn capture_time(jpeg: &[u8]) -> Option<String> {
    let tiff = exif_segment(jpeg)?;
    let order = ByteOrder::of(tiff)?;
    let ifd0 = order.u32(tiff, 4)? as usize;
    let exif_ifd = entry(tiff, order, ifd0, EXIF_IFD_POINTER).and_then(|e| order.u32(e, 8)).map(|o| o as usize);
    let original = exif_ifd.and_then(|ifd| ascii(tiff, order, ifd, DATE_TIME_ORIGINAL));
    let when = original.or_else(|| ascii(tiff, order, ifd0, DATE_TIME))?;
    let parsed = NaiveDateTime::parse_from_str(when.trim_end_matches('\0').trim(), "%Y:%m:%d %H:%M:%S").ok()?;
    let offset = exif_ifd
        .and_then(|ifd| ascii(tiff, order, ifd, OFFSET_TIME_ORIGINAL))
        .map(|o| o.trim_end_matches('\0').trim().to_owned())
        .filter(|o| {
            let b = o.as_bytes();
            b.len() == 6
                && matches!(b[0], b'+' | b'-')
                && b[3] == b':'
                && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
        });
    Some(format!("{}{}", parsed.format("%Y-%m-%dT%H:%M:%S"), offset.unwrap_or_default()))
}

/// The TIFF structure inside the JPEG's `Exif` APP1 segment.
fn exif_segment(jpeg: &[u8]) -> Option<&[u8]> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= jpeg.len().min(SEARCH_LIMIT) {
        if jpeg[at] != 0xFF {
            return None;
        }
        let marker = jpeg[at + 1];
        // Start of scan: the image data follows; no EXIF before it.
        if marker == 0xDA {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let body = jpeg.get(at + 4..at + 2 + length)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(&body[6..]);
        }
        at += 2 + length;
    }
    None
}

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn of(tiff: &[u8]) -> Option<Self> {
        match tiff.get(..4)? {
            b"II*\0" => Some(ByteOrder::Little),
            b"MM\0*" => Some(ByteOrder::Big),
            _ => None,
        }
    }

    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let v: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(v),
            ByteOrder::Big => u16::from_be_bytes(v),
        })
    }

    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(v),
            ByteOrder::Big => u32::from_be_bytes(v),
        })
    }
}

/// The 12-byte entry for `tag` in the IFD at `ifd`.
fn entry(tiff: &[u8], order: ByteOrder, ifd: usize, tag: u16) -> Option<&[u8]> {
    let count = usize::from(order.u16(tiff, ifd)?);
    (0..count.min(512)).map(|i| tiff.get(ifd + 2 + i * 12..ifd + 14 + i * 12)).find_map(|e| {
        let e = e?;
        (order.u16(e, 0)? == tag).then_some(e)
    })
}

/// The ASCII value of `tag` in the IFD at `ifd` (type 2).
fn ascii(tiff: &[u8], order: ByteOrder, ifd: usize, tag: u16) -> Option<String> {
    let e = entry(tiff, order, ifd, tag)?;
    if order.u16(e, 2)? != 2 {
        return None;
    }
    let count = order.u32(e, 4)? as usize;
    let bytes = if count <= 4 { e.get(8..8 + count)? } else { tiff.get(order.u32(e, 8)? as usize..)?.get(..count)? };
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG whose EXIF (big- or little-endian) holds `entries0` in IFD0 and `exif` in the
    /// Exif IFD, each `(tag, ascii value)`.
    fn jpeg(little: bool, ifd0: &[(u16, &str)], exif: &[(u16, &str)]) -> Vec<u8> {
        let w16 = |v: u16| if little { v.to_le_bytes().to_vec() } else { v.to_be_bytes().to_vec() };
        let w32 = |v: u32| if little { v.to_le_bytes().to_vec() } else { v.to_be_bytes().to_vec() };
        let mut tiff = if little { b"II*\0".to_vec() } else { b"MM\0*".to_vec() };
        tiff.extend(w32(8));
        let ifd0_entries = ifd0.len() + usize::from(!exif.is_empty());
        let ifd0_size = 2 + ifd0_entries * 12 + 4;
        let exif_at = 8 + ifd0_size;
        let exif_size = if exif.is_empty() { 0 } else { 2 + exif.len() * 12 + 4 };
        let mut data_at = exif_at + exif_size;
        let mut data = Vec::new();
        let mut table = |entries: &[(u16, &str)], extra: Option<u32>| {
            let mut out = w16((entries.len() + usize::from(extra.is_some())) as u16);
            for (tag, value) in entries {
                let bytes = format!("{value}\0").into_bytes();
                out.extend(w16(*tag));
                out.extend(w16(2));
                out.extend(w32(bytes.len() as u32));
                out.extend(w32(data_at as u32));
                data_at += bytes.len();
                data.extend(bytes);
            }
            if let Some(pointer) = extra {
                out.extend(w16(EXIF_IFD_POINTER));
                out.extend(w16(4));
                out.extend(w32(1));
                out.extend(w32(pointer));
            }
            out.extend(w32(0));
            out
        };
        let first = table(ifd0, (!exif.is_empty()).then_some(exif_at as u32));
        let second = if exif.is_empty() { Vec::new() } else { table(exif, None) };
        tiff.extend(first);
        tiff.extend(second);
        tiff.extend(data);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend(((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend([0xFF, 0xDA, 0x00, 0x02]);
        out
    }

    #[test]
    fn the_original_capture_time_with_its_offset() {
        let taken = jpeg(
            false,
            &[(DATE_TIME, "2026:12:02 08:00:00")],
            &[(DATE_TIME_ORIGINAL, "2026:12:01 09:30:15"), (OFFSET_TIME_ORIGINAL, "+01:00")],
        );
        assert_eq!(capture_time(&taken).as_deref(), Some("2026-12-01T09:30:15+01:00"));
        let little = jpeg(true, &[], &[(DATE_TIME_ORIGINAL, "2026:12:01 09:30:15")]);
        assert_eq!(capture_time(&little).as_deref(), Some("2026-12-01T09:30:15"), "no offset: as written");
        let odd = jpeg(true, &[], &[(DATE_TIME_ORIGINAL, "2026:12:01 09:30:15"), (OFFSET_TIME_ORIGINAL, "+ab:cd")]);
        assert_eq!(capture_time(&odd).as_deref(), Some("2026-12-01T09:30:15"), "a malformed offset is left out");
    }

    #[test]
    fn the_images_time_when_there_is_no_original_and_none_without_exif() {
        let edited = jpeg(true, &[(DATE_TIME, "2026:11:30 18:05:00")], &[]);
        assert_eq!(capture_time(&edited).as_deref(), Some("2026-11-30T18:05:00"));
        assert_eq!(capture_time(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), None, "no EXIF");
        assert_eq!(capture_time(b"%PDF-1.7"), None);
        let garbled = jpeg(true, &[], &[(DATE_TIME_ORIGINAL, "yesterday")]);
        assert_eq!(capture_time(&garbled), None, "unreadable: none, not an error");
        let mut cut = jpeg(false, &[], &[(DATE_TIME_ORIGINAL, "2026:12:01 09:30:15")]);
        cut.truncate(30);
        assert_eq!(capture_time(&cut), None, "truncated: none, never a panic");
    }
}

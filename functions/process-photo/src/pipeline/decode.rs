//! Decoding: JPEG (DCT-scaled to the size the largest rendition needs, or full size with the
//! SIMD decoder), PNG and WebP into RGB(A)8 pixels in sRGB, with the EXIF orientation.

use std::io::Cursor;

use super::*;

/// Decoded pixels: RGB8 or RGBA8, tightly packed.
#[derive(Clone)]
pub(super) struct Pixels {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) alpha: bool,
    pub(super) data: Vec<u8>,
}

pub(super) fn to_srgb(px: &mut Pixels, icc: Option<&[u8]>) {
    // Only RGB profiles describe RGB pixels (a CMYK or grey profile does not apply to them).
    let Some(icc) = icc.filter(|p| p.get(16..20) == Some(b"RGB ")) else { return };
    let Some(input) = qcms::Profile::new_from_slice(icc, false) else { return };
    let mut output = qcms::Profile::new_sRGB();
    output.precache_output_transform();
    let kind = if px.alpha { qcms::DataType::RGBA8 } else { qcms::DataType::RGB8 };
    if let Some(t) = qcms::Transform::new(&input, &output, kind, qcms::Intent::default()) {
        t.apply(&mut px.data);
    }
}

/// The scale a JPEG is decoded at: the smallest the renditions still need, as
/// (width, height) to request in stored orientation.
pub(super) fn needed_size(w: u32, h: u32, swapped: bool) -> (u32, u32) {
    let (uw, uh) = if swapped { (h, w) } else { (w, h) };
    let mut need = (1u32, 1u32);
    for spec in RENDITIONS {
        let (tw, th) = target(spec.fit, uw, uh);
        // Cover crops: the source must keep the crop's size along both axes after scaling.
        let (nw, nh) = match spec.fit {
            Fit::Cover(..) => {
                let s = (f64::from(tw) / f64::from(uw)).max(f64::from(th) / f64::from(uh));
                ((f64::from(uw) * s).ceil() as u32, (f64::from(uh) * s).ceil() as u32)
            }
            Fit::Inside(_) => (tw, th),
        };
        need = (need.0.max(nw), need.1.max(nh));
    }
    if swapped {
        (need.1, need.0)
    } else {
        need
    }
}

/// A complete JPEG ends with an EOI marker (`FF D9`), possibly followed by a camera's trailer.
/// Looked for in the tail only: an EXIF thumbnail's own EOI sits near the start of the file.
pub(super) fn has_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

pub(super) fn decode_jpeg(bytes: &[u8], w: u32, h: u32) -> Result<(Pixels, u8), Rejection> {
    if !has_end_marker(bytes) {
        return Err(Rejection::Corrupt); // truncated: never painted grey and published
    }
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.read_info().map_err(|_| Rejection::Corrupt)?;
    let orientation = d.exif_data().map(exif_orientation).unwrap_or(1);
    let (nw, nh) = needed_size(w, h, orientation >= 5);
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let (sw, sh) = d.scale(clamp(nw), clamp(nh)).map_err(|_| Rejection::Corrupt)?;
    if (u32::from(sw), u32::from(sh)) == (w, h) {
        // No DCT reduction applies: zune-jpeg's SIMD decoder is the faster full decode (with
        // jpeg-decoder, below, for anything it does not take).
        if let Some(decoded) = decode_jpeg_full(bytes, orientation) {
            return Ok(decoded);
        }
    }
    let data = d.decode().map_err(|_| Rejection::Corrupt)?;
    let info = d.info().ok_or(Rejection::Corrupt)?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => data.chunks_exact(2).flat_map(|c| [c[0], c[0], c[0]]).collect(),
        // The decoder undoes Adobe's inverted storage and hands over true C, M, Y, K.
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|c| {
                let k = 255 - u16::from(c[3]);
                [
                    ((255 - u16::from(c[0])) * k / 255) as u8,
                    ((255 - u16::from(c[1])) * k / 255) as u8,
                    ((255 - u16::from(c[2])) * k / 255) as u8,
                ]
            })
            .collect(),
    };
    let mut px = Pixels { width, height, alpha: false, data: rgb };
    if info.pixel_format != jpeg_decoder::PixelFormat::CMYK32 {
        to_srgb(&mut px, d.icc_profile().as_deref());
    }
    Ok((px, orientation))
}

/// A JPEG at full size with zune-jpeg (CMYK comes out as RGB, grey as one channel); `None`
/// if it declines the file or answers in another layout.
pub(super) fn decode_jpeg_full(bytes: &[u8], orientation: u8) -> Option<(Pixels, u8)> {
    // Strict: a truncated or damaged file is refused (`corrupt`), not painted grey.
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB)
        .set_strict_mode(true);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(bytes, options);
    let data = d.decode().ok()?;
    let info = d.info()?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let pixels = width as usize * height as usize;
    let data = match data.len() {
        n if n == pixels * 3 => data,
        n if n == pixels => data.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => return None,
    };
    let mut px = Pixels { width, height, alpha: false, data };
    to_srgb(&mut px, d.icc_profile().as_deref());
    Some((px, orientation))
}

/// The `ICCP` and `EXIF` chunks of a WebP (RIFF) container.
pub(super) fn webp_metadata(bytes: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let (mut icc, mut exif) = (None, None);
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let Some(body) = bytes.get(at + 8..at + 8 + size) else { break };
        match &header[..4] {
            b"ICCP" => icc = Some(body),
            b"EXIF" => exif = Some(body),
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    (icc, exif)
}

/// WebP through libwebp itself (several times faster than a pure-Rust decoder).
pub(super) fn decode_webp(bytes: &[u8]) -> Result<(Pixels, u8), Rejection> {
    let image = webp::Decoder::new(bytes).decode().ok_or(Rejection::Corrupt)?;
    let (icc, exif) = webp_metadata(bytes);
    let mut px = Pixels { width: image.width(), height: image.height(), alpha: image.is_alpha(), data: image.to_vec() };
    to_srgb(&mut px, icc);
    Ok((px, exif.map(exif_orientation).unwrap_or(1)))
}

pub(super) fn decode_png(bytes: &[u8]) -> Result<(Pixels, u8), Rejection> {
    let limits = png::Limits { bytes: (MAX_PIXELS * 8) as usize + 64 * 1024 * 1024 };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    // 16-bit, palette and low-bit grey all come out as 8-bit samples: what WebP encodes.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| Rejection::Corrupt)?;
    let orientation = reader.info().exif_metadata.as_deref().map(exif_orientation).unwrap_or(1);
    let icc = reader.info().icc_profile.as_deref().map(<[u8]>::to_vec);
    let mut data = vec![0; reader.output_buffer_size().ok_or(Rejection::TooManyPixels)?];
    let frame = reader.next_frame(&mut data).map_err(|_| Rejection::Corrupt)?;
    data.truncate(frame.buffer_size());
    let (width, height) = (frame.width, frame.height);
    let (data, alpha) = match frame.color_type {
        png::ColorType::Rgb => (data, false),
        png::ColorType::Rgba => (data, true),
        png::ColorType::Grayscale => (data.iter().flat_map(|&l| [l, l, l]).collect(), false),
        png::ColorType::GrayscaleAlpha => (data.chunks_exact(2).flat_map(|c| [c[0], c[0], c[0], c[1]]).collect(), true),
        png::ColorType::Indexed => return Err(Rejection::Corrupt), // expanded by the transformation above
    };
    let mut px = Pixels { width, height, alpha, data };
    to_srgb(&mut px, icc.as_deref());
    Ok((px, orientation))
}

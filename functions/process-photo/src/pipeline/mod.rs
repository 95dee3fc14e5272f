//! The image pipeline, without S3: bytes in, three WebP renditions (or a rejection) out.
//!
//! Order matters for safety and speed: the real format comes from the magic bytes; the
//! dimensions come from the header and are checked (pixel count, short side) before a single
//! pixel is decoded, so a 60000x60000 "bomb" is refused in microseconds. JPEGs are decoded
//! with DCT scaling (libjpeg's shrink-on-load: 1/2, 1/4, 1/8) to the smallest size the
//! largest rendition still needs. Pixels are converted to sRGB from an embedded ICC profile,
//! resized in stored orientation (fewer pixels to move), then the small outputs are turned
//! by the EXIF orientation. The WebP encoder writes pixels only: no EXIF, GPS, ICC or XMP.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

mod decode;
use decode::*;

/// Why an upload is refused: a normal outcome shown to the owner, never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    NotAnImage,
    UnsupportedFormat,
    TooLarge,
    TooManyPixels,
    TooSmall,
    Corrupt,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Rejection::NotAnImage => "not_an_image",
            Rejection::UnsupportedFormat => "unsupported_format",
            Rejection::TooLarge => "too_large",
            Rejection::TooManyPixels => "too_many_pixels",
            Rejection::TooSmall => "too_small",
            Rejection::Corrupt => "corrupt",
        }
    }
}

pub const MAX_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_PIXELS: u64 = 50_000_000;
pub const MIN_SHORT_SIDE: u32 = 240;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

/// The real format, from the bytes alone (never the name or the declared type).
pub fn sniff(bytes: &[u8]) -> Result<Format, Rejection> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(Format::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(Format::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Ok(Format::WebP),
        // Images we recognise but do not take.
        [b'G', b'I', b'F', b'8', ..]
        | [b'B', b'M', ..]
        | [b'I', b'I', 0x2A, 0x00, ..]
        | [b'M', b'M', 0x00, 0x2A, ..] => Err(Rejection::UnsupportedFormat),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Err(Rejection::UnsupportedFormat), // HEIC, AVIF
        _ => Err(Rejection::NotAnImage),
    }
}

/// Width and height from the header only, then the size rules.
pub fn check_header(bytes: &[u8]) -> Result<(Format, u32, u32), Rejection> {
    if bytes.len() > MAX_BYTES {
        return Err(Rejection::TooLarge);
    }
    let format = sniff(bytes)?;
    let size = imagesize::blob_size(bytes).map_err(|_| Rejection::Corrupt)?;
    let (w, h) = (
        u32::try_from(size.width).map_err(|_| Rejection::TooManyPixels)?,
        u32::try_from(size.height).map_err(|_| Rejection::TooManyPixels)?,
    );
    if w == 0 || h == 0 {
        return Err(Rejection::Corrupt);
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Rejection::TooManyPixels);
    }
    if w.min(h) < MIN_SHORT_SIDE {
        return Err(Rejection::TooSmall);
    }
    Ok((format, w, h))
}

/// A rendition's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Exactly `w x h`, cropped from the centre (never enlarged beyond the source).
    Cover(u32, u32),
    /// Longest side at most `n`, aspect kept, never enlarged.
    Inside(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub fit: Fit,
    pub quality: f32,
    /// libwebp's effort (`method`, 0-6). 4 (libwebp's default and sharp's) chooses modes by
    /// rate-distortion; 2 by distortion alone, in about half the time. `thumb` and `medium`,
    /// which every visitor sees, keep 4; `large` (zoom) takes 2 (decision 0017).
    pub effort: i32,
}

pub const RENDITIONS: [Spec; 3] = [
    Spec { name: "thumb", fit: Fit::Cover(400, 300), quality: 80.0, effort: 4 },
    Spec { name: "medium", fit: Fit::Inside(1024), quality: 82.0, effort: 4 },
    Spec { name: "large", fit: Fit::Inside(2048), quality: 85.0, effort: 2 },
];

#[derive(Debug, Clone)]
pub struct Rendition {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

/// Where the time went (for the benchmark's report).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub decode_ms: f64,
    pub resize_ms: f64,
    pub encode_ms: f64,
}

#[derive(Debug, Clone)]
pub struct Processed {
    pub phases: Phases,
    pub format: Format,
    /// Of the photo as seen (after orientation).
    pub width: u32,
    pub height: u32,
    pub renditions: Vec<Rendition>,
}

/// Output size of `fit` for an upright source `w x h`.
pub fn target(fit: Fit, w: u32, h: u32) -> (u32, u32) {
    match fit {
        Fit::Inside(n) => {
            let long = w.max(h);
            if long <= n {
                (w, h)
            } else {
                let s = f64::from(n) / f64::from(long);
                (((f64::from(w) * s).round() as u32).max(1), ((f64::from(h) * s).round() as u32).max(1))
            }
        }
        // Cover never enlarges: a smaller source gives the largest crop of that aspect it holds.
        Fit::Cover(tw, th) => {
            if w >= tw && h >= th {
                (tw, th)
            } else {
                let s = (f64::from(w) / f64::from(tw)).min(f64::from(h) / f64::from(th));
                (((f64::from(tw) * s).floor() as u32).max(1), ((f64::from(th) * s).floor() as u32).max(1))
            }
        }
    }
}

/// EXIF orientation (1-8) from a TIFF-structured EXIF block; 1 when absent or unreadable.
pub fn exif_orientation(exif: &[u8]) -> u8 {
    let exif = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let le = match exif.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return 1,
    };
    let u16_at = |o: usize| {
        exif.get(o..o + 2).map(|b| if le { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) })
    };
    let u32_at = |o: usize| {
        exif.get(o..o + 4).map(|b| {
            if le {
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            } else {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            }
        })
    };
    let Some(ifd) = u32_at(4).map(|o| o as usize) else { return 1 };
    let Some(count) = u16_at(ifd) else { return 1 };
    for i in 0..usize::from(count) {
        let entry = ifd + 2 + i * 12;
        if u16_at(entry) == Some(0x0112) {
            return u16_at(entry + 8).and_then(|v| u8::try_from(v).ok()).filter(|v| (1..=8).contains(v)).unwrap_or(1);
        }
    }
    1
}

fn resize(px: &Pixels, fit: Fit, orientation: u8, resizer: &mut Resizer) -> Result<Pixels, Rejection> {
    let swapped = orientation >= 5;
    let (uw, uh) = if swapped { (px.height, px.width) } else { (px.width, px.height) };
    let (tw, th) = target(fit, uw, uh);
    let (sw, sh) = if swapped { (th, tw) } else { (tw, th) };
    let kind = if px.alpha { PixelType::U8x4 } else { PixelType::U8x3 };
    let src = ImageRef::new(px.width, px.height, &px.data, kind).map_err(|_| Rejection::Corrupt)?;
    let mut dst = Image::new(sw, sh, kind);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if matches!(fit, Fit::Cover(..)) {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    resizer.resize(&src, &mut dst, &options).map_err(|_| Rejection::Corrupt)?;
    Ok(Pixels { width: sw, height: sh, alpha: px.alpha, data: dst.into_vec() })
}

/// The stored pixels turned upright by the EXIF orientation (2-8; 1 and anything else is as
/// stored), as a new image: the rendition it reads from may still be needed.
fn orient(px: &Pixels, orientation: u8) -> Result<Pixels, Rejection> {
    if !(2..=8).contains(&orientation) {
        return Ok(px.clone());
    }
    let (w, h) = (px.width as usize, px.height as usize);
    let channels = if px.alpha { 4 } else { 3 };
    if px.data.len() != w * h * channels {
        return Err(Rejection::Corrupt); // every index below is then in bounds
    }
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut data = Vec::with_capacity(px.data.len());
    for y in 0..oh {
        for x in 0..ow {
            // The stored pixel that lands at (x, y) of the upright image.
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let at = (sy * w + sx) * channels;
            data.extend_from_slice(&px.data[at..at + channels]);
        }
    }
    Ok(Pixels { width: ow as u32, height: oh as u32, alpha: px.alpha, data })
}

fn encode(px: &Pixels, spec: &Spec) -> Result<Vec<u8>, Rejection> {
    let encoder = if px.alpha {
        webp::Encoder::from_rgba(&px.data, px.width, px.height)
    } else {
        webp::Encoder::from_rgb(&px.data, px.width, px.height)
    };
    // The crate's `encode` unwraps inside; the advanced call reports failure instead.
    let mut config = webp::WebPConfig::new().map_err(|_| Rejection::Corrupt)?;
    config.quality = spec.quality;
    config.method = spec.effort;
    encoder.encode_advanced(&config).map(|m| m.to_vec()).map_err(|_| Rejection::Corrupt)
}

/// Bytes in, renditions out (or why not).
pub fn process(bytes: &[u8]) -> Result<Processed, Rejection> {
    let started = std::time::Instant::now();
    let mut phases = Phases::default();
    let (format, w, h) = check_header(bytes)?;
    let (pixels, orientation) = match format {
        Format::Jpeg => decode_jpeg(bytes, w, h)?,
        Format::WebP => decode_webp(bytes)?,
        Format::Png => decode_png(bytes)?,
    };
    phases.decode_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (width, height) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut resizer = Resizer::new();
    // Largest first; each smaller rendition is made from the one before (fewer pixels to read).
    let mut renditions = Vec::with_capacity(3);
    let mut source = pixels;
    for spec in RENDITIONS.iter().rev() {
        let t0 = std::time::Instant::now();
        let scaled = resize(&source, spec.fit, orientation, &mut resizer)?;
        phases.resize_ms += t0.elapsed().as_secs_f64() * 1000.0;
        let t0 = std::time::Instant::now();
        let (rw, rh) = if orientation >= 5 { (scaled.height, scaled.width) } else { (scaled.width, scaled.height) };
        let webp =
            if orientation <= 1 { encode(&scaled, spec)? } else { encode(&orient(&scaled, orientation)?, spec)? };
        phases.encode_ms += t0.elapsed().as_secs_f64() * 1000.0;
        renditions.push(Rendition { name: spec.name, width: rw, height: rh, webp });
        if let Fit::Inside(_) = spec.fit {
            source = scaled;
        }
    }
    renditions.reverse();
    Ok(Processed { phases, format, width, height, renditions })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A JPEG of `w x h` (a gradient, so it compresses like a photo), with optional EXIF.
    fn jpeg(w: u16, h: u16, exif: Option<Vec<u8>>) -> Vec<u8> {
        let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
        for y in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
            }
        }
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
        if let Some(e) = exif {
            enc.add_app_segment(1, &e).unwrap();
        }
        enc.encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    /// EXIF with an orientation tag and a GPS marker string that must never reach an output.
    fn exif(orientation: u16) -> Vec<u8> {
        let mut e = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
        e.extend_from_slice(&1u16.to_be_bytes());
        e.extend_from_slice(&0x0112u16.to_be_bytes());
        e.extend_from_slice(&3u16.to_be_bytes());
        e.extend_from_slice(&1u32.to_be_bytes());
        e.extend_from_slice(&orientation.to_be_bytes());
        e.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        e.extend_from_slice(b"GPSLatitude 52.5200 N secret-place");
        e
    }

    fn png_rgba(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, _| image::Rgba([200, 50, 50, if x < w / 2 { 0 } else { 255 }]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    fn dims(p: &Processed) -> Vec<(&'static str, u32, u32)> {
        p.renditions.iter().map(|r| (r.name, r.width, r.height)).collect()
    }

    fn decoded(webp: &[u8]) -> image::DynamicImage {
        image::load_from_memory_with_format(webp, image::ImageFormat::WebP).unwrap()
    }

    #[test]
    fn every_reason_code() {
        assert_eq!(process(b"hello, I am a text file pretending to be a JPEG").unwrap_err(), Rejection::NotAnImage);
        assert_eq!(process(b"GIF89a\x01\x00\x01\x00 and more").unwrap_err(), Rejection::UnsupportedFormat);
        let mut huge = vec![0u8; MAX_BYTES + 1];
        huge[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        assert_eq!(process(&huge).unwrap_err(), Rejection::TooLarge);
        assert_eq!(process(&jpeg(320, 200, None)).unwrap_err(), Rejection::TooSmall);
        let mut broken = jpeg(640, 480, None);
        broken.truncate(broken.len() / 3);
        broken.extend_from_slice(&[0x13; 64]);
        assert_eq!(process(&broken).unwrap_err(), Rejection::Corrupt);
        assert_eq!(process(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap_err(), Rejection::Corrupt);
        assert_eq!(Rejection::TooManyPixels.code(), "too_many_pixels");
    }

    #[test]
    fn decompression_bombs_are_refused_from_the_header_in_milliseconds() {
        // A valid PNG header claiming 60000 x 60000 (3.6 GP) with almost no data behind it.
        let mut bomb = png_rgba(300, 300);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let started = std::time::Instant::now();
        assert_eq!(process(&bomb).unwrap_err(), Rejection::TooManyPixels);
        assert!(started.elapsed() < std::time::Duration::from_millis(50), "{:?}", started.elapsed());
    }

    #[test]
    fn orientation_3_6_8_give_upright_outputs() {
        for (o, (w, h)) in [(1, (600, 400)), (3, (600, 400)), (6, (400, 600)), (8, (400, 600))] {
            let p = process(&jpeg(600, 400, Some(exif(o)))).unwrap();
            assert_eq!((p.width, p.height), (w, h), "orientation {o}");
            assert_eq!(dims(&p), vec![("thumb", 400, 300), ("medium", w, h), ("large", w, h)], "orientation {o}");
            for r in &p.renditions {
                let img = decoded(&r.webp);
                assert_eq!((img.width(), img.height()), (r.width, r.height), "orientation {o} {}", r.name);
            }
        }
    }

    #[test]
    fn never_enlarges_and_keeps_aspect() {
        let p = process(&jpeg(500, 300, None)).unwrap();
        assert_eq!(dims(&p), vec![("thumb", 400, 300), ("medium", 500, 300), ("large", 500, 300)]);
        let p = process(&jpeg(3000, 2000, None)).unwrap();
        assert_eq!(dims(&p), vec![("thumb", 400, 300), ("medium", 1024, 683), ("large", 2048, 1365)]);
        let p = process(&jpeg(300, 250, None)).unwrap();
        assert_eq!(dims(&p)[0], ("thumb", 300, 225), "a small source gives the largest 4:3 crop it holds");
    }

    #[test]
    fn alpha_survives_and_the_outputs_are_webp() {
        let p = process(&png_rgba(800, 600)).unwrap();
        for r in &p.renditions {
            assert_eq!(&r.webp[..4], b"RIFF");
            assert_eq!(&r.webp[8..12], b"WEBP");
            let img = decoded(&r.webp);
            assert!(img.color().has_alpha(), "{}", r.name);
            let rgba = img.to_rgba8();
            assert_eq!(
                rgba.get_pixel(0, rgba.height() / 2)[3],
                0,
                "{}: the transparent half stays transparent",
                r.name
            );
            assert_eq!(rgba.get_pixel(rgba.width() - 1, rgba.height() / 2)[3], 255, "{}", r.name);
        }
    }

    #[test]
    fn no_metadata_in_any_output() {
        let p = process(&jpeg(1200, 900, Some(exif(6)))).unwrap();
        for r in &p.renditions {
            let has = |needle: &[u8]| r.webp.windows(needle.len()).any(|w| w == needle);
            assert!(!has(b"EXIF") && !has(b"Exif") && !has(b"XMP ") && !has(b"ICCP"), "{}: a metadata chunk", r.name);
            assert!(!has(b"GPSLatitude") && !has(b"secret-place"), "{}: GPS data leaked", r.name);
        }
    }

    #[test]
    fn cmyk_and_greyscale_jpegs_decode_to_the_right_colours() {
        let (w, h) = (640u16, 480u16);
        let mut cmyk = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                // Left: no ink (white). Right: full black.
                cmyk.extend_from_slice(if x < w / 2 { &[0, 0, 0, 0] } else { &[0, 0, 0, 255] });
            }
        }
        let mut file = Vec::new();
        jpeg_encoder::Encoder::new(&mut file, 90).encode(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk).unwrap();
        let thumb = decoded(&process(&file).unwrap().renditions[0].webp).to_rgb8();
        let (left, right) = (thumb.get_pixel(20, 150), thumb.get_pixel(380, 150));
        assert!(left.0.iter().all(|&v| v > 230), "white stays white: {left:?}");
        assert!(right.0.iter().all(|&v| v < 25), "black stays black: {right:?}");

        let grey: Vec<u8> = (0..u32::from(w) * u32::from(h)).map(|i| (i % 251) as u8).collect();
        let mut file = Vec::new();
        jpeg_encoder::Encoder::new(&mut file, 90).encode(&grey, w, h, jpeg_encoder::ColorType::Luma).unwrap();
        let p = process(&file).unwrap();
        assert_eq!((p.width, p.height), (640, 480));
    }

    #[test]
    fn sixteen_bit_grey_alpha_and_palette_pngs_decode() {
        let img16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(500, 400, |x, y| {
            image::Rgb([(x * 100) as u16, (y * 100) as u16, 30000])
        });
        let mut file = Vec::new();
        image::DynamicImage::ImageRgb16(img16).write_to(&mut Cursor::new(&mut file), image::ImageFormat::Png).unwrap();
        assert_eq!(process(&file).unwrap().renditions[2].width, 500);
        let grey_alpha = image::DynamicImage::ImageLumaA8(image::ImageBuffer::from_fn(400, 300, |x, _| {
            image::LumaA([(x % 256) as u8, 200])
        }));
        let mut file = Vec::new();
        grey_alpha.write_to(&mut Cursor::new(&mut file), image::ImageFormat::Png).unwrap();
        assert!(decoded(&process(&file).unwrap().renditions[0].webp).color().has_alpha());

        // Palette with a transparent entry: left half index 0 (transparent), right half opaque blue.
        let (w, h) = (400u32, 300u32);
        let indices: Vec<u8> = (0..w * h).map(|i| u8::from(i % w >= w / 2)).collect();
        let mut file = Vec::new();
        let mut enc = png::Encoder::new(&mut file, w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
        enc.set_trns(vec![0, 255]);
        enc.write_header().unwrap().write_image_data(&indices).unwrap();
        let thumb = decoded(&process(&file).unwrap().renditions[0].webp).to_rgba8();
        assert_eq!(thumb.get_pixel(10, 150)[3], 0, "the transparent palette entry stays transparent");
        let right = thumb.get_pixel(390, 150);
        assert!(right[3] == 255 && right[2] > 230 && right[0] < 25, "palette colour kept: {right:?}");
    }

    #[test]
    fn a_pngs_exif_orientation_is_applied() {
        let mut info = png::Info::with_size(600, 400);
        info.color_type = png::ColorType::Rgb;
        info.bit_depth = png::BitDepth::Eight;
        info.exif_metadata = Some(exif(6)[6..].to_vec().into()); // eXIf holds the TIFF block, no "Exif\0\0"
        let mut file = Vec::new();
        png::Encoder::with_info(&mut file, info)
            .unwrap()
            .write_header()
            .unwrap()
            .write_image_data(&vec![90u8; 600 * 400 * 3])
            .unwrap();
        let p = process(&file).unwrap();
        assert_eq!((p.width, p.height), (400, 600));
        assert_eq!(dims(&p)[2], ("large", 400, 600));
    }

    #[test]
    fn orient_matches_the_image_crates_exif_orientations() {
        for alpha in [false, true] {
            let channels = if alpha { 4 } else { 3 };
            let (w, h) = (5u32, 3u32);
            let data: Vec<u8> = (0..w * h * channels).map(|i| i as u8).collect();
            for o in 1..=8u8 {
                let ours = orient(&Pixels { width: w, height: h, alpha, data: data.clone() }, o).unwrap();
                let mut theirs = if alpha {
                    image::DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, data.clone()).unwrap())
                } else {
                    image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, data.clone()).unwrap())
                };
                theirs.apply_orientation(image::metadata::Orientation::from_exif(o).unwrap());
                assert_eq!((ours.width, ours.height), (theirs.width(), theirs.height()), "orientation {o}");
                assert_eq!(ours.data, theirs.as_bytes(), "orientation {o}, alpha {alpha}");
            }
        }
    }

    #[test]
    fn exif_orientation_parsing() {
        assert_eq!(exif_orientation(&exif(6)), 6);
        assert_eq!(exif_orientation(b"Exif\0\0garbage"), 1);
        assert_eq!(exif_orientation(&[]), 1);
    }
}

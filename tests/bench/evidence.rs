//! Evidence check benchmark (issue 23): a PDF of just under 20 MiB (200 pages with their content
//! streams, a 19 MiB image stream, a compressed object stream of 2,000 objects), written once,
//! then read once into memory and checked by `shared::domain::evidence::check` over and over
//! on one thread, as the claim's function will: prints the median time, the throughput, the
//! process's peak RSS with the file read, and what the check added to it. Run by
//! `scripts/bench-evidence`.
//!
//!   bench-evidence write PATH [--indirect]   (the image stream's /Length an indirect object:
//!                                             its end found by its keyword, the slow path)
//!   bench-evidence check PATH [RUNS]

use std::io::Write;
use std::time::Instant;

use shared::domain::evidence::{check, EvidenceType, MAX_EVIDENCE_BYTES};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map(|kb: f64| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Bytes that look like compressed image data (xorshift), never a PDF token on purpose.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn object(out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]) -> usize {
    offsets.push(out.len());
    let n = offsets.len();
    writeln!(out, "{n} 0 obj").unwrap();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
    n
}

fn stream(dict: &str, data: &[u8], indirect: bool) -> Vec<u8> {
    let length = if indirect { "9999 0 R".to_owned() } else { data.len().to_string() };
    let mut s = format!("<< {dict} /Length {length} >>\nstream\n").into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

/// The benchmark's PDF: classic cross-reference table, every kind of object the check reads.
fn document(indirect: bool) -> Vec<u8> {
    let (mut out, mut offsets) = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(), Vec::new());
    let pages = 200;
    object(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages).map(|p| format!("{} 0 R", 3 + 2 * p)).collect();
    object(&mut out, &mut offsets, format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")).as_bytes());
    let image = 3 + 2 * pages;
    for p in 0..pages {
        let page = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /XObject << /Im1 {image} 0 R >> >> >>",
            4 + 2 * p
        );
        object(&mut out, &mut offsets, page.as_bytes());
        let text =
            format!("BT /F1 12 Tf 72 712 Td (Damage report, page {p}: scratch on the lens hood) Tj ET\n").repeat(12);
        object(&mut out, &mut offsets, &stream("", text.as_bytes(), false));
    }
    let image_bytes = MAX_EVIDENCE_BYTES - 1024 * 1024;
    object(&mut out, &mut offsets, &stream("/Type /XObject /Subtype /Image /Width 4000 /Height 3000 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode", &noise(image_bytes), indirect));
    let objects: String = (0..2000)
        .map(|i| format!("<< /Type /Annot /Subtype /Text /Contents (note {i}) /Rect [0 0 10 10] >>\n"))
        .collect();
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(objects.as_bytes(), 6);
    object(&mut out, &mut offsets, &stream("/Type /ObjStm /N 2000 /First 0 /Filter /FlateDecode", &packed, false));
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).unwrap();
    for o in &offsets {
        writeln!(out, "{o:010} 00000 n ").unwrap();
    }
    write!(out, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).unwrap();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("write"), Some(path)) => {
            let file = document(args.get(3).map(String::as_str) == Some("--indirect"));
            assert!(file.len() <= MAX_EVIDENCE_BYTES, "{} bytes", file.len());
            std::fs::write(path, file).expect("the PDF written");
        }
        (Some("check"), Some(path)) => measure(path, args.get(3).and_then(|r| r.parse().ok()).unwrap_or(20)),
        _ => panic!("usage: bench-evidence write PATH | check PATH [RUNS]"),
    }
}

fn measure(path: &str, runs: usize) {
    let file = std::fs::read(path).expect("the PDF");
    let before = peak_rss_mib();
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let kind = check(std::hint::black_box(&file));
            assert_eq!(kind, Ok(EvidenceType::Pdf), "the benchmark's PDF passes");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let mib = file.len() as f64 / (1024.0 * 1024.0);
    let peak = peak_rss_mib();
    println!(
        "evidence check: {mib:.2} MiB PDF, {runs} runs: median {median:.1} ms (min {:.1}, max {:.1}), {:.0} MiB/s; \
         peak RSS {peak:.1} MiB ({before:.1} MiB with the file read; the check added {:.1} MiB)",
        ms[0],
        ms[ms.len() - 1],
        mib / (median / 1000.0),
        peak - before
    );
}

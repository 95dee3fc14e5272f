//! Image pipeline benchmark: the function's own core (decode -> orient -> three renditions ->
//! WebP, no S3), one file at a time on one thread, over a folder of photos; and an SSIM
//! comparison of our renditions against another tool's. Run by `scripts/bench-images`.
//!
//!   bench-images run CORPUS [--out DIR] [--json FILE]
//!   bench-images compare OURS_DIR THEIRS_DIR        (files named {stem}.{rendition}.webp)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use process_photo::pipeline;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["jpg", "jpeg", "png", "webp"].contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    out.sort();
    out
}

fn run(args: &[String]) {
    let corpus = PathBuf::from(args.first().expect("usage: bench-images run CORPUS [--out DIR] [--json FILE]"));
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let (out, json) = (flag("--out"), flag("--json"));
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).expect("out dir");
    }
    let mut per_format: BTreeMap<&'static str, (f64, f64, usize)> = BTreeMap::new();
    let mut phases = pipeline::Phases::default();
    let mut results = Vec::new();
    let started = Instant::now();
    for file in files(&corpus) {
        let t0 = Instant::now();
        let bytes = std::fs::read(&file).expect("read");
        let processed = pipeline::process(&bytes);
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        match processed {
            Ok(p) => {
                let mp = f64::from(p.width) * f64::from(p.height) / 1e6;
                let format = match p.format {
                    pipeline::Format::Jpeg => "jpeg",
                    pipeline::Format::Png => "png",
                    pipeline::Format::WebP => "webp",
                };
                phases.decode_ms += p.phases.decode_ms;
                phases.resize_ms += p.phases.resize_ms;
                phases.encode_ms += p.phases.encode_ms;
                let entry = per_format.entry(format).or_default();
                *entry = (entry.0 + ms, entry.1 + mp, entry.2 + 1);
                let sizes: Vec<String> = p.renditions.iter().map(|r| format!("{}x{}", r.width, r.height)).collect();
                println!("{ms:8.1} ms {mp:6.1} MP {:6.1} ms/MP  {format:<4} {name} -> {}", ms / mp, sizes.join(" "));
                if let Some(dir) = &out {
                    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                    for r in &p.renditions {
                        std::fs::write(dir.join(format!("{stem}.{}.webp", r.name)), &r.webp).expect("write");
                    }
                }
                results.push(serde_json::json!({"file": name, "format": format, "mp": mp, "ms": ms, "outs": sizes}));
            }
            Err(r) => {
                println!("{ms:8.1} ms  REJECTED {} {name}", r.code());
                results.push(serde_json::json!({"file": name, "error": r.code(), "ms": ms}));
            }
        }
    }
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (ok, mp) = per_format.values().fold((0, 0.0), |(n, m), v| (n + v.2, m + v.1));
    let summary = serde_json::json!({
        "files": results.len(), "ok": ok, "totalMs": total_ms, "imagesPerSec": ok as f64 / (total_ms / 1000.0),
        "inputMP": mp, "msPerMP": total_ms / mp, "maxRssMiB": peak_rss_mib(),
        "phasesMs": {"decode": phases.decode_ms, "resize": phases.resize_ms, "encode": phases.encode_ms},
        "perFormat": per_format.iter().map(|(f, (ms, mp, n))| (f.to_string(), serde_json::json!({"files": n, "ms": ms, "mp": mp, "msPerMP": ms / mp}))).collect::<BTreeMap<_, _>>(),
    });
    println!(
        "PHASES decode {:.0} ms, resize {:.0} ms, encode {:.0} ms",
        phases.decode_ms, phases.resize_ms, phases.encode_ms
    );
    println!(
        "TOTAL {:.3} s | {ok} ok | {:.2} images/s | {mp:.1} MP in | {:.1} ms/MP | maxRSS {:.0} MiB",
        total_ms / 1000.0,
        summary["imagesPerSec"].as_f64().unwrap_or(0.0),
        total_ms / mp,
        peak_rss_mib()
    );
    if let Some(path) = json {
        std::fs::write(
            path,
            serde_json::to_vec_pretty(&serde_json::json!({"summary": summary, "results": results})).expect("json"),
        )
        .expect("write json");
    }
}

/// Mean SSIM over 8x8 blocks of luma (the classic constants), after scaling `b` to `a`'s size
/// if the two tools rounded a dimension differently.
fn ssim(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    let b = if a.dimensions() == b.dimensions() {
        b.clone()
    } else {
        image::imageops::resize(b, a.width(), a.height(), image::imageops::FilterType::Triangle)
    };
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut sum, mut n) = (0.0, 0);
    for by in (0..a.height().saturating_sub(7)).step_by(8) {
        for bx in (0..a.width().saturating_sub(7)).step_by(8) {
            let (mut ma, mut mb, mut va, mut vb, mut cov) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for y in by..by + 8 {
                for x in bx..bx + 8 {
                    let (pa, pb) = (f64::from(a.get_pixel(x, y)[0]), f64::from(b.get_pixel(x, y)[0]));
                    ma += pa;
                    mb += pb;
                }
            }
            ma /= 64.0;
            mb /= 64.0;
            for y in by..by + 8 {
                for x in bx..bx + 8 {
                    let (pa, pb) = (f64::from(a.get_pixel(x, y)[0]) - ma, f64::from(b.get_pixel(x, y)[0]) - mb);
                    va += pa * pa;
                    vb += pb * pb;
                    cov += pa * pb;
                }
            }
            let (va, vb, cov) = (va / 63.0, vb / 63.0, cov / 63.0);
            sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    if n == 0 {
        1.0
    } else {
        sum / f64::from(n)
    }
}

fn compare(args: &[String]) {
    let (ours, theirs) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let mut scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut names: Vec<_> = std::fs::read_dir(&ours)
        .expect("ours")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let other = theirs.join(&name);
        if !other.exists() {
            continue;
        }
        let load = |p: &Path| image::open(p).expect("decode webp").to_luma8();
        let s = ssim(&load(&ours.join(&name)), &load(&other));
        let rendition = name.rsplit('.').nth(1).unwrap_or("?").to_owned();
        println!("SSIM {s:.4}  {name}");
        scores.entry(rendition).or_default().push(s);
    }
    for (r, s) in &scores {
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        let min = s.iter().copied().fold(f64::MAX, f64::min);
        println!("SSIM {r}: mean {mean:.4}, min {min:.4} over {} files", s.len());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("compare") if args.len() == 3 => compare(&args[1..]),
        _ => eprintln!("usage: bench-images run CORPUS [--out DIR] [--json FILE] | compare OURS THEIRS"),
    }
}

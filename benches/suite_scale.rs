//! Suite time against scenario count (`cargo bench --bench suite_scale`): the whole suite and
//! growing selections of it against the embedded reference SUT, each run as users run it (the
//! release binary, one process per run). The baseline is a one-scenario run in the same
//! command: its time is the fixed cost (PKI load, world, peer and SUT start), and every other
//! row is reported as a ratio to it, with the marginal time per scenario.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_direct-conformance");

struct Row {
    label: &'static str,
    scenarios: usize,
    seconds: f64,
}

fn run(label: &'static str, args: &[&str], dir: &Path) -> Option<Row> {
    let report = dir.join(label.replace(' ', "-"));
    let start = Instant::now();
    let out = Command::new(BIN)
        .arg("run")
        .args(args)
        .arg("--report-dir")
        .arg(&report)
        .output()
        .ok()?;
    let seconds = start.elapsed().as_secs_f64();
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    if out.status.code() != Some(0) {
        eprintln!("{label}: exit {:?}: {last}", out.status.code());
        return None;
    }
    // "N passed, N failed, N skipped"
    let scenarios = last
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Some(Row {
        label,
        scenarios,
        seconds,
    })
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run only for bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("suite-scale-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let selections: [(&'static str, Vec<&str>); 5] = [
        ("baseline 1", vec!["--tags", "@RX-01 and not @needs-audit"]),
        ("RX-0x", vec!["--name", "^RX-0"]),
        ("trust-receive", vec!["--name", "^RX-"]),
        ("half", vec!["--name", "^(RX-|MT|MN|SMTP)"]),
        ("whole suite", vec![]),
    ];
    let mut rows = Vec::new();
    for (label, args) in selections {
        if let Some(r) = run(label, &args, &dir) {
            eprintln!("{label}: {} scenarios in {:.2} s", r.scenarios, r.seconds);
            rows.push(r);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let Some(base) = rows.first().filter(|r| r.label == "baseline 1") else {
        eprintln!("the baseline run failed; no ratios");
        std::process::exit(1);
    };
    let (b_n, b_s) = (base.scenarios, base.seconds);
    println!("| selection | scenarios | seconds | × baseline | marginal s/scenario |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        let marginal = if r.scenarios > b_n {
            format!("{:.3}", (r.seconds - b_s) / (r.scenarios - b_n) as f64)
        } else {
            "—".into()
        };
        println!(
            "| {} | {} | {:.2} | {:.2} | {} |",
            r.label,
            r.scenarios,
            r.seconds,
            r.seconds / b_s,
            marginal
        );
    }
}

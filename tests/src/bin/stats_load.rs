//! Load generator for `POST /stats` (used by `make bench`): N keep-alive connections each post
//! one device's batch of events in a loop for a fixed time, then stop sending and wait for every
//! answer, so the number of acknowledged events is exact and can be compared with the database.
//!
//! Usage: stats_load ADDR CONNECTIONS SECONDS EVENTS_PER_BATCH APPS

#![allow(clippy::unwrap_used, reason = "a benchmark tool: a failed step should stop it loudly")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const ACTIONS: [&str; 8] = [
    "app_moved_to_foreground",
    "app_moved_to_background",
    "app_launch_start",
    "app_launch_ready",
    "webview_page_loaded",
    "download_complete",
    "set",
    "download_50",
];

struct Totals {
    acknowledged_batches: u64,
    other_statuses: u64,
    latencies_us: Vec<u64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: stats_load ADDR CONNECTIONS SECONDS EVENTS_PER_BATCH APPS");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[1].parse().unwrap();
    let connections: u64 = args[2].parse().unwrap();
    let seconds: u64 = args[3].parse().unwrap();
    let per_batch: usize = args[4].parse().unwrap();
    let apps: u64 = args[5].parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| std::thread::spawn(move || run(addr, worker, deadline, per_batch, apps)))
        .collect();
    let mut totals = Totals { acknowledged_batches: 0, other_statuses: 0, latencies_us: Vec::new() };
    for worker in workers {
        let part = worker.join().unwrap();
        totals.acknowledged_batches += part.acknowledged_batches;
        totals.other_statuses += part.other_statuses;
        totals.latencies_us.extend(part.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    totals.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let index = ((totals.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        totals.latencies_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
    };
    let events = totals.acknowledged_batches * per_batch as u64;
    println!(
        "acknowledged_events {events} batches {} non_2xx {} seconds {elapsed:.2} events_per_second {:.0} p50_ms {:.2} p99_ms {:.2}",
        totals.acknowledged_batches,
        totals.other_statuses,
        events as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
    );
}

fn run(addr: SocketAddr, worker: u64, deadline: Instant, per_batch: usize, apps: u64) -> Totals {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut totals = Totals { acknowledged_batches: 0, other_statuses: 0, latencies_us: Vec::new() };
    let mut sequence = 0u64;
    while Instant::now() < deadline {
        sequence += 1;
        let body = batch(worker, sequence, per_batch, apps);
        let head = format!(
            "POST /stats HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let sent = Instant::now();
        writer.write_all(head.as_bytes()).unwrap();
        writer.write_all(body.as_bytes()).unwrap();
        let status = read_response(&mut reader);
        totals.latencies_us.push(sent.elapsed().as_micros() as u64);
        if status == 200 {
            totals.acknowledged_batches += 1;
        } else {
            totals.other_statuses += 1;
        }
    }
    totals
}

/// One device's batch: the device is unique per (worker, sequence), the app derived from it.
fn batch(worker: u64, sequence: u64, per_batch: usize, apps: u64) -> String {
    let device = format!("{worker:08x}-0000-4000-8000-{sequence:012x}");
    let app = 1 + (worker * 7919 + sequence) % apps;
    let events: Vec<String> = (0..per_batch)
        .map(|i| {
            let action = ACTIONS[(sequence as usize + i) % ACTIONS.len()];
            let metadata = if action == "app_launch_ready" {
                format!(r#","metadata":{{"duration_ms":"{}","source":"cold"}}"#, 200 + (sequence + i as u64) % 2800)
            } else {
                String::new()
            };
            format!(
                r#"{{"app_id":"com.bench.app{app}","device_id":"{device}","platform":"android","version_build":"1.0.0","version_code":"10","version_os":"14","version_name":"1.0.99","old_version_name":"1.0.98","plugin_version":"8.51.14","is_emulator":false,"is_prod":true,"action":"{action}","timestamp":1764200000000,"custom_id":"","defaultChannel":""{metadata}}}"#
            )
        })
        .collect();
    format!("[{}]", events.join(","))
}

/// Reads one response with a Content-Length body and returns its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    status
}

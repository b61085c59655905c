//! The soak's load: run by `scripts/soak.sh`, which starts the real server
//! and hands over its address and process id.
//!
//! For the given minutes, at once: each demo field worker's phone delivers
//! a few signed visits of its own households every second through
//! `POST /api/sync/v1/visits` (now and then re-sending a batch, as a phone
//! that lost the answer does); office staff load pages and dashboards;
//! people sign in, with the right password and with wrong ones for
//! made-up names, and once a minute 16 wrong ones arrive at the same
//! moment. Every interval it prints the server's resident memory (VmRSS,
//! and the peak VmHWM from `/proc/<pid>/status`) with what was done; at the
//! end the peak against the bound. It exits non-zero if the peak passed the
//! bound or any answer was a 5xx.
//!
//! `soak --addr 127.0.0.1:3000 --pid 1234 --minutes 30 [--interval 60] [--bound-mib 300]`

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use daohu::demo::DEMO_PASSWORD;
use daohu::field::Roster;
use daohu::visits::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

#[derive(Default)]
struct Counts {
    visits_sent: AtomicU64,
    stored: AtomicU64,
    already_stored: AtomicU64,
    refused_visits: AtomicU64,
    pages: AtomicU64,
    sign_in_ok: AtomicU64,
    sign_in_refused: AtomicU64,
    sign_in_throttled: AtomicU64,
    sign_in_busy: AtomicU64,
    server_errors: AtomicU64,
    other: AtomicU64,
}

impl Counts {
    fn status(&self, status: u16) {
        if status >= 500 || status == 0 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Args {
    addr: SocketAddr,
    pid: u32,
    minutes: f64,
    interval: u64,
    bound_mib: u64,
}

fn args() -> anyhow::Result<Args> {
    let raw: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        raw.iter()
            .position(|a| a == name)
            .and_then(|i| raw.get(i + 1))
            .cloned()
    };
    Ok(Args {
        addr: get("--addr").unwrap_or("127.0.0.1:3000".into()).parse()?,
        pid: get("--pid")
            .ok_or_else(|| anyhow::anyhow!("--pid <server pid> is required"))?
            .parse()?,
        minutes: get("--minutes").unwrap_or("30".into()).parse()?,
        interval: get("--interval").unwrap_or("60".into()).parse()?,
        bound_mib: get("--bound-mib").unwrap_or("300".into()).parse()?,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();

    for worker in ["worker1", "worker2", "worker3", "worker4"] {
        let (cookie, _) = sign_in(args.addr, worker, DEMO_PASSWORD).await?;
        let reply = request(args.addr, "GET", daohu::sync::ROSTER_PATH, &cookie, "", b"").await?;
        anyhow::ensure!(reply.0 == 200, "roster of {worker}: {}", reply.0);
        let roster: Roster = serde_json::from_slice(&reply.1)?;
        anyhow::ensure!(!roster.households.is_empty(), "{worker} has no households");
        tasks.push(tokio::spawn(phone(
            args.addr,
            cookie.clone(),
            roster,
            counts.clone(),
            stop.clone(),
        )));
        tasks.push(tokio::spawn(pages(
            args.addr,
            cookie,
            worker_pages(),
            counts.clone(),
            stop.clone(),
        )));
    }
    for office in ["township1", "county"] {
        let (cookie, area) = sign_in(args.addr, office, DEMO_PASSWORD).await?;
        let paths = vec![
            format!("/areas/{area}"),
            format!("/areas/{area}/discrepancies"),
            format!("/areas/{area}/income"),
            format!("/reports/dispatch/{area}"),
            "/households".into(),
            "/account".into(),
        ];
        tasks.push(tokio::spawn(pages(
            args.addr,
            cookie,
            paths,
            counts.clone(),
            stop.clone(),
        )));
    }
    tasks.push(tokio::spawn(sign_ins(
        args.addr,
        counts.clone(),
        stop.clone(),
    )));

    println!(
        "soak: {} min against {} (pid {}), a line every {} s; bound {} MiB",
        args.minutes, args.addr, args.pid, args.interval, args.bound_mib
    );
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.minutes * 60.0);
    let (rss, hwm) = memory(args.pid)?;
    println!("  0:00  RSS {rss:>4} MiB  peak {hwm:>4} MiB  (start)");
    while Instant::now() < end {
        let next = (Instant::now() + Duration::from_secs(args.interval)).min(end);
        tokio::time::sleep_until(next.into()).await;
        report(&args, start, &counts)?;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    // What it keeps once the load is gone.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (rss, hwm) = memory(args.pid)?;
    let errors = counts.server_errors.load(Ordering::Relaxed);
    println!("idle 5 s later: RSS {rss} MiB");
    println!(
        "peak RSS {hwm} MiB, bound {} MiB: {}; 5xx or failed requests: {errors}",
        args.bound_mib,
        if hwm <= args.bound_mib {
            "within"
        } else {
            "EXCEEDED"
        }
    );
    if hwm > args.bound_mib || errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn report(args: &Args, start: Instant, c: &Counts) -> anyhow::Result<()> {
    let (rss, hwm) = memory(args.pid)?;
    let secs = start.elapsed().as_secs();
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "{:>3}:{:02}  RSS {rss:>4} MiB  peak {hwm:>4} MiB | visits {} sent, {} stored, {} already, {} refused | pages {} | sign-ins {} ok, {} refused, {} throttled, {} busy | other {} | 5xx {}",
        secs / 60,
        secs % 60,
        n(&c.visits_sent),
        n(&c.stored),
        n(&c.already_stored),
        n(&c.refused_visits),
        n(&c.pages),
        n(&c.sign_in_ok),
        n(&c.sign_in_refused),
        n(&c.sign_in_throttled),
        n(&c.sign_in_busy),
        n(&c.other),
        n(&c.server_errors),
    );
    Ok(())
}

/// VmRSS and VmHWM of the server, MiB.
fn memory(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .ok_or_else(|| anyhow::anyhow!("{name} missing"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib / 1024)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn worker_pages() -> Vec<String> {
    vec!["/field".into(), "/households".into(), "/account".into()]
}

/// A phone: a batch of 1–10 visits a second, each a household of its own
/// roster; one batch in ten is sent twice.
async fn phone(
    addr: SocketAddr,
    cookie: String,
    roster: Roster,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut turn = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let size = 1 + turn % 10;
        let visits: Vec<VisitSubmission> =
            (0..size).map(|i| visit(&roster, turn * 7 + i)).collect();
        let body = serde_json::json!({ "visits": visits }).to_string();
        let sends = if turn % 10 == 3 { 2 } else { 1 };
        for _ in 0..sends {
            let (status, reply) = request(
                addr,
                "POST",
                daohu::sync::VISITS_PATH,
                &cookie,
                "application/json",
                body.as_bytes(),
            )
            .await?;
            counts.status(status);
            counts.visits_sent.fetch_add(size as u64, Ordering::Relaxed);
            if status == 200 {
                let reply: daohu::sync::BatchReply = serde_json::from_slice(&reply)?;
                for r in reply.results {
                    let c = match r {
                        VisitOutcome::Stored { .. } => &counts.stored,
                        VisitOutcome::AlreadyStored { .. } => &counts.already_stored,
                        _ => &counts.refused_visits,
                    };
                    c.fetch_add(1, Ordering::Relaxed);
                }
            } else {
                counts.other.fetch_add(1, Ordering::Relaxed);
            }
        }
        turn += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// A signed visit of the `n`th household (mod the roster), every payment
/// due received in full.
fn visit(roster: &Roster, n: usize) -> VisitSubmission {
    let h = &roster.households[n % roster.households.len()];
    let year = daohu::subsidies::StatYear(roster.stat_year);
    let started = (year.first_day().and_hms_opt(2, 0, 0).unwrap().and_utc()
        + chrono::Duration::days(30))
    .min(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0) - chrono::Duration::hours(1));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..2 * 1024).map(|i| (i * 31 % 251) as u8));
    let mut v = VisitSubmission {
        id: Uuid::now_v7(),
        household_id: h.summary.id,
        stat_year: roster.stat_year,
        started_at: started,
        ended_at: started + chrono::Duration::minutes(18),
        met_with: "户主本人".into(),
        notes: "浸泡测试".into(),
        location: Location::Fix {
            lat_e6: 35_579_812,
            lon_e6: 104_626_301,
            accuracy_m: 15,
        },
        lines: h
            .entitlements
            .iter()
            .map(|e| VerificationLine {
                entitlement_id: e.id,
                status: PaymentStatus::ReceivedInFull,
                received_fen: Some(e.expected.0),
                received_on: Some(started.date_naive()),
                channel: Some(e.channel),
                reason: None,
                reason_text: String::new(),
            })
            .collect(),
        signature: Signature {
            signer_name: "户主".into(),
            signer_relation: "户主".into(),
            thumbprint: false,
            proxy_reason: None,
            strokes_json: "[[[10,20,0],[30,40,16]]]".into(),
            png_base64: base64::engine::general_purpose::STANDARD.encode(&png),
            content_hash: String::new(),
        },
        photo_base64: None,
        measure_updates: Vec::new(),
        income: Vec::new(),
        household_size: None,
        evidence: Vec::new(),
    };
    v.lines.sort_by_key(|l| l.entitlement_id);
    v.signature.content_hash = confirmation_hash(&v);
    v
}

/// Someone reading: a page every half second, round the list.
async fn pages(
    addr: SocketAddr,
    cookie: String,
    paths: Vec<String>,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let (status, _) = request(addr, "GET", &paths[i % paths.len()], &cookie, "", b"").await?;
        counts.status(status);
        counts.pages.fetch_add(1, Ordering::Relaxed);
        if (400..500).contains(&status) {
            counts.other.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Every two seconds a right sign-in and a wrong one for a made-up name;
/// every minute 16 wrong ones at the same moment.
async fn sign_ins(
    addr: SocketAddr,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let mut turn = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let right = if turn.is_multiple_of(2) {
            "county"
        } else {
            "township2"
        };
        let mut attempts = vec![(right.to_owned(), DEMO_PASSWORD.to_owned())];
        let wrong = if turn % 30 == 29 { 16 } else { 1 };
        for k in 0..wrong {
            attempts.push((format!("nobody-{turn}-{k}"), format!("wrong-password-{k}")));
        }
        let all = attempts.into_iter().map(|(name, password)| async move {
            let body = format!("username={name}&password={password}");
            request(
                addr,
                "POST",
                "/api/auth/sign_in",
                "",
                "application/x-www-form-urlencoded",
                body.as_bytes(),
            )
            .await
        });
        for reply in futures::future::join_all(all).await {
            let (status, body) = reply?;
            counts.status(status);
            // 429 is either the throttle (these wrong passwords all come
            // from 127.0.0.1) or the hashing queue being full.
            let c = match status {
                200 => &counts.sign_in_ok,
                401 => &counts.sign_in_refused,
                429 if body.starts_with(b"{\"Busy\"") => &counts.sign_in_busy,
                429 => &counts.sign_in_throttled,
                _ => &counts.other,
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
        turn += 1;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(())
}

/// Signs in; the session cookie and the user's area code.
async fn sign_in(addr: SocketAddr, user: &str, password: &str) -> anyhow::Result<(String, String)> {
    let body = format!("username={user}&password={password}");
    let mut conn = TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/auth/sign_in HTTP/1.1\r\nHost: daohu\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    anyhow::ensure!(
        text.starts_with("HTTP/1.1 200"),
        "sign-in of {user}: {text}"
    );
    let cookie = text
        .lines()
        .find_map(|l| {
            let lower = l.to_ascii_lowercase();
            lower.starts_with("set-cookie: daohu_session=").then(|| {
                l["set-cookie: ".len()..]
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned()
            })
        })
        .ok_or_else(|| anyhow::anyhow!("no session cookie for {user}"))?;
    let area = text
        .split("\"area\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no area in the sign-in answer of {user}"))?
        .to_owned();
    Ok((cookie, area))
}

/// One request on its own connection, read to the end (pages stream in
/// chunks; this keeps the client trivial). Status 0 when the connection
/// failed or broke: counted as a server error.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let attempt = async {
        let mut conn = TcpStream::connect(addr).await?;
        // A page as a browser asks for it; everything else as the app's
        // own fetches do (a form post that accepts HTML is answered with a
        // redirect).
        let accept = if method == "GET" {
            "text/html"
        } else {
            "application/json"
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: daohu\r\nAccept: {accept}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !cookie.is_empty() {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        conn.write_all(head.as_bytes()).await?;
        conn.write_all(body).await?;
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = match tokio::time::timeout(Duration::from_secs(60), attempt).await {
        Ok(Ok(raw)) => raw,
        Ok(Err(e)) => {
            eprintln!("{method} {path}: {e}");
            return Ok((0, Vec::new()));
        }
        Err(_) => {
            eprintln!("{method} {path}: no answer in 60 s");
            return Ok((0, Vec::new()));
        }
    };
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok((0, Vec::new()));
    };
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
    out
}

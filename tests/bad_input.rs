//! Generated bad input. A seeded generator mutates valid requests for every
//! server function (taken from Leptos' registry, not a list kept by hand),
//! every plain route and every page (from the app's route list): fields
//! dropped, repeated, retyped; bad UUIDs, huge numbers, invalid UTF-8,
//! truncated and over-long bodies, wrong content types and methods; signed
//! in as each role and not at all. Through the router, then on a real
//! socket against the `daohu` binary for what only a socket can carry
//! (malformed chunked bodies, lying lengths, slow bodies) and to watch the
//! process's memory. No answer may be 5xx, every 4xx says in Chinese what
//! is wrong, and the server answers as before afterwards.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use common::dice::Dice;
use common::server::Server;
use common::{TestDb, household_of, sign_in, signed_visit};
use daohu::error::AppError;
use daohu::server::router;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

on_both_backends!(
    generated_bad_requests_never_get_a_5xx,
    bad_bytes_on_the_wire_never_get_a_5xx_and_memory_stays_bounded,
    client_mistakes_get_their_own_4xx,
);

/// Requests each backend must see through the router, at the least.
const MIN_REQUESTS: usize = 3000;
/// The `daohu` process's peak resident memory under the wire cases,
/// four 15 MiB sync bodies at once among them.
const MAX_RSS_MIB: u64 = 300;

/// Who sends a request: nobody, a forged session, and each office role.
const ROLES: [Option<&str>; 5] = [
    None,
    Some("forged"),
    Some("worker1"),
    Some("township1"),
    Some("county"),
];

/// Values that are wrong for most fields in some way.
const FORM_POOL: &[&str] = &[
    "",
    " ",
    "abc",
    "0",
    "-1",
    "1.5",
    "99999999999999999999999999",
    "9223372036854775807",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "00000000-0000-0000-0000-000000000000",
    "0190c3a2-7b1e-7c00-8000-00000000000g",
    "{0190c3a2-7b1e-7c00-8000-000000000000}",
    "0190c3a2-7b1e-7c00-8000",
    "620102100201",
    "999999999999",
    "62010210020",
    "6201021002011",
    "1970-01-01",
    "9999-12-31",
    "2024-02-30",
    "+275760-09-13",
    "<script>alert(1)</script>",
    "'; DROP TABLE users; --",
    "../../../../etc/passwd",
    "\0",
    "\u{202e}中文\u{1f600}",
];

/// Raw JSON values (not all of them valid JSON) for a visit's fields.
const JSON_POOL: &[&str] = &[
    "0",
    "-1",
    "1.5",
    "-0",
    "1e308",
    "1e400",
    "99999999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "NaN",
    "\"\"",
    "\"x\"",
    "\"00000000-0000-0000-0000-00000000000g\"",
    "\"2026-13-01T25:61:61Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "null",
    "true",
    "[]",
    "{}",
    "[0,0,0,0,0,0,0,0]",
    "{\"Fix\":{\"lat_e6\":1e99}}",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "'single'",
    "undefined",
];

#[derive(Default)]
struct Tally {
    by_status: BTreeMap<u16, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn total(&self) -> usize {
        self.by_status.values().sum()
    }

    fn line(&self, what: &str) -> String {
        let counts = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let fives: usize = self.by_status.range(500..).map(|(_, n)| n).sum();
        format!(
            "bad-input ({what}): {} requests: {counts}; 5xx×{fives}",
            self.total()
        )
    }
}

/// One generated request.
struct Case {
    method: Method,
    uri: String,
    headers: Vec<(HeaderName, String)>,
    body: Vec<u8>,
    role: usize,
    what: String,
}

impl Case {
    fn post(uri: &str, content_type: &str, body: Vec<u8>, what: impl Into<String>) -> Case {
        Case {
            method: Method::POST,
            uri: uri.to_owned(),
            headers: vec![
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::ACCEPT, "application/json".to_owned()),
            ],
            body,
            role: 0,
            what: what.into(),
        }
    }

    fn get(uri: &str, what: impl Into<String>) -> Case {
        Case {
            method: Method::GET,
            uri: uri.to_owned(),
            headers: vec![(header::ACCEPT, "text/html".to_owned())],
            body: Vec::new(),
            role: 0,
            what: what.into(),
        }
    }
}

/// The ids and codes valid requests are made of.
struct Fixture {
    village: String,
    township: String,
    county: String,
    household: String,
    worker4: String,
}

async fn fixture(db: &TestDb) -> Fixture {
    let store = db.store.as_ref();
    let user = |name: &'static str| async move {
        store
            .user_by_username(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("demo user {name}"))
    };
    Fixture {
        village: user("worker1").await.area.as_str().to_owned(),
        township: user("township1").await.area.as_str().to_owned(),
        county: user("county").await.area.as_str().to_owned(),
        household: household_of(store, "worker1").await.to_string(),
        worker4: user("worker4").await.id.to_string(),
    }
}

/// A well-formed argument list for each server function we know. A server
/// function missing here is still sent every mutation that needs no valid
/// arguments (and the test says so), so a new one is never left out.
fn sample_form(path: &str, f: &Fixture) -> Option<Vec<(String, String)>> {
    let any = uuid::Uuid::now_v7().to_string();
    let pairs: &[(&str, &str)] = match path.trim_start_matches("/api/") {
        "discrepancies/list" => &[("code", &f.township), ("filter", "open"), ("page", "0")],
        "discrepancies/open_count" | "areas/overview" | "income/table" | "users/list" => {
            &[("code", &f.township)]
        }
        "discrepancies/get" | "roster/job" => &[("id", &any)],
        "discrepancies/assign" => &[
            ("id", &any),
            ("assignee_id", &f.worker4),
            ("note", "请核实"),
        ],
        "discrepancies/note" | "discrepancies/reopen" => &[("id", &any), ("note", "已电话联系")],
        "discrepancies/close" => &[("id", &any), ("resolution", "resolved"), ("note", "已补发")],
        "plans/get" => &[("household_id", &f.household)],
        "plans/create" | "plans/update" => &[
            ("household_id", &f.household),
            ("responsible_name", "王芳"),
            ("responsible_phone", "13800000000"),
            ("labour_situation", "有劳动力 2 人"),
            ("health_situation", "健康"),
        ],
        "plans/add_measure" => &[
            ("household_id", &f.household),
            ("category", "industry"),
            ("action", "养殖肉牛 2 头"),
            ("funding_source", "衔接资金"),
            ("funding", "5000.00"),
            ("due_on", "2026-09-30"),
            ("expected_income", "3000.00"),
            ("note", ""),
        ],
        "plans/set_measure_status" => &[
            ("household_id", &f.household),
            ("measure_id", &any),
            ("status", "done"),
            ("done_on", "2026-06-01"),
            ("drop_reason", ""),
            ("note", ""),
        ],
        "users/create" => &[
            ("username", "fuzz_user"),
            ("display_name", "测试"),
            ("role", "field_worker"),
            ("area", &f.village),
            ("password", "daohu2026-long-enough"),
        ],
        "users/set_active" => &[("user_id", &f.worker4), ("active", "true")],
        "users/workers" => &[("area", &f.village)],
        "auth/sign_in" => &[("username", "worker3"), ("password", "wrong-password")],
        "auth/sign_out" | "auth/current_user" | "households/villages" | "income/thresholds" => &[],
        "households/list" => &[
            ("search", "王"),
            ("village", &f.village),
            ("item", ""),
            ("paid", ""),
            ("as_of", "2026-06-01"),
            ("flag", ""),
            ("page", "0"),
        ],
        "households/get" => &[("id", &f.household)],
        "households/assign" => &[("household_id", &f.household), ("worker_id", &f.worker4)],
        "households/assign_village" => &[
            ("village", &f.village),
            ("worker_id", &f.worker4),
            ("only_unassigned", "true"),
        ],
        "income/household" => &[("household_id", &f.household), ("stat_year", "2025")],
        "income/set_threshold" => &[("stat_year", "2025"), ("threshold", "7800")],
        "reports/dispatch" => &[("code", &f.county), ("as_of", "2026-06-01")],
        "visits/review" => &[("visit_id", &any), ("state", "approved"), ("comment", "ok")],
        _ => return None,
    };
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn urlencode(s: &[u8]) -> String {
    let mut out = String::new();
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn encode_form(pairs: &[(String, String)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k.as_bytes()), urlencode(v.as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

const FORM_MUTATIONS: usize = 21;

/// Mutation `kind` of a server function call.
fn form_case(dice: &mut Dice, path: &str, sample: &[(String, String)], kind: usize) -> Case {
    let form = "application/x-www-form-urlencoded";
    let mut pairs = sample.to_vec();
    let field = |dice: &mut Dice| (!sample.is_empty()).then(|| dice.below(sample.len()));
    match kind {
        0 => Case::post(path, form, encode_form(&pairs), "valid"),
        1 => {
            let what = match field(dice) {
                Some(i) => format!("without {}", pairs.remove(i).0),
                None => {
                    pairs.push(("stray".into(), "1".into()));
                    "stray field".into()
                }
            };
            Case::post(path, form, encode_form(&pairs), what)
        }
        2 => {
            let i = field(dice).unwrap_or(0);
            let extra = pairs
                .get(i)
                .map(|(k, _)| (k.clone(), (*dice.pick(FORM_POOL)).to_owned()))
                .unwrap_or(("code".into(), "x".into()));
            pairs.push(extra);
            Case::post(path, form, encode_form(&pairs), "a field twice")
        }
        3 => {
            if let Some(i) = field(dice) {
                pairs[i].1 = (*dice.pick(FORM_POOL)).to_owned();
            }
            let what = format!("retyped {pairs:?}");
            Case::post(path, form, encode_form(&pairs), what)
        }
        4 => {
            for p in &mut pairs {
                p.1 = (*dice.pick(FORM_POOL)).to_owned();
            }
            let what = format!("all retyped {pairs:?}");
            Case::post(path, form, encode_form(&pairs), what)
        }
        5 => {
            pairs.push(("__proto__".into(), "x".into()));
            pairs.push(("unknown_field".into(), "1".into()));
            Case::post(path, form, encode_form(&pairs), "unknown fields")
        }
        6 => {
            let key = pairs.first().map(|p| p.0.clone()).unwrap_or("code".into());
            let mut body = encode_form(&pairs);
            let nested = match dice.below(3) {
                0 => format!("&{key}[]=1&{key}[]=2"),
                1 => format!("&{key}[a][b][c][d][e][f][g]=1"),
                _ => format!("&{key}[0]=x&{key}[999999999999]=y"),
            };
            body.extend_from_slice(nested.as_bytes());
            Case::post(path, form, body, "bracketed keys")
        }
        7 => {
            let mut body = encode_form(&pairs);
            body.extend_from_slice(b"&note=\xff\xfe\xc3\x28");
            if let Some((k, _)) = pairs.first() {
                body.extend_from_slice(format!("&{k}=").as_bytes());
                body.extend_from_slice(b"\xe4\xb8");
            }
            Case::post(path, form, body, "invalid UTF-8 bytes")
        }
        8 => {
            let bad = *dice.pick(&["%FF%FE", "%E4%B8", "%", "%ZZ", "%C0%AF", "%ED%A0%80"]);
            let key = pairs.first().map(|p| p.0.clone()).unwrap_or("code".into());
            let mut body = encode_form(&pairs);
            body.extend_from_slice(format!("&{key}={bad}&{bad}=1").as_bytes());
            Case::post(path, form, body, format!("bad percent-encoding {bad}"))
        }
        9 => {
            let body = encode_form(&pairs);
            let cut = dice.below(body.len().max(1));
            Case::post(path, form, body[..cut].to_vec(), format!("cut at {cut}"))
        }
        10 => {
            let size = 65 * 1024 + dice.below(200 * 1024);
            let key = pairs.first().map(|p| p.0.clone()).unwrap_or("note".into());
            pairs.push((key, "长".repeat(size / 3)));
            Case::post(path, form, encode_form(&pairs), format!("{size} bytes"))
        }
        11 => {
            let i = field(dice).unwrap_or(0);
            let big = "a".repeat(20 * 1024);
            match pairs.get_mut(i) {
                Some(p) => p.1 = big,
                None => pairs.push(("note".into(), big)),
            }
            Case::post(path, form, encode_form(&pairs), "20 KiB value")
        }
        12 => {
            let json: serde_json::Map<_, _> = pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            Case::post(
                path,
                "application/json",
                serde_json::to_vec(&json).unwrap(),
                "JSON instead of a form",
            )
        }
        13 => {
            let ct = *dice.pick(&[
                "text/plain",
                "multipart/form-data; boundary=x",
                "application/octet-stream",
                "",
                "application/x-www-form-urlencoded; charset=gbk",
            ]);
            let mut c = Case::post(
                path,
                ct,
                encode_form(&pairs),
                format!("content type {ct:?}"),
            );
            if ct.is_empty() {
                c.headers.retain(|(h, _)| h != header::CONTENT_TYPE);
            }
            c
        }
        14 => {
            let body = (0..dice.below(2048))
                .map(|_| dice.below(256) as u8)
                .collect();
            Case::post(path, form, body, "random bytes")
        }
        15 => {
            let method = dice
                .pick(&[
                    Method::GET,
                    Method::PUT,
                    Method::DELETE,
                    Method::PATCH,
                    Method::OPTIONS,
                ])
                .clone();
            let query = String::from_utf8(encode_form(&pairs)).unwrap();
            Case {
                method: method.clone(),
                uri: format!("{path}?{query}"),
                headers: vec![(header::ACCEPT, "application/json".into())],
                body: Vec::new(),
                role: 0,
                what: format!("method {method}"),
            }
        }
        16 => {
            // A plain HTML form post (no JavaScript yet), with or without
            // the page it came from.
            let mut c = Case::post(path, form, encode_form(&pairs), "form post");
            c.headers.retain(|(h, _)| h != header::ACCEPT);
            c.headers.push((header::ACCEPT, "text/html".into()));
            match dice.below(3) {
                0 => {}
                1 => c.headers.push((header::REFERER, "/households?x=1".into())),
                _ => c.headers.push((header::REFERER, "http://[::1".into())),
            }
            c
        }
        17 => Case::post(path, form, Vec::new(), "empty body"),
        18 => {
            for p in &mut pairs {
                p.1 = (*dice.pick(&[
                    "99999999999999999999",
                    "-1",
                    "1e309",
                    "18446744073709551616",
                    "-9223372036854775808",
                ]))
                .to_owned();
            }
            let what = format!("huge numbers {pairs:?}");
            Case::post(path, form, encode_form(&pairs), what)
        }
        19 => {
            let bad = *dice.pick(&[
                "not-a-uuid",
                "0190c3a2-7b1e-7c00-8000-00000000000g",
                "0190c3a27b1e7c00800000000000000000",
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
            ]);
            for p in pairs.iter_mut().filter(|p| p.0.contains("id")) {
                p.1 = bad.to_owned();
            }
            Case::post(path, form, encode_form(&pairs), format!("bad UUID {bad}"))
        }
        _ => {
            let query = *dice.pick(&["x=%FF", "code=1&code=2", "a[b]=c", "%%%"]);
            Case::post(
                &format!("{path}?{query}"),
                form,
                encode_form(&pairs),
                format!("query {query}"),
            )
        }
    }
}

/// All paths (`/a/0/b`) of a JSON tree, objects and arrays alike.
fn json_paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                json_paths(v, p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                json_paths(v, p, out);
            }
        }
        _ => {}
    }
}

const MARK: &str = "__MUTATED__";

/// The visit with the value at `path` replaced by raw bytes (which need not
/// be JSON at all).
fn with_raw(visit: &serde_json::Value, path: &str, raw: &[u8]) -> Vec<u8> {
    let mut v = visit.clone();
    *v.pointer_mut(path).expect("path exists") = serde_json::Value::String(MARK.into());
    let text = serde_json::to_vec(&v).unwrap();
    let marker = format!("\"{MARK}\"");
    let at = text
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("marker");
    [&text[..at], raw, &text[at + marker.len()..]].concat()
}

fn batch(visits: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"{\"visits\":[".to_vec();
    out.extend_from_slice(&visits.join(&b","[..]));
    out.extend_from_slice(b"]}");
    out
}

const SYNC_MUTATIONS: usize = 16;

async fn sync_case(dice: &mut Dice, db: &TestDb, household: uuid::Uuid, kind: usize) -> Case {
    let visit = serde_json::to_value(signed_visit(db.store.as_ref(), household).await).unwrap();
    let text = serde_json::to_vec(&visit).unwrap();
    let mut paths = Vec::new();
    json_paths(&visit, String::new(), &mut paths);
    let path = dice.pick(&paths).clone();
    let json = "application/json";
    let uri = daohu::sync::VISITS_PATH;
    match kind {
        0 => Case::post(uri, json, batch(&[text]), "valid visit"),
        1 => {
            let mut v = visit.clone();
            let (parent, key) = path.rsplit_once('/').unwrap();
            let parent = if parent.is_empty() {
                &mut v
            } else {
                v.pointer_mut(parent).unwrap()
            };
            match parent {
                serde_json::Value::Object(m) => {
                    m.remove(key);
                }
                serde_json::Value::Array(a) => {
                    a.remove(key.parse::<usize>().unwrap());
                }
                _ => {}
            }
            Case::post(
                uri,
                json,
                batch(&[serde_json::to_vec(&v).unwrap()]),
                format!("without {path}"),
            )
        }
        2 | 3 => {
            let raw = *dice.pick(JSON_POOL);
            let body = batch(&[with_raw(&visit, &path, raw.as_bytes())]);
            Case::post(uri, json, body, format!("{path} = {raw}"))
        }
        4 => {
            let id = format!("{{\"id\":\"{}\",", uuid::Uuid::now_v7());
            let mut dup = id.into_bytes();
            dup.extend_from_slice(&text[1..]);
            Case::post(uri, json, batch(&[dup]), "id twice")
        }
        5 => {
            let body = batch(&[with_raw(&visit, "/notes", b"\"\xff\xfe\xc3\x28\"")]);
            Case::post(uri, json, body, "invalid UTF-8 in notes")
        }
        6 => {
            let body = batch(&[text]);
            let cut = dice.below(body.len());
            Case::post(uri, json, body[..cut].to_vec(), format!("cut at {cut}"))
        }
        7 => {
            let zeros = vec!["0"; 1000].join(",");
            let shapes = [
                "[]".to_owned(),
                "0".to_owned(),
                "{}".to_owned(),
                "null".to_owned(),
                "{\"visits\":null}".to_owned(),
                "{\"visits\":{}}".to_owned(),
                "{\"visits\":\"x\"}".to_owned(),
                "{\"visits\":[]}".to_owned(),
                format!("{{\"visits\":[{zeros}]}}"),
                format!("{{\"visits\":[[{zeros}]]}}"),
                "{\"visits\":[1],\"visits\":[2]}".to_owned(),
                "{\"visits\":[]} trailing".to_owned(),
                "\u{feff}{\"visits\":[]}".to_owned(),
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
                format!("{{\"visits\":[{}]}}", "[".repeat(100_000)),
            ];
            let shape = dice.pick(&shapes).clone();
            let what = format!("shape {}", &shape[..shape.len().min(40)]);
            Case::post(uri, json, shape.into_bytes(), what)
        }
        8 => {
            let many = vec![text; 101];
            Case::post(uri, json, batch(&many), "101 visits")
        }
        9 => {
            let ct = *dice.pick(&["text/plain", "application/x-www-form-urlencoded", ""]);
            let mut c = Case::post(uri, ct, batch(&[text]), format!("content type {ct:?}"));
            if ct.is_empty() {
                c.headers.retain(|(h, _)| h != header::CONTENT_TYPE);
            }
            c
        }
        10 => {
            let method = dice
                .pick(&[Method::GET, Method::PUT, Method::DELETE, Method::PATCH])
                .clone();
            Case {
                method: method.clone(),
                uri: uri.to_owned(),
                headers: vec![(header::CONTENT_TYPE, json.to_owned())],
                body: batch(&[text]),
                role: 0,
                what: format!("method {method}"),
            }
        }
        11 => {
            let body = (0..dice.below(4096))
                .map(|_| dice.below(256) as u8)
                .collect();
            Case::post(uri, json, body, "random bytes")
        }
        12 => {
            // A line's amount: the other rules decide; never a 5xx.
            let raw = *dice.pick(&["9223372036854775807", "-9223372036854775808", "-1", "1e30"]);
            let body = batch(&[with_raw(&visit, "/lines/0/received_fen", raw.as_bytes())]);
            Case::post(uri, json, body, format!("received_fen {raw}"))
        }
        13 => {
            let broken = with_raw(&visit, &path, dice.pick(JSON_POOL).as_bytes());
            let other = serde_json::to_value(signed_visit(db.store.as_ref(), household).await)
                .map(|v| serde_json::to_vec(&v).unwrap())
                .unwrap();
            Case::post(
                uri,
                json,
                batch(&[other, broken]),
                "good and broken together",
            )
        }
        14 => Case::post(uri, json, batch(&[text.clone(), text]), "same visit twice"),
        _ => {
            let mut body = b"{\"visits\":[\"".to_vec();
            body.resize(17 * 1024 * 1024, b'a');
            body.extend_from_slice(b"\"]}");
            Case::post(uri, json, body, "17 MiB")
        }
    }
}

/// Plain routes other than sync: the phone's roster, the downloads, the
/// upload.
fn route_cases(dice: &mut Dice, f: &Fixture) -> Vec<Case> {
    let mut cases = Vec::new();
    for _ in 0..6 {
        let mut c = Case::get(daohu::sync::ROSTER_PATH, "roster");
        let q = *dice.pick(&["", "?x=%FF", "?since=-1", "?a[]=1"]);
        c.uri.push_str(q);
        cases.push(c);
        let method = dice
            .pick(&[Method::POST, Method::PUT, Method::DELETE])
            .clone();
        cases.push(Case {
            method,
            ..Case::get(daohu::sync::ROSTER_PATH, "roster, wrong method")
        });
    }
    let codes: Vec<String> = FORM_POOL
        .iter()
        .map(|v| urlencode(v.as_bytes()))
        .chain([
            "%FF".into(),
            "%".into(),
            f.county.clone(),
            f.village.clone(),
        ])
        .collect();
    for code in &codes {
        let query = *dice.pick(&[
            "",
            "?as_of=2026-06-01",
            "?as_of=abc",
            "?as_of=2026-06-01&as_of=2026-06-02",
            "?as_of[]=1",
            "?as_of=%FF",
            "?as_of=99999-01-01",
        ]);
        cases.push(Case::get(
            &format!("/reports/dispatch/{code}/xlsx{query}"),
            "dispatch xlsx",
        ));
    }
    for file in [
        "households.xlsx",
        "entitlements.csv",
        "households",
        "households.exe",
        ".xlsx",
        "%FF.csv",
        "..%2F..%2Fetc%2Fpasswd",
        "entitlements.csv.xlsx",
        "%",
    ] {
        cases.push(Case::get(&format!("/roster/template/{file}"), "template"));
    }
    let upload = daohu::roster::UPLOAD_PATH;
    let part = |name: &str, filename: Option<&str>, content: &[u8]| {
        let mut p = format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            p.push_str(&format!("; filename=\"{f}\""));
        }
        p.push_str("\r\n\r\n");
        let mut p = p.into_bytes();
        p.extend_from_slice(content);
        p.extend_from_slice(b"\r\n");
        p
    };
    let end = b"--XyZ--\r\n".to_vec();
    let multipart = "multipart/form-data; boundary=XyZ";
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        ("", b"kind=households".to_vec(), "no content type"),
        (
            "application/x-www-form-urlencoded",
            b"kind=households".to_vec(),
            "a plain form",
        ),
        ("multipart/form-data", b"--x\r\n".to_vec(), "no boundary"),
        (
            "multipart/form-data; boundary=other",
            [part("kind", None, b"households"), end.clone()].concat(),
            "wrong boundary",
        ),
        (
            multipart,
            part("kind", None, b"households")[..20].to_vec(),
            "cut mid-part",
        ),
        (
            multipart,
            [part("kind", None, &vec![b'k'; 200_000]), end.clone()].concat(),
            "a 200 KB kind",
        ),
        (
            multipart,
            [part("kind", None, b"\xff\xfe"), end.clone()].concat(),
            "invalid UTF-8 kind",
        ),
        (
            multipart,
            [part("kind", None, b"households"), end.clone()].concat(),
            "no file",
        ),
        (
            multipart,
            [part("file", Some("a.csv"), b"x"), end.clone()].concat(),
            "no kind",
        ),
        (
            multipart,
            [
                part("kind", None, b"households"),
                part("file", Some("a.xlsx"), b"PK\x03\x04 not a zip"),
                part("file", Some("b.csv"), b"\xff\xfe\x00garbage"),
                end.clone(),
            ]
            .concat(),
            "two broken files",
        ),
        (
            multipart,
            [
                part("kind", None, b"entitlements"),
                part("file", Some(""), b"a,b"),
                end.clone(),
            ]
            .concat(),
            "a file without a name",
        ),
        (
            multipart,
            [
                part("kind", None, b"households"),
                b"--XyZ\r\nbroken".to_vec(),
            ]
            .concat(),
            "a broken part header",
        ),
    ];
    for (ct, body, what) in bodies {
        let mut c = Case::post(upload, ct, body, format!("upload: {what}"));
        if ct.is_empty() {
            c.headers.retain(|(h, _)| h != header::CONTENT_TYPE);
        }
        cases.push(c);
    }
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        cases.push(Case {
            method,
            ..Case::get(upload, "upload, wrong method")
        });
    }
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/sw.js",
        "/pkg/..%2F..%2Fetc%2Fpasswd",
        "/pkg/%FF",
        "/api/",
        "/api/nothing/here",
        "/%FF%FE",
        "/households/../../etc/passwd",
    ] {
        cases.push(Case::get(path, "odd path"));
        cases.push(Case {
            method: Method::POST,
            ..Case::get(path, "odd path, POST")
        });
    }
    cases
}

/// Every page of the app's route list, its parameters filled with bad
/// values, with junk query strings.
fn page_cases(dice: &mut Dice, f: &Fixture) -> Vec<Case> {
    let routes = leptos_axum::generate_route_list(daohu::app::App);
    assert!(routes.len() >= 10, "the route list has the app's pages");
    let mut values: Vec<String> = FORM_POOL.iter().map(|v| urlencode(v.as_bytes())).collect();
    values.extend([
        "%FF".into(),
        f.household.clone(),
        f.county.clone(),
        f.village.clone(),
        uuid::Uuid::now_v7().to_string(),
    ]);
    let mut cases = Vec::new();
    for route in &routes {
        for _ in 0..6 {
            let path = route
                .path()
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') || seg.starts_with(':') {
                        dice.pick(&values).clone()
                    } else {
                        seg.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let query = *dice.pick(&[
                "",
                "?page=-1",
                "?page=99999999999999999999",
                "?h=%FF",
                "?visit=not-a-uuid&step=sign",
                "?item=x&item=y&paid=maybe&as_of=2026-02-30",
                "?flag=%00",
                "?error=%7B%22x%22",
            ]);
            cases.push(Case::get(&format!("{path}{query}"), "page"));
        }
    }
    cases
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Sends `case` and records its answer. A 5xx fails; so does a 4xx that
/// does not say in Chinese what is wrong (a server function's errors are
/// an encoded `AppError`, which the browser shows in Chinese).
async fn fire(app: &Router, cookies: &[Option<String>], case: Case, tally: &mut Tally) {
    let mut req = Request::builder()
        .method(case.method.clone())
        .uri(&case.uri);
    for (name, value) in &case.headers {
        req = req.header(name, HeaderValue::from_str(value).expect("header value"));
    }
    if let Some(cookie) = &cookies[case.role] {
        req = req.header(header::COOKIE, cookie);
    }
    let Ok(req) = req.body(Body::from(case.body)) else {
        // The URI is not even one http can hold: no server would see it.
        return;
    };
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let is_server_fn = res.headers().contains_key("serverfnerror");
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let body = String::from_utf8_lossy(&bytes);
    *tally.by_status.entry(status.as_u16()).or_default() += 1;
    let what = || {
        format!(
            "{} {} as {:?} ({}): {status} {}",
            case.method,
            case.uri,
            ROLES[case.role],
            case.what,
            &body[..body.len().min(300)]
        )
    };
    if status.is_server_error() {
        tally.failures.push(what());
    } else if status.is_client_error() && case.method != Method::HEAD {
        let understood = if is_server_fn {
            serde_json::from_slice::<AppError>(&bytes).is_ok_and(|e| has_chinese(&e.to_string()))
        } else {
            has_chinese(&body)
        };
        if !understood {
            tally
                .failures
                .push(format!("no Chinese message: {}", what()));
        }
    }
}

async fn cookies_of(state: &daohu::server::AppState) -> Vec<Option<String>> {
    let mut cookies = Vec::new();
    for role in ROLES {
        cookies.push(match role {
            None => None,
            Some("forged") => Some("daohu_session=forged0123456789".to_owned()),
            Some(user) => Some(sign_in(state, user).await),
        });
    }
    cookies
}

fn backend(db: &TestDb) -> &'static str {
    if db.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

async fn generated_bad_requests_never_get_a_5xx(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let app = router(state.clone());
    let f = fixture(&db).await;
    let cookies = cookies_of(&state).await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let mut dice = Dice(0x0DA0_B1D5_EED5);
    let mut tally = Tally::default();
    let started = Instant::now();

    let server_fns: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    assert!(server_fns.len() >= 30, "the registry lists {server_fns:?}");
    let mut unsampled = Vec::new();
    for path in &server_fns {
        let sample = sample_form(path, &f).unwrap_or_else(|| {
            unsampled.push(*path);
            Vec::new()
        });
        for kind in 0..FORM_MUTATIONS {
            for role in 0..ROLES.len() {
                let mut case = form_case(&mut dice, path, &sample, kind);
                // Signing out would end the session the next cases use.
                case.role = if path.ends_with("/auth/sign_out") && role > 1 {
                    1
                } else {
                    role
                };
                fire(&app, &cookies, case, &mut tally).await;
            }
        }
    }
    for kind in 0..SYNC_MUTATIONS {
        for round in 0..3 {
            for role in 0..ROLES.len() {
                // The 17 MiB body once per role is enough.
                if kind == SYNC_MUTATIONS - 1 && round > 0 {
                    continue;
                }
                let mut case = sync_case(&mut dice, &db, household, kind).await;
                case.role = role;
                fire(&app, &cookies, case, &mut tally).await;
            }
        }
    }
    for case in route_cases(&mut dice, &f)
        .into_iter()
        .chain(page_cases(&mut dice, &f))
    {
        for role in 0..ROLES.len() {
            let case = Case {
                role,
                method: case.method.clone(),
                uri: case.uri.clone(),
                headers: case.headers.clone(),
                body: case.body.clone(),
                what: case.what.clone(),
            };
            fire(&app, &cookies, case, &mut tally).await;
        }
    }

    let line = tally.line(&format!("router, {}", backend(&db)));
    println!("{line} in {:.1} s", started.elapsed().as_secs_f64());
    if !unsampled.is_empty() {
        println!("server functions without a sample form (mutated from nothing): {unsampled:?}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} of {} answers broke the rules:\n{}",
        tally.failures.len(),
        tally.total(),
        tally.failures.join("\n")
    );
    assert!(tally.total() >= MIN_REQUESTS, "{line}");
    // Still the same server: the health check, and a worker's session.
    let health = common::send(
        &state,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(health.status, StatusCode::OK);
    let me = common::call(&state, cookies[2].as_deref(), "/api/auth/current_user", &[]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert!(me.body.contains("worker1"), "{}", me.body);
}

/// One request on its own connection, read to the end (the server closes
/// it after answering). `None` when the server hung up without a status.
async fn raw(server: &Server, bytes: &[u8]) -> Option<u16> {
    let mut conn = TcpStream::connect(server.addr).await.expect("connect");
    // A server may answer and close before all was sent.
    let _ = conn.write_all(bytes).await;
    let _ = conn.shutdown().await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut reply)).await;
    let head = String::from_utf8_lossy(&reply[..reply.len().min(200)]).into_owned();
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
}

fn head(method: &str, path: &str, cookie: &str, extra: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: daohu\r\nAccept: application/json\r\nConnection: close\r\nCookie: {cookie}\r\n{extra}\r\n"
    )
}

/// `{"visits":[0,0,0,…]}` of about `bytes` bytes: the body that took the
/// server to 737 MB when parsed into generic JSON values.
fn zeros_body(bytes: usize) -> Vec<u8> {
    let mut body = b"{\"visits\":[0".to_vec();
    while body.len() < bytes - 2 {
        body.extend_from_slice(b",0");
    }
    body.extend_from_slice(b"]}");
    body
}

async fn bad_bytes_on_the_wire_never_get_a_5xx_and_memory_stays_bounded(db: TestDb) {
    let db = db.with_demo().await;
    let server = Server::start(&db.url).await;
    let (_, hwm_start) = server.memory_kib();
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    let signed = common::raw_http::post(
        &mut conn,
        "/api/auth/sign_in",
        "",
        "application/x-www-form-urlencoded",
        format!("username=worker1&password={}", daohu::demo::DEMO_PASSWORD).as_bytes(),
    )
    .await
    .expect("sign in");
    let cookie = common::raw_http::session_cookie(&signed).expect("session cookie");
    drop(conn);
    let server_fns: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .filter(|p| !p.ends_with("/auth/sign_out"))
        .collect();
    let sync = daohu::sync::VISITS_PATH;
    let mut tally = Tally::default();
    let mut hung_up = 0;
    let mut count = |status: Option<u16>, what: &str, tally: &mut Tally| match status {
        Some(s) => {
            *tally.by_status.entry(s).or_default() += 1;
            if s >= 500 {
                tally.failures.push(format!("{what}: {s}"));
            }
        }
        None => hung_up += 1,
    };
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let json = "Content-Type: application/json\r\n";
    for path in server_fns.iter().copied().chain([sync]) {
        let ct = if path == sync { json } else { form };
        let bad_chunked: [&[u8]; 6] = [
            b"zz\r\nabc\r\n0\r\n\r\n",
            b"5\r\nab",
            b"-1\r\nabc\r\n0\r\n\r\n",
            b"3;ext=\xff\r\nabc\r\n0\r\n\r\n",
            b"ffffffffffffffffffff\r\nabc\r\n",
            b"3\r\nabcXX0\r\n\r\n",
        ];
        for chunked in bad_chunked {
            let mut req = head(
                "POST",
                path,
                &cookie,
                &format!("{ct}Transfer-Encoding: chunked\r\n"),
            )
            .into_bytes();
            req.extend_from_slice(chunked);
            count(
                raw(&server, &req).await,
                &format!("{path} bad chunked"),
                &mut tally,
            );
        }
        // Invalid UTF-8, and a body shorter than it claims.
        let mut req = head(
            "POST",
            path,
            &cookie,
            &format!("{ct}Content-Length: 12\r\n"),
        )
        .into_bytes();
        req.extend_from_slice(b"code=\xff\xfe\xfd\xfc\xc3\x28\xa0\xa1");
        count(
            raw(&server, &req).await,
            &format!("{path} invalid UTF-8"),
            &mut tally,
        );
        let mut req = head(
            "POST",
            path,
            &cookie,
            &format!("{ct}Content-Length: 1000\r\n"),
        )
        .into_bytes();
        req.extend_from_slice(b"code=1");
        count(
            raw(&server, &req).await,
            &format!("{path} short body"),
            &mut tally,
        );
        // Both lengths at once, a smuggling attempt.
        let mut req = head(
            "POST",
            path,
            &cookie,
            &format!("{ct}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"),
        )
        .into_bytes();
        req.extend_from_slice(b"0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n");
        count(
            raw(&server, &req).await,
            &format!("{path} two lengths"),
            &mut tally,
        );
        // Over-long, declared and streamed.
        let req = head(
            "POST",
            path,
            &cookie,
            &format!("{ct}Content-Length: 104857600\r\n"),
        );
        count(
            raw(&server, req.as_bytes()).await,
            &format!("{path} 100 MiB declared"),
            &mut tally,
        );
    }
    // Streamed without a length, past every limit: answered before the
    // end, and never held whole.
    for (path, size) in [(sync, 24 << 20), ("/api/areas/overview", 2 << 20)] {
        let mut req = head(
            "POST",
            path,
            &cookie,
            &format!("{json}Transfer-Encoding: chunked\r\n"),
        )
        .into_bytes();
        let chunk = vec![b'0'; 64 * 1024];
        for _ in 0..size / chunk.len() {
            req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            req.extend_from_slice(&chunk);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        count(
            raw(&server, &req).await,
            &format!("{path} {size} chunked"),
            &mut tally,
        );
    }
    // Four of the hostile sync bodies at once, just under the limit: every
    // element counted, none kept.
    let zeros = zeros_body(15 << 20);
    let nested = {
        let mut b = b"{\"visits\":[[0".to_vec();
        while b.len() < (15 << 20) {
            b.extend_from_slice(b",0");
        }
        b.extend_from_slice(b"]]}");
        b
    };
    let mut peak_during = 0;
    for body in [&zeros, &nested] {
        let sends: Vec<_> = (0..4)
            .map(|_| {
                let mut req = head(
                    "POST",
                    sync,
                    &cookie,
                    &format!("{json}Content-Length: {}\r\n", body.len()),
                )
                .into_bytes();
                req.extend_from_slice(body);
                let addr = server.addr;
                tokio::spawn(async move {
                    let mut conn = TcpStream::connect(addr).await.expect("connect");
                    let _ = conn.write_all(&req).await;
                    let mut reply = Vec::new();
                    let _ = tokio::time::timeout(
                        Duration::from_secs(120),
                        conn.read_to_end(&mut reply),
                    )
                    .await;
                    String::from_utf8_lossy(&reply[..reply.len().min(12)])
                        .strip_prefix("HTTP/1.1 ")
                        .and_then(|s| s.get(..3))
                        .and_then(|s| s.parse::<u16>().ok())
                })
            })
            .collect();
        while !sends.iter().all(|s| s.is_finished()) {
            peak_during = peak_during.max(server.memory_kib().0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for s in sends {
            count(
                s.await.expect("sender"),
                "15 MiB sync body, four at once",
                &mut tally,
            );
        }
    }
    // Slow bodies: twenty connections trickling a byte at a time; the
    // server keeps answering everyone else meanwhile.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        conn.write_all(
            head(
                "POST",
                sync,
                &cookie,
                &format!("{json}Content-Length: 100000\r\n"),
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        slow.push(conn);
    }
    for _ in 0..10 {
        for conn in &mut slow {
            let _ = conn.write_all(b"{").await;
        }
        let t = Instant::now();
        assert!(server.healthy().await, "server answers beside slow bodies");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "health check took {:?}",
            t.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(slow);
    // Bytes that are not HTTP, or barely.
    for junk in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /api/auth/sign_in HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: \xff\xfe\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ] {
        count(raw(&server, junk).await, "not HTTP", &mut tally);
    }
    let mut huge_header = head(
        "GET",
        "/",
        &format!("{cookie}; x={}", "a".repeat(200_000)),
        "",
    );
    huge_header.push_str("\r\n");
    count(
        raw(&server, huge_header.as_bytes()).await,
        "a 200 KB header",
        &mut tally,
    );

    let (rss, hwm) = server.memory_kib();
    let line = tally.line(&format!("wire, {}", backend(&db)));
    println!(
        "{line}; {hung_up} connections closed without an answer; RSS {} MiB at start, peak {} MiB (sampled {} MiB while four 15 MiB sync bodies were parsed), {} MiB at the end; bound {MAX_RSS_MIB} MiB",
        hwm_start / 1024,
        hwm / 1024,
        peak_during / 1024,
        rss / 1024
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert!(server.healthy().await, "server still up");
    assert!(hwm / 1024 < MAX_RSS_MIB, "peak RSS {} MiB", hwm / 1024);
    // And still serving: the worker's session works.
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    let me = common::raw_http::post(
        &mut conn,
        "/api/auth/current_user",
        &cookie,
        "application/x-www-form-urlencoded",
        b"",
    )
    .await
    .expect("current user");
    assert_eq!(me.status, 200, "{}", me.body);
}

/// The exact answers of the commonest mistakes.
async fn client_mistakes_get_their_own_4xx(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let worker = sign_in(&state, "worker1").await;
    let county = sign_in(&state, "county").await;
    let error = |r: &common::Reply| serde_json::from_str::<AppError>(&r.body).ok();

    let r = common::call(&state, Some(&county), "/api/areas/overview", &[]).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "missing field: {}",
        r.body
    );
    assert_eq!(
        error(&r),
        Some(AppError::BadRequest("缺少字段 code".into()))
    );

    let r = common::call(
        &state,
        Some(&worker),
        "/api/households/get",
        &[("id", "nope")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "bad UUID: {}", r.body);
    assert!(!r.body.contains("Uuid"), "no Rust type names: {}", r.body);

    let big = common::call(
        &state,
        Some(&county),
        "/api/areas/overview",
        &[("code", &"6".repeat(70 * 1024))],
    )
    .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.body);
    assert!(
        matches!(error(&big), Some(AppError::TooLarge(_))),
        "{}",
        big.body
    );

    let req = Request::post("/api/areas/overview")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &county)
        .body(Body::from(&b"code=\xff\xfe"[..]))
        .unwrap();
    let r = common::send(&state, req).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "invalid UTF-8: {}",
        r.body
    );

    let r = common::page(&state, Some(&county), "/api/areas/overview").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(has_chinese(&r.body), "{}", r.body);

    // PostgreSQL cannot store a NUL character: the sender's mistake there
    // (SQLite stores it), never a 500.
    let household = household_of(db.store.as_ref(), "worker1").await.to_string();
    let r = common::call(
        &state,
        Some(&county),
        "/api/plans/create",
        &[("household_id", &household), ("labour_situation", "a\0b")],
    )
    .await;
    assert!(
        r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "NUL in text: {} {}",
        r.status,
        r.body
    );

    // A status the function itself set is kept (401 before any argument).
    let r = common::call(&state, None, "/api/areas/overview", &[("code", "620102")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    // Sync: not JSON, too many visits, too many bytes, the zeros.
    let sync = daohu::sync::VISITS_PATH;
    let r = common::post_json(&state, Some(&worker), sync, "{\"visits\":").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        has_chinese(&r.body) && !r.body.contains("Batch"),
        "{}",
        r.body
    );
    let many = vec!["0"; daohu::visits::MAX_VISITS_PER_BATCH + 1].join(",");
    let r = common::post_json(
        &state,
        Some(&worker),
        sync,
        format!("{{\"visits\":[{many}]}}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("收到 101 条"), "{}", r.body);
    let zeros = zeros_body(daohu::sync::http::MAX_BATCH_BYTES - 16);
    let r = common::post_json(
        &state,
        Some(&worker),
        sync,
        String::from_utf8(zeros).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let over = zeros_body(daohu::sync::http::MAX_BATCH_BYTES + 16);
    let r = common::post_json(
        &state,
        Some(&worker),
        sync,
        String::from_utf8(over).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(has_chinese(&r.body), "{}", r.body);
    // Not signed in: refused before the body is read.
    let r = common::post_json(&state, None, sync, "not json").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A visit that does not parse is answered under its id, in Chinese.
    let household = household_of(db.store.as_ref(), "worker1").await;
    let mut visit = serde_json::to_value(signed_visit(db.store.as_ref(), household).await).unwrap();
    let id = visit["id"].as_str().unwrap().to_owned();
    visit["stat_year"] = serde_json::json!("二〇二六");
    let r = common::post_json(
        &state,
        Some(&worker),
        sync,
        serde_json::json!({ "visits": [visit] }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let outcome = &r.json()["results"][0];
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["id"], id.as_str());
    assert_eq!(outcome["status"], 422);
    let message = outcome["message"].as_str().unwrap();
    assert!(
        !message.contains("VisitSubmission") && !message.contains("i32"),
        "{message}"
    );

    // The download's bad query, the upload's missing form.
    let r = common::page(
        &state,
        Some(&county),
        "/reports/dispatch/620102/xlsx?as_of=1&as_of=2",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        has_chinese(&r.body) && r.body.contains("as_of"),
        "{}",
        r.body
    );
    let r = common::send(
        &state,
        Request::post(daohu::roster::UPLOAD_PATH)
            .header(header::COOKIE, &county)
            .body(Body::from("kind=households"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(has_chinese(&r.body), "{}", r.body);
}

//! Configuration, read once from the environment and flags into one struct.
//! Every variable is documented in `.env.example` and the README.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Clone, Args)]
pub struct Config {
    /// Database: `sqlite:data/daohu.db` (embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:data/daohu.db",
        global = true
    )]
    pub database_url: String,

    /// Address the web server listens on.
    #[arg(
        long,
        env = "DAOHU_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Where the built site (pkg/, CSS, public assets) lives.
    #[arg(
        long,
        env = "DAOHU_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// Mark the session cookie `Secure`: set when served over TLS.
    #[arg(
        long,
        env = "DAOHU_SECURE_COOKIES",
        default_value_t = false,
        global = true
    )]
    pub secure_cookies: bool,

    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    #[arg(
        long,
        env = "DAOHU_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// The site's address as browsers see it (`https://daohu.example.gov.cn`).
    /// When set, a state-changing request from a browser must come from
    /// exactly this origin; unset, it must come from the host it was sent to
    /// (`Host`, or `X-Forwarded-Host` with `DAOHU_TRUST_FORWARDED_FOR`).
    #[arg(long, env = "DAOHU_PUBLIC_ORIGIN", value_parser = parse_origin, global = true)]
    pub public_origin: Option<String>,

    /// How long a session lasts without signing in again. Field workers may
    /// be out of signal for weeks, so this is long.
    #[arg(long, env = "DAOHU_SESSION_DAYS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(i64).range(1..=400))]
    pub session_days: i64,

    /// A session not used for this many days ends (it also ends after
    /// `DAOHU_SESSION_DAYS` however much it is used). Two weeks: a worker
    /// out of signal for a week still finds their phone signed in.
    #[arg(long, env = "DAOHU_SESSION_IDLE_DAYS", default_value_t = 14, global = true,
          value_parser = clap::value_parser!(i64).range(1..=400))]
    pub session_idle_days: i64,

    /// Serve `/metrics` to scrapers that send `Authorization: Bearer
    /// <this token>` (at least 16 characters). Unset, there is no
    /// `/metrics` at all.
    #[arg(long, env = "DAOHU_METRICS_TOKEN", hide_env_values = true,
          value_parser = parse_metrics_token, global = true)]
    pub metrics_token: Option<String>,

    /// Password hashes (argon2, 19 MiB each) worked on at once; sign-ins
    /// and password changes beyond this wait their turn.
    #[arg(long, env = "DAOHU_HASHING_AT_ONCE", default_value_t = crate::auth::hashing::DEFAULT_AT_ONCE,
          global = true, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub hashing_at_once: u32,

    /// Password hashes that may wait for their turn; beyond this a sign-in
    /// is answered 429 at once (`Retry-After`).
    #[arg(long, env = "DAOHU_HASHING_QUEUE", default_value_t = crate::auth::hashing::DEFAULT_QUEUE,
          global = true, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub hashing_queue: u32,

    /// The weekly report's day (1 = Monday … 7 = Sunday, China time): each
    /// county reports its table as of the end of the day before.
    #[arg(long, env = "DAOHU_REPORT_WEEKDAY", default_value_t = 1, global = true,
          value_parser = clap::value_parser!(u32).range(1..=7))]
    pub report_weekday: u32,

    /// The hour (China time, 0–23) of the report day by which it is due;
    /// later it is shown as late.
    #[arg(long, env = "DAOHU_REPORT_HOUR", default_value_t = 18, global = true,
          value_parser = clap::value_parser!(u32).range(0..=23))]
    pub report_hour: u32,

    /// Log lines as text for people (`human`) or one JSON object per line
    /// for a log collector (`json`).
    #[arg(long, env = "DAOHU_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human,
          global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

impl Config {
    /// Defaults for tests: an explicit database, everything else as shipped.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_owned(),
            addr: "127.0.0.1:0".parse().expect("valid address"),
            site_root: PathBuf::from("target/site"),
            secure_cookies: false,
            trust_forwarded_for: false,
            public_origin: None,
            session_days: 30,
            session_idle_days: 14,
            metrics_token: None,
            hashing_at_once: crate::auth::hashing::DEFAULT_AT_ONCE,
            hashing_queue: crate::auth::hashing::DEFAULT_QUEUE,
            report_weekday: 1,
            report_hour: 18,
            log_format: LogFormat::Human,
        }
    }
}

/// The database URL's password is never printed.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("site_root", &self.site_root)
            .field("secure_cookies", &self.secure_cookies)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("public_origin", &self.public_origin)
            .field("session_days", &self.session_days)
            .field("session_idle_days", &self.session_idle_days)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("hashing_at_once", &self.hashing_at_once)
            .field("hashing_queue", &self.hashing_queue)
            .field("report_weekday", &self.report_weekday)
            .field("report_hour", &self.report_hour)
            .field("log_format", &self.log_format)
            .finish()
    }
}

/// `https://Example.org/` → `https://example.org`: an origin as browsers
/// send it in `Origin` (scheme, host and a non-default port; no path).
fn parse_origin(raw: &str) -> Result<String, String> {
    crate::server::edge::split_origin(raw.trim().trim_end_matches('/'))
        .map(|(scheme, authority)| format!("{scheme}://{authority}"))
        .ok_or_else(|| format!("{raw}: expected http(s)://host[:port], without a path"))
}

/// The shortest metrics token accepted: a scraper's secret, not a password
/// a person types, so there is no reason for a short one.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

fn parse_metrics_token(raw: &str) -> Result<String, String> {
    let token = raw.trim();
    if token.chars().count() < MIN_METRICS_TOKEN_CHARS {
        return Err(format!(
            "at least {MIN_METRICS_TOKEN_CHARS} characters (e.g. `openssl rand -hex 24`)"
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("printable ASCII only, no spaces".into());
    }
    Ok(token.to_owned())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut c = Config::for_database("postgres://daohu:s3cret@db.example/daohu");
        c.metrics_token = Some("scrape-secret-0123456789".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("scrape-secret"), "{shown}");
        assert!(shown.contains("postgres://daohu:***@db.example/daohu"));
    }

    #[test]
    fn a_metrics_token_is_long_and_plain() {
        assert!(parse_metrics_token("short").is_err());
        assert!(parse_metrics_token("sixteen chars ok").is_err(), "spaces");
        assert_eq!(
            parse_metrics_token(" 0123456789abcdef ").unwrap(),
            "0123456789abcdef"
        );
    }

    #[test]
    fn a_public_origin_is_read_as_browsers_send_it() {
        assert_eq!(
            parse_origin("https://Daohu.Example.org/").unwrap(),
            "https://daohu.example.org"
        );
        assert_eq!(
            parse_origin("https://daohu.example.org:443").unwrap(),
            "https://daohu.example.org"
        );
        assert_eq!(
            parse_origin("http://10.0.0.5:8080").unwrap(),
            "http://10.0.0.5:8080"
        );
        assert!(parse_origin("daohu.example.org").is_err());
        assert!(parse_origin("https://daohu.example.org/app").is_err());
        assert!(parse_origin("ftp://daohu.example.org").is_err());
    }
}

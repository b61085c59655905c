//! The real `daohu serve` process on a free port, for tests that need a
//! socket (faults mid-request, bytes no HTTP client would send) or the
//! process's own memory.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::raw_http;
use super::tempdir::TempDir;

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    url: String,
    /// Given to `serve` after its name (`--demo-if-empty`).
    args: Vec<String>,
    site: TempDir,
}

impl Server {
    pub async fn start(url: &str) -> Server {
        let mut s = Server::spawn(url, &[]);
        s.wait_ready().await;
        s
    }

    /// `n` processes of `daohu serve <args>` on one database, all started
    /// before any is waited for, as instances of a province come up.
    pub async fn start_together(url: &str, n: usize, args: &[&str]) -> Vec<Server> {
        let mut servers: Vec<Server> = (0..n).map(|_| Server::spawn(url, args)).collect();
        for s in &mut servers {
            s.wait_ready().await;
        }
        servers
    }

    /// Starts the process on a free port without waiting for it.
    fn spawn(url: &str, args: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let site = TempDir::new();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Server {
            child: spawn(url, addr, &site, &args),
            addr,
            url: url.to_owned(),
            args,
            site,
        }
    }

    pub async fn kill_and_restart(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reaped");
        self.child = spawn(&self.url, self.addr, &self.site, &self.args);
        self.wait_ready().await;
    }

    /// Waits until `/healthz` answers 200; fails at once if the process
    /// exits instead.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.healthy().await {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("process status") {
                panic!("server on {} exited ({status})", self.addr);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server did not come up on {}", self.addr);
    }

    /// Whether the process answers `/healthz` with 200 right now.
    pub async fn healthy(&self) -> bool {
        let Ok(mut c) = TcpStream::connect(self.addr).await else {
            return false;
        };
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .is_ok()
            && tokio::time::timeout(Duration::from_secs(10), raw_http::read_reply(&mut c))
                .await
                .is_ok_and(|r| r.is_ok_and(|r| r.status == 200))
    }

    /// The process's resident memory now and at its peak, in KiB
    /// (`VmRSS`, `VmHWM` of `/proc/<pid>/status`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let pid = self.child.id().expect("server running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing from /proc/{pid}/status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

fn spawn(url: &str, addr: SocketAddr, site: &TempDir, args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_daohu"))
        .arg("serve")
        .args(args)
        .env("DATABASE_URL", url)
        .env("DAOHU_ADDR", addr.to_string())
        .env("DAOHU_SITE_ROOT", &site.0)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start daohu serve")
}

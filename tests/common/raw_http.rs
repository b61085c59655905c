//! Just enough HTTP/1.1 over a plain socket for tests and benchmarks that
//! must control the connection (drop it mid-request) or must not measure a
//! client library.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawReply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// Writes one POST on a keep-alive connection.
pub async fn send_post(
    conn: &mut TcpStream,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<()> {
    conn.write_all(post_head(path, cookie, content_type, body.len()).as_bytes())
        .await?;
    conn.write_all(body).await?;
    Ok(())
}

pub fn post_head(path: &str, cookie: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: daohu\r\nContent-Type: {content_type}\r\nAccept: application/json\r\nCookie: {cookie}\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Reads one response with a Content-Length body.
pub async fn read_reply(conn: &mut TcpStream) -> anyhow::Result<RawReply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        let n = conn.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let status: u16 = headers
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .ok_or_else(|| anyhow::anyhow!("response without content-length: {headers}"))?;
    while buf.len() < header_end + length {
        let n = conn.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[header_end..header_end + length]).into_owned();
    Ok(RawReply {
        status,
        headers,
        body,
    })
}

pub async fn post(
    conn: &mut TcpStream,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<RawReply> {
    send_post(conn, path, cookie, content_type, body).await?;
    read_reply(conn).await
}

/// `name=value` of the session cookie a sign-in reply sets.
pub fn session_cookie(reply: &RawReply) -> Option<String> {
    reply.headers.lines().find_map(|l| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("set-cookie: daohu_session=").then(|| {
            l["set-cookie: ".len()..]
                .split(';')
                .next()
                .unwrap_or("")
                .to_owned()
        })
    })
}

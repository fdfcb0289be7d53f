//! Helpers shared by the `mesh` binary's tests: running `mesh up` / `mesh registry` as child
//! processes, and a minimal HTTP client.
#![allow(dead_code)] // each test file uses a different subset

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MESH: &str = env!("CARGO_BIN_EXE_mesh");

pub struct Up {
    pub child: Child,
    pub banner: Vec<String>,
}

impl Up {
    /// Starts `mesh up` on free ports and reads its banner up to "Press Ctrl-C".
    pub fn start(data_dir: &std::path::Path) -> Self {
        let child = Command::new(MESH)
            .args(["up", "--broker-listen", "127.0.0.1:0"])
            .args(["--gateway-listen", "127.0.0.1:0"])
            .args(["--registry-listen", "127.0.0.1:0"])
            .args([
                "--lineage-listen",
                "127.0.0.1:0",
                "--freshness-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mesh up");
        Self::read_banner(child)
    }

    /// Reads the banner of a spawned `mesh up` (stdout piped) up to "Press Ctrl-C".
    pub fn read_banner(mut child: Child) -> Self {
        let stdout = child.stdout.take().unwrap();
        let mut banner = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("banner line");
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        assert!(
            banner.last().is_some_and(|l| l.starts_with("Press Ctrl-C")),
            "mesh up exited before its banner: {banner:?}"
        );
        Self { child, banner }
    }

    pub fn broker(&self) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with("kafka"))
            .expect("kafka line in banner");
        line.split_whitespace().nth(1).unwrap().to_owned()
    }

    /// The `http://host:port` a service's banner line names.
    pub fn service(&self, name: &str) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} in banner {:?}", self.banner));
        let url = line.split_whitespace().nth(1).unwrap();
        url.trim_start_matches("http://").to_owned()
    }

    /// Sends `signal` and returns the exit code, failing if it takes longer than `limit`.
    pub fn stop(mut self, signal: &str, limit: Duration) -> i32 {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited, not killed");
            }
            assert!(
                start.elapsed() < limit,
                "mesh up did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    try_http(addr, method, path, body).expect("HTTP exchange")
}

/// Like [`http`], but `None` when the connection fails or breaks (a server that was killed).
pub fn try_http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((status, body.to_owned()))
}

pub struct Registry {
    pub child: Child,
    pub addr: String,
    /// The line it prints once listening.
    pub banner: String,
}

impl Registry {
    pub fn start(data_dir: &Path) -> Self {
        Self::spawn(&["--data-dir".as_ref(), data_dir.as_os_str()])
    }

    /// `mesh registry --listen 127.0.0.1:0` with `args`; returns once it prints its address.
    pub fn spawn(args: &[&OsStr]) -> Self {
        let mut child = Command::new(MESH)
            .args(["registry", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn mesh registry");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("address in {line:?}"))
            .to_owned();
        Self {
            child,
            addr,
            banner: line,
        }
    }

    /// `http` against this registry, asserting a 200.
    pub fn ok(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let (status, answer) = http(&self.addr, method, path, body);
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer
    }

    pub fn stop(self) {
        let up = Up {
            child: self.child,
            banner: Vec::new(),
        };
        assert_eq!(up.stop("TERM", Duration::from_secs(15)), 0);
    }

    /// Everything a client can see: subjects and versions (deleted ones too) with their ids,
    /// texts and deleted flags, schemas by id, configs and modes.
    pub fn snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        let subjects = self.ok("GET", "/subjects?deleted=true", None);
        let names: Vec<String> = serde_json::from_str(&subjects).unwrap();
        out.push(subjects);
        out.push(self.ok("GET", "/subjects", None));
        for s in &names {
            let versions = self.ok("GET", &format!("/subjects/{s}/versions?deleted=true"), None);
            let numbers: Vec<i32> = serde_json::from_str(&versions).unwrap();
            out.push(versions);
            // Soft-deleted versions are missing here: the deleted flags.
            out.push(http(&self.addr, "GET", &format!("/subjects/{s}/versions"), None).1);
            for v in numbers {
                out.push(self.ok(
                    "GET",
                    &format!("/subjects/{s}/versions/{v}?deleted=true"),
                    None,
                ));
            }
            out.push(http(&self.addr, "GET", &format!("/config/{s}"), None).1);
            out.push(http(&self.addr, "GET", &format!("/mode/{s}"), None).1);
        }
        out.push(self.ok("GET", "/schemas?deleted=true", None));
        for id in 1..=4 {
            out.push(http(&self.addr, "GET", &format!("/schemas/ids/{id}"), None).1);
        }
        out.push(self.ok("GET", "/config", None));
        out.push(self.ok("GET", "/mode", None));
        out
    }
}

/// `mesh registry export|import --data-dir DIR --output|--input FILE`: (exit code, stdout,
/// stderr).
pub fn transfer(cmd: &str, dir: &Path, file: &Path) -> (Option<i32>, String, String) {
    let flag = if cmd == "export" {
        "--output"
    } else {
        "--input"
    };
    let out = Command::new(MESH)
        .args(["registry", cmd, "--data-dir"])
        .arg(dir)
        .arg(flag)
        .arg(file)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

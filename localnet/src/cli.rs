//! Running CLI commands (mostly `suretyd …`) with a deadline, and reading
//! their JSON output.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

/// What a finished command printed.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout parsed as JSON (see [`parse_json`]).
    pub fn json(&self) -> Result<Value> {
        parse_json(&self.stdout).with_context(|| {
            format!(
                "stdout was not JSON:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A command line as one printable string, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(' ') {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` to completion, feeding it `stdin`, and kills it if it takes
/// longer than `timeout`. A non-zero exit is *not* an error here.
pub fn run(cmd: &mut Command, stdin: Option<&str>, timeout: Duration) -> Result<CmdOutput> {
    let line = describe(cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run `{line}`"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_owned();
        thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout =
                String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
            let stderr =
                String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
            bail!(
                "`{line}` did not finish within {timeout:?}; killed it\nstdout:\n{}\nstderr:\n{}",
                tail(&stdout, 40),
                tail(&stderr, 40)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(CmdOutput {
        status,
        stdout,
        stderr,
    })
}

/// Like [`run`] but a non-zero exit is an error carrying the output.
pub fn run_ok(cmd: &mut Command, stdin: Option<&str>, timeout: Duration) -> Result<CmdOutput> {
    let line = describe(cmd);
    let out = run(cmd, stdin, timeout)?;
    if !out.success() {
        bail!(
            "`{line}` failed ({})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            tail(&out.stdout, 40),
            tail(&out.stderr, 40)
        );
    }
    Ok(out)
}

/// Parses a command's JSON output: the whole text, else the last line that
/// is a JSON object, else the span from the first `{` to the last `}`.
pub fn parse_json(text: &str) -> Result<Value> {
    let t = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Ok(v);
    }
    for line in t.lines().rev() {
        let line = line.trim();
        if line.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                return Ok(v);
            }
        }
    }
    if let (Some(a), Some(b)) = (t.find('{'), t.rfind('}')) {
        if a < b {
            if let Ok(v) = serde_json::from_str::<Value>(&t[a..=b]) {
                return Ok(v);
            }
        }
    }
    Err(anyhow!("no JSON object found in output"))
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].join("\n")
}

/// The last `n` lines of a (possibly large) file, or a note why not.
pub fn tail_file(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            // Only look at the last 256 KiB: logs can grow large.
            let from = bytes.len().saturating_sub(256 * 1024);
            tail(&String::from_utf8_lossy(&bytes[from..]), n)
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Reads a JSON value that may be a number or a decimal string as `u64`.
pub fn json_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a JSON value that may be a number or a decimal string as `u128`.
pub fn json_u128(v: &Value) -> Option<u128> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Finds an executable called `name` on `PATH`.
pub fn which(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let name = name.as_ref();
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// True if `p` is a regular file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_after_noise() {
        let v = parse_json("gas estimate: 81234\n{\"code\":0,\"txhash\":\"AB\"}\n").unwrap();
        assert_eq!(v["code"], 0);
        let v = parse_json("{\n  \"a\": 1\n}").unwrap();
        assert_eq!(v["a"], 1);
        assert!(parse_json("nothing here").is_err());
    }

    #[test]
    fn numbers_or_strings() {
        assert_eq!(json_u64(&serde_json::json!("42")), Some(42));
        assert_eq!(json_u64(&serde_json::json!(42)), Some(42));
        assert_eq!(
            json_u128(&serde_json::json!(
                "340282366920938463463374607431768211455"
            )),
            Some(u128::MAX)
        );
    }

    #[test]
    fn runs_with_deadline() {
        let out = run_ok(
            Command::new("sh").args(["-c", "cat; echo err >&2"]),
            Some("hi"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, "hi");
        assert_eq!(out.stderr.trim(), "err");
        let err = run(
            Command::new("sleep").arg("5"),
            None,
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(err.to_string().contains("did not finish"));
        assert!(run_ok(&mut Command::new("false"), None, Duration::from_secs(5)).is_err());
    }
}

//! Process inspection and signalling through `/proc` and `libc` (Linux).
//!
//! Every node runs as `suretyd start --home <home>` in its own process group,
//! with a `cometbft start --home <home>/cometbft` child. These helpers find a
//! node's processes by their arguments (so they also work from a second
//! `surety-localnet` invocation that did not spawn them), tell live processes
//! from zombies, and send signals.

use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// What `/proc/<pid>/{stat,cmdline}` tells about one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    /// `R`, `S`, `D`, `Z` (zombie), `X` (dead) …
    pub state: char,
    /// Start time in clock ticks since boot: with the pid, identifies a process
    /// across pid reuse.
    pub start_time: u64,
    pub argv: Vec<String>,
}

impl ProcInfo {
    /// Running or sleeping, i.e. neither a zombie nor dead.
    pub fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// The file name of `argv[0]`.
    pub fn program(&self) -> &str {
        self.argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .unwrap_or("")
    }
}

/// Reads one process's information, `None` if it does not exist (any more).
pub fn proc_info(pid: i32) -> Option<ProcInfo> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt
    //  cmajflt utime stime cutime cstime priority nice threads itreal starttime"
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let pgrp = fields.get(2)?.parse().ok()?;
    let start_time = fields.get(19)?.parse().ok()?;
    let argv = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    Some(ProcInfo {
        pid,
        ppid,
        pgrp,
        state,
        start_time,
        argv,
    })
}

/// Every process visible in `/proc`.
pub fn all_processes() -> Vec<ProcInfo> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_info)
        .collect()
}

/// True if `pid` exists and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    proc_info(pid).is_some_and(|p| p.is_live())
}

/// True if `pid` is alive and is still the process that started at `start_time`.
pub fn is_same_alive(pid: i32, start_time: u64) -> bool {
    proc_info(pid).is_some_and(|p| p.is_live() && p.start_time == start_time)
}

/// All live descendants of `pid` (children, grandchildren, …).
pub fn descendants(pid: i32) -> Vec<ProcInfo> {
    let all = all_processes();
    let mut out: Vec<ProcInfo> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for p in all.iter().filter(|p| p.ppid == parent && p.is_live()) {
            if !out.iter().any(|o| o.pid == p.pid) {
                frontier.push(p.pid);
                out.push(p.clone());
            }
        }
    }
    out
}

/// True if `arg` names `home` or a path under it (`/x/node1` matches
/// `/x/node1`, `/x/node1/cometbft`, `--home=/x/node1`, not `/x/node10`).
fn arg_refers_to(arg: &str, home: &str) -> bool {
    let mut rest = arg;
    while let Some(at) = rest.find(home) {
        let before_ok = at == 0 || rest[..at].ends_with('=');
        let after = &rest[at + home.len()..];
        if before_ok && (after.is_empty() || after.starts_with('/')) {
            return true;
        }
        rest = &rest[at + home.len()..];
    }
    false
}

/// Live `suretyd` / `cometbft` processes whose arguments point into `home`.
pub fn node_processes(home: &Path) -> Vec<ProcInfo> {
    processes_using(home, &["suretyd", "cometbft"])
}

/// Live processes whose program name contains one of `programs` and whose
/// arguments point into `home` (e.g. `simd` or `hermes` of an IBC localnet).
pub fn processes_using(home: &Path, programs: &[&str]) -> Vec<ProcInfo> {
    let home = home.to_string_lossy();
    let home = home.trim_end_matches('/');
    let me = std::process::id() as i32;
    all_processes()
        .into_iter()
        .filter(|p| p.pid != me && p.is_live())
        .filter(|p| programs.iter().any(|prog| p.program().contains(prog)))
        .filter(|p| p.argv.iter().skip(1).any(|a| arg_refers_to(a, home)))
        .collect()
}

/// Sends `sig` to `pid`; false if the process does not exist.
pub fn signal(pid: i32, sig: i32) -> bool {
    if pid <= 1 {
        return false;
    }
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Sends `sig` to every process in process group `pgid`.
pub fn signal_group(pgid: i32, sig: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: killpg(3) has no memory-safety preconditions.
    unsafe { libc::killpg(pgid, sig) == 0 }
}

/// Polls `done` every 100 ms until it returns true or `timeout` passes.
/// Returns whether it became true.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_matching() {
        assert!(arg_refers_to("/x/node1", "/x/node1"));
        assert!(arg_refers_to("/x/node1/cometbft", "/x/node1"));
        assert!(arg_refers_to("--home=/x/node1", "/x/node1"));
        assert!(!arg_refers_to("/x/node10", "/x/node1"));
        assert!(!arg_refers_to("/y/x/node1", "/x/node1"));
    }

    #[test]
    fn reads_own_process() {
        let me = proc_info(std::process::id() as i32).expect("own /proc entry");
        assert!(me.is_live());
        assert!(me.start_time > 0);
        assert!(!me.argv.is_empty());
    }
}

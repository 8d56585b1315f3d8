//! Running the `sparta` binary and reading its output line by line, with deadlines.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub struct Sparta {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

pub fn sparta(args: &[&str], cwd: &Path) -> Sparta {
    sparta_with_env(args, cwd, &[])
}

/// [`sparta`] with more environment variables (secrets, a config in the environment).
pub fn sparta_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Sparta {
    spawn(env!("CARGO_BIN_EXE_sparta"), args, cwd, env)
}

/// Another program (a shell that sets limits, then runs sparta), read the same way.
pub fn command(program: &str, args: &[&str], cwd: &Path) -> Sparta {
    spawn(program, args, cwd, &[])
}

fn spawn(program: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Sparta {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "info")
        // For a store on a local DynamoDB emulator; never real AWS in tests.
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sparta starts");
    let (tx, lines) = channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    Sparta { child, lines, seen: Vec::new() }
}

impl Sparta {
    /// The first line (already seen or to come) that satisfies `pred`, or a panic with what was seen.
    pub fn wait_for(&mut self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| pred(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!("no line with {what} within {timeout:?}; output:\n{}", self.seen.join("\n"));
                }
            }
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> u64 {
        self.try_peak_rss_bytes().expect("VmHWM in /proc/<pid>/status")
    }

    /// As [`Self::peak_rss_bytes`]; `None` once the process is gone.
    fn try_peak_rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?;
        Some(kib * 1024)
    }

    /// Waits for the process to exit, sampling its peak memory every 20 ms; returns its status and
    /// the highest peak seen.
    pub fn wait_exit_sampling_rss(&mut self, timeout: Duration) -> (ExitStatus, u64) {
        let started = Instant::now();
        let mut peak = 0;
        loop {
            self.collect();
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                self.collect();
                return (status, peak);
            }
            peak = peak.max(self.try_peak_rss_bytes().unwrap_or(0));
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("still running after {timeout:?}; output:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to clean up, as in a power cut or an OOM kill.
    pub fn kill(&mut self) {
        self.child.kill().expect("the process can be killed");
    }

    /// SIGSTOP / SIGCONT: a process frozen (GC pause, VM migration, swap storm) and thawed.
    pub fn pause(&self, paused: bool) {
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Moves lines that arrived since the last look into `seen`.
    pub fn collect(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    pub fn interrupt(&self) {
        let status = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its status and how long it took.
    pub fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line);
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                while let Ok(line) = self.lines.try_recv() {
                    self.seen.push(line);
                }
                return (status, started.elapsed());
            }
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("still running after {timeout:?}; output:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Sparta {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value after `prefix` on the first matching line, e.g. the URL in "metrics: http://…".
pub fn after<'a>(line: &'a str, prefix: &str) -> &'a str {
    let at = line.find(prefix).unwrap_or_else(|| panic!("{prefix:?} not in {line:?}"));
    line[at + prefix.len()..].split_whitespace().next().unwrap_or_default()
}

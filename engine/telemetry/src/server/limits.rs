//! How long the listener waits on a client, and how many connections it holds at once.

use std::time::Duration;

/// The listener's limits. Every wait on a client is bounded, so a slow or idle client costs a
/// connection slot for a bounded time only, and the slots are capped below the process's file limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Longest wait for a request's headers, counted from the connection's start or, on a kept-alive
    /// connection, from the previous response: an idle connection is closed after it.
    pub header_timeout: Duration,
    /// Longest time a request's body may take to arrive, from its headers; a slower one is answered
    /// 408 and the connection closed.
    pub body_timeout: Duration,
    /// Longest time from a request's headers to its response; a slower one is answered 503.
    pub request_timeout: Duration,
    /// Longest a response write may stay blocked on a client that does not read; then the
    /// connection is dropped.
    pub write_timeout: Duration,
    /// Ceiling of the general pool of connections. The pool is also kept to half the process's file
    /// limit (RLIMIT_NOFILE), less the health reserve, so sockets never starve the rest of the process;
    /// it holds at least one connection.
    pub max_connections: usize,
    /// Connections kept beyond the general pool for `GET /healthz` and `GET /readyz` only (anything
    /// else answers 503 there), so health checks still answer while idle clients fill the pool.
    pub health_reserve: usize,
    /// The header timeout of a reserve connection: short, as a health check sends at once.
    pub health_header_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
            max_connections: 1024,
            health_reserve: 16,
            health_header_timeout: Duration::from_secs(1),
        }
    }
}

impl ServerLimits {
    /// How long shutdown waits for in-flight connections before dropping them: long enough for a
    /// request whose headers are arriving to be read and answered.
    pub(super) fn drain_timeout(&self) -> Duration {
        self.header_timeout + self.request_timeout + self.write_timeout
    }
}

/// The connection slots: the general pool and the health reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Caps {
    pub general: usize,
    pub reserve: usize,
}

/// Sizes the pools from the limits and the soft file limit (`None`: unknown or unlimited).
pub(super) fn caps(limits: &ServerLimits, nofile: Option<u64>) -> Caps {
    let reserve = limits.health_reserve;
    let by_files =
        nofile.map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX).saturating_sub(reserve));
    Caps { general: limits.max_connections.min(by_files).max(1), reserve }
}

/// The soft RLIMIT_NOFILE, read from `/proc/self/limits` (no syscall wrapper needed, as unsafe code
/// is forbidden). `None` where there is no procfs or no limit: the configured cap then stands alone.
pub(super) fn nofile_soft_limit() -> Option<u64> {
    parse_nofile(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

/// The soft limit of the `Max open files` row of a `/proc/<pid>/limits` text.
fn parse_nofile(limits: &str) -> Option<u64> {
    let row = limits.lines().find_map(|line| line.strip_prefix("Max open files"))?;
    row.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_file_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             127448               127448               processes \n\
                    Max open files            256                  524288               files     \n";
        assert_eq!(parse_nofile(text), Some(256));
        let unlimited = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_nofile(unlimited), None);
        assert_eq!(parse_nofile("garbage"), None);
    }

    #[test]
    fn the_general_pool_keeps_half_the_files_for_the_rest_of_the_process() {
        let limits = ServerLimits::default();
        assert_eq!(caps(&limits, Some(256)), Caps { general: 112, reserve: 16 });
        assert_eq!(caps(&limits, Some(1_048_576)), Caps { general: 1024, reserve: 16 });
        assert_eq!(caps(&limits, None), Caps { general: 1024, reserve: 16 });
        assert_eq!(caps(&limits, Some(8)).general, 1, "never zero");
        let tiny = ServerLimits { max_connections: 4, health_reserve: 2, ..limits };
        assert_eq!(caps(&tiny, Some(1024)), Caps { general: 4, reserve: 2 });
    }

    #[test]
    fn this_process_has_a_readable_file_limit_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(nofile_soft_limit().is_some_and(|n| n > 0));
        }
    }
}

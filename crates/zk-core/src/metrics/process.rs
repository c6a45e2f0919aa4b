//! The standard `process_*` metrics (CPU seconds, resident memory, open and maximum file
//! descriptors, start time), read from `/proc/self` on Linux as Prometheus's own clients do.
//! Elsewhere only what the standard library can tell is reported (nothing, today): the gauges stay 0.

use prometheus::{Counter, Gauge, IntGauge};

use super::Registrar;

/// What the process uses now; `None` where the platform does not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

pub(super) struct ProcessMetrics {
    /// Raised at each sample to the CPU time the kernel reports (a float counter: seconds).
    cpu: Counter,
    resident: IntGauge,
    virtual_memory: IntGauge,
    open_fds: IntGauge,
    max_fds: IntGauge,
    start_time: Gauge,
}

impl ProcessMetrics {
    pub(super) fn register(r: &Registrar<'_>) -> Self {
        let cpu = r.register(
            Counter::with_opts(prometheus::Opts::new(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds",
            ))
            .unwrap_or_else(|e| super::invalid("process_cpu_seconds_total", e)),
        );
        Self {
            cpu,
            resident: r.int_gauge("process_resident_memory_bytes", "Resident memory size in bytes"),
            virtual_memory: r.int_gauge("process_virtual_memory_bytes", "Virtual memory size in bytes"),
            open_fds: r.int_gauge("process_open_fds", "Number of open file descriptors"),
            max_fds: r.int_gauge("process_max_fds", "Maximum number of open file descriptors"),
            start_time: r
                .gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds"),
        }
    }

    pub(super) fn sample(&self, stats: &ProcessStats) {
        if let Some(cpu) = stats.cpu_seconds {
            let now = self.cpu.get();
            if cpu > now {
                self.cpu.inc_by(cpu - now);
            }
        }
        let set = |gauge: &IntGauge, value: Option<u64>| {
            if let Some(value) = value {
                gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        };
        set(&self.resident, stats.resident_bytes);
        set(&self.virtual_memory, stats.virtual_bytes);
        set(&self.open_fds, stats.open_fds);
        set(&self.max_fds, stats.max_fds);
        if let Some(start) = stats.start_time_seconds {
            self.start_time.set(start);
        }
    }
}

/// The kernel's clock ticks per second in `/proc` (`USER_HZ`): fixed at 100 for user space on every
/// Linux architecture, which is also what Prometheus's Go client assumes.
#[cfg(target_os = "linux")]
const USER_HZ: f64 = 100.0;
/// This process's figures. Resident memory comes from `/proc/self/status` (kilobytes), not from
/// `/proc/self/stat`, which counts pages of a size only `sysconf` could tell.
#[cfg(target_os = "linux")]
pub fn read() -> ProcessStats {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    // Fields after the command name (which may hold spaces and parentheses): the last ')' ends it.
    let fields: Vec<&str> = stat
        .as_deref()
        .and_then(|s| s.rfind(')').map(|end| s[end + 1..].split_whitespace().collect()))
        .unwrap_or_default();
    // Numbered as in proc(5) from field 3 (state) on: index = field number - 3.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let cpu_seconds = match (field(14), field(15)) {
        (Some(user), Some(system)) => Some((user + system) as f64 / USER_HZ),
        _ => None,
    };
    let virtual_bytes = field(23);
    let start_time_seconds = field(22).and_then(|ticks| boot_time().map(|boot| boot + ticks as f64 / USER_HZ));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let resident_bytes = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024);
    let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|entries| entries.count() as u64);
    let max_fds = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|soft| soft.parse::<u64>().ok())
    });
    ProcessStats { cpu_seconds, resident_bytes, virtual_bytes, open_fds, max_fds, start_time_seconds }
}

#[cfg(not(target_os = "linux"))]
pub fn read() -> ProcessStats {
    ProcessStats::default()
}

/// When the machine booted, in seconds since the Unix epoch (`btime` of `/proc/stat`).
#[cfg(target_os = "linux")]
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<f64>().ok())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let stats = read();
        assert!(stats.resident_bytes.is_some_and(|b| b > 1024 * 1024), "a test process holds over 1 MiB: {stats:?}");
        assert!(stats.open_fds.is_some_and(|n| n >= 3), "stdin, stdout and stderr at least: {stats:?}");
        assert!(stats.max_fds.is_some_and(|n| n >= stats.open_fds.unwrap_or(0)), "{stats:?}");
        assert!(stats.cpu_seconds.is_some(), "{stats:?}");
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let start = stats.start_time_seconds.unwrap_or(0.0);
        assert!(start > now - 86_400.0 * 30.0 && start <= now + 1.0, "started recently: {start} vs {now}");
    }
}

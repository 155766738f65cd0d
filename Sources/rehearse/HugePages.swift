import Foundation

/// Transparent huge pages for the simulator's heap. A GitLab.com-size run keeps gigabytes of
/// per-repository lists and reaches them in no particular order, so with 4 KiB pages most
/// look-ups also miss the TLB; with 2 MiB pages the ten-million-repository drain ran about a
/// sixth faster (BENCHMARKS.md), with the same results (memory placement changes no outcome).
///
/// Where the kernel gives huge pages only to memory that asks (`madvise`, Debian's default),
/// glibc's allocator asks when its `glibc.malloc.hugetlb=1` tunable is set (glibc 2.35 and
/// later; https://www.gnu.org/software/libc/manual/html_node/Memory-Allocation-Tunables.html).
/// Tunables are read only when a process starts, so the command starts itself again, once,
/// with the tunable added: same process id, arguments and descriptors, and
/// `REHEARSE_HUGE_PAGES=restarted` so that it never starts a third time (glibc 2.36 rewrites the
/// variable's text in place as it parses it, so the tunable cannot be relied on to be seen
/// again). Nothing happens when the kernel already uses huge pages for every process or never
/// does, when `GLIBC_TUNABLES` already names the tunable (the user's choice stands), or when
/// `REHEARSE_HUGE_PAGES` is set (`0` turns this off).
enum HugePages {
    static let tunable = "glibc.malloc.hugetlb"
    static let kernelMode = "/sys/kernel/mm/transparent_hugepage/enabled"

    /// Whether to start again with the tunable, given the kernel's mode file and the
    /// environment.
    static func shouldRestart(kernelMode mode: String?, environment: [String: String]) -> Bool {
        guard environment["REHEARSE_HUGE_PAGES"] == nil, let mode, mode.contains("[madvise]") else { return false }
        return !(environment["GLIBC_TUNABLES"] ?? "").contains(tunable)
    }

    /// `GLIBC_TUNABLES` with the tunable added to what the user set.
    static func tunables(adding existing: String?) -> String {
        guard let existing, !existing.isEmpty else { return "\(tunable)=1" }
        return existing + ":\(tunable)=1"
    }

    /// Starts this command again with the tunable when it helps; returns only when it does not
    /// (or when the restart failed, and the command goes on without huge pages).
    static func restartIfUseful() {
        let environment = ProcessInfo.processInfo.environment
        let mode = try? String(contentsOfFile: kernelMode, encoding: .utf8)
        guard shouldRestart(kernelMode: mode, environment: environment) else { return }
        setenv("GLIBC_TUNABLES", tunables(adding: environment["GLIBC_TUNABLES"]), 1)
        setenv("REHEARSE_HUGE_PAGES", "restarted", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only a failed exec returns: put the environment back as it was.
        if let old = environment["GLIBC_TUNABLES"] { setenv("GLIBC_TUNABLES", old, 1) } else { unsetenv("GLIBC_TUNABLES") }
        unsetenv("REHEARSE_HUGE_PAGES")
    }
}

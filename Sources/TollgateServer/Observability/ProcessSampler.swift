import Foundation

/// The process's own figures from /proc (Linux), read at scrape time.
enum ProcessSampler {
    struct Sample {
        var residentBytes: Double?
        var cpuSeconds: Double?
        var openFDs: Double?
        var maxFDs: Double?
    }

    static func sample() -> Sample {
        var sample = Sample()
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            sample.residentBytes = pages * pageSize
        }
        // Fields after the command name's closing parenthesis: utime and stime are the 12th and 13th.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticks > 0 {
                sample.cpuSeconds = (user + system) / ticks
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            sample.openFDs = Double(entries.count)
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { sample.maxFDs = Double(limit.rlim_cur) }
        return sample
    }
}

/// RFC 3339 timestamps as logged by Gitaly and Praefect, to Unix-epoch nanoseconds.
///
/// Accepted shapes (GITALY_LOGS.md §1): `2019-09-17T22:17:19Z` (versions up to about 2021, whole
/// seconds), `2023-10-16T20:40:09.467Z` (current), any number of fraction digits, a numeric
/// offset such as `+12:00` (logrus with a local zone), and no zone at all (`grpc.start_time` in
/// current versions), which is read as UTC.
public enum Timestamp {
    /// The instants a trace may hold: 1970-01-01 to 2199-12-31 (ASSUMED bounds: Gitaly logs
    /// start in 2017, and 230 years keep every difference of two arrivals, and every arrival
    /// minus a window start, inside Int64 nanoseconds with room to spare). The importer refuses
    /// a line outside them, `--from`/`--to` too, and every reader of a store checks them.
    public static let earliestNs: Int64 = 0
    public static let latestNs: Int64 = 7_258_118_399_999_999_999  // 2199-12-31T23:59:59.999999999Z
    public static let validNs = earliestNs...latestNs
    public static let validRangeText = "1970-01-01 to 2199-12-31"

    /// Nanoseconds since 1970-01-01T00:00:00Z, or nil when the text is not such a timestamp:
    /// a date that does not exist (`2023-02-31`), an offset past ±23:59, or an instant outside
    /// `validNs`.
    public static func parseNs(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseNs($0, 0, $0.count) }
    }

    static func parseNs(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        var i = start
        func digits(_ n: Int) -> Int? {
            guard i + n <= end else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < end, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
              let day = digits(2) else { return nil }
        guard i < end, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ") else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
              let second = digits(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
              second < 61 else { return nil }
        var fractionNs: Int64 = 0
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000_000
            var any = false
            while i < end, b[i] >= 0x30 && b[i] <= 0x39 {
                fractionNs += Int64(b[i] - 0x30) * scale
                scale /= 10
                any = true
                i += 1
            }
            guard any else { return nil }
        }
        var offsetSeconds = 0
        if i < end {
            let c = b[i]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                i += 1
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                i += 1
                guard let oh = digits(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let om = digits(2), oh < 24, om < 60 else { return nil }
                offsetSeconds = (oh * 3600 + om * 60) * (c == UInt8(ascii: "-") ? -1 : 1)
            } else {
                return nil
            }
        }
        guard i == end else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        // Four digits of year keep the seconds inside Int64, not their nanoseconds (year 9999
        // is 2.5 × 10²⁰ ns): the range is checked in seconds first.
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        guard seconds >= earliestNs / 1_000_000_000, seconds <= latestNs / 1_000_000_000 else { return nil }
        let ns = seconds * 1_000_000_000 + fractionNs
        return validNs.contains(ns) ? ns : nil
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, "chrono-Compatible Low-Level
    /// Date Algorithms", `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2023-10-16T20:40:08.836000000Z` style text of an epoch-nanosecond time, for reports.
    public static func format(ns: Int64) -> String {
        let secs = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
        let frac = ns - secs * 1_000_000_000
        var days = Int(secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400)
        let sod = Int(secs - Int64(days) * 86_400)
        // Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(sod / 3600, 2)):\(pad(sod / 60 % 60, 2)):\(pad(sod % 60, 2)).\(pad(Int(frac), 9))Z"
    }
}

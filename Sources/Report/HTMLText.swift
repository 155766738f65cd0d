/// Escaping for text and attribute values in HTML and inline SVG. Every string that comes from
/// outside the report (storage names, file paths, claims, phase names) goes through here.
public enum HTMLText {
    /// Replaces the five characters that can end a text node or an attribute value. Quotes are
    /// escaped too, so the result is safe in double- and single-quoted attributes alike. Control
    /// characters other than tab and newline are dropped: they are not allowed in HTML text.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Plot element ids, fixed so that tests and readers can find each plot.
public enum PlotID: String, CaseIterable, Sendable {
    case storageWeights = "plot-storage-weights"
    case movesInFlight = "plot-moves-in-flight"
    case bytesMoved = "plot-bytes-moved"
    case diskFill = "plot-disk-fill"
    case replicationQueueDepth = "plot-replication-queue-depth"
    case replicationLag = "plot-replication-lag"
    case apdex = "plot-apdex"
    case durationHistogram = "plot-duration-histogram"
    case durationCDF = "plot-duration-cdf"
    case dataLoss = "plot-data-loss"

    /// The id of this plot on a comparison page.
    public var comparisonID: String { "compare-" + rawValue.dropFirst("plot-".count) }
}

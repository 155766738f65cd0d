/// Reduces a series to at most `maxPoints` points before it is drawn, so that a report renders
/// in bounded time and size whatever the run's length or number of repositories (issue 11).
///
/// Method: min/max per bucket (the "M4" family, Jugel et al., VLDB 2014, without the
/// first/last per bucket). The first and last points are kept; the interior is cut into
/// `(maxPoints − 2) / 2` buckets of equal point count, and each bucket contributes its lowest
/// and highest point, in time order. Why not largest-triangle-three-buckets: LTTB keeps the
/// visually salient point of each bucket but may drop a bucket's extreme, and on these plots
/// the extreme is the message (a disk fill touching its limit, a queue depth spike, an apdex
/// dip). Min/max keeps every extreme exactly, is one O(n) pass and has no ties to break
/// arbitrarily: the same input always gives the same points.
public enum Downsample {
    public static func minMax(_ points: [SeriesPoint], maxPoints: Int) -> [SeriesPoint] {
        precondition(maxPoints >= 4, "downsampling needs room for first, last, one minimum and one maximum")
        guard points.count > maxPoints else { return points }
        let interior = 1..<(points.count - 1)
        let bucketCount = (maxPoints - 2) / 2
        var result: [SeriesPoint] = []
        result.reserveCapacity(maxPoints)
        result.append(points[0])
        for bucket in 0..<bucketCount {
            // Bucket bounds in integer arithmetic: every interior point falls in exactly one bucket.
            let lower = interior.lowerBound + bucket * interior.count / bucketCount
            let upper = interior.lowerBound + (bucket + 1) * interior.count / bucketCount
            guard lower < upper else { continue }
            var lowest = lower
            var highest = lower
            for index in lower..<upper {
                if points[index].value < points[lowest].value { lowest = index }
                if points[index].value > points[highest].value { highest = index }
            }
            result.append(points[min(lowest, highest)])
            if lowest != highest { result.append(points[max(lowest, highest)]) }
        }
        result.append(points[points.count - 1])
        assert(result.count <= maxPoints)
        return result
    }
}

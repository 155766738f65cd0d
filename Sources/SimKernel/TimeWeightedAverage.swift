/// The time average of a piecewise-constant quantity (queue length, busy servers, disk fill):
/// the integral of the value over time divided by the elapsed time.
public struct TimeWeightedAverage: Sendable, Equatable {
    @usableFromInline var _value: Double
    @inlinable public var value: Double { _value }
    @usableFromInline var _lastChange: SimTime
    @inlinable public var lastChange: SimTime { _lastChange }
    public let start: SimTime
    @usableFromInline var area: Double = 0  // value × seconds
    @usableFromInline var _max: Double
    @inlinable public var max: Double { _max }

    public init(initial: Double = 0, at start: SimTime = .zero) {
        _value = initial; _lastChange = start; self.start = start; _max = initial
    }

    /// Records that the quantity becomes `newValue` at `time` (not before the last change).
    @inlinable public mutating func set(_ newValue: Double, at time: SimTime) {
        precondition(time >= lastChange, "time-weighted update goes back in time: \(time) < \(lastChange)")
        area += value * (time - lastChange).seconds
        _lastChange = time
        _value = newValue
        if newValue > max { _max = newValue }
    }

    @inlinable public mutating func add(_ delta: Double, at time: SimTime) { set(value + delta, at: time) }

    /// The average over [start, time].
    public func average(at time: SimTime) -> Double {
        let span = (time - start).seconds
        guard span > 0 else { return value }
        return (area + value * (time - lastChange).seconds) / span
    }

    /// The integral of the value over [start, time], in value·seconds.
    public func integral(at time: SimTime) -> Double { area + value * (time - lastChange).seconds }
}

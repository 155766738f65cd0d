#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel

/// Pareto (type I) with `scale` x_m and `shape` α: F(x) = 1 - (x_m / x)^α for x >= x_m.
public struct Pareto: ContinuousDistribution, Equatable, CustomStringConvertible {
    public let scale: Double
    public let shape: Double

    public init(scale: Double, shape: Double) throws {
        try Check.positive("scale", scale)
        try Check.positive("shape", shape)
        self.scale = scale
        self.shape = shape
    }

    /// Inversion: x_m U^{-1/α} with U on (0, 1], which is `quantile(1 - U)`.
    public func sample(_ rng: inout RandomStream) -> Double {
        scale * pow(rng.nextOpenUnit(), -1 / shape)
    }

    /// α x_m / (α - 1) for α > 1; infinite otherwise.
    public var mean: Double { shape > 1 ? shape * scale / (shape - 1) : .infinity }

    /// x_m² α / ((α - 1)² (α - 2)) for α > 2; infinite otherwise.
    public var variance: Double {
        shape > 2 ? scale * scale * shape / ((shape - 1) * (shape - 1) * (shape - 2)) : .infinity
    }

    public func cdf(_ x: Double) -> Double { x <= scale ? 0 : -expm1(shape * log(scale / x)) }

    public func quantile(_ p: Double) -> Double {
        Check.probability(p)
        return p == 1 ? .infinity : scale * exp(-log1p(-p) / shape)
    }

    /// ln f(x) = ln α + α ln x_m - (α + 1) ln x for x >= x_m.
    public func logDensity(_ x: Double) -> Double {
        x < scale ? -.infinity : log(shape) + shape * log(scale) - (shape + 1) * log(x)
    }

    public var description: String { "Pareto(scale: \(scale), shape: \(shape))" }
}

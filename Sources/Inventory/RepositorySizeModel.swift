import Foundation
import SimKernel
import Stochastics

/// Repository sizes: a lognormal body of small repositories and, with a small probability, a
/// Pareto tail that reaches hundreds of gigabytes, capped at the largest size seen in public.
///
/// No fitted size distribution of GitLab repositories is published (REAL_FIGURES.md, "Not
/// found"), so the shape is ASSUMED: a lognormal body is the usual model of file and repository
/// sizes, and a Pareto tail gives the few huge repositories that dominate a drain's bytes. The
/// cap is PUBLIC: single repositories of 250–280 GB exist on GitLab.com (production#8134, #8426).
public struct RepositorySizeModel: Sendable, Equatable {
    public let body: LogNormal
    /// Nil: no tail (wikis, snippets, design repositories).
    public let tail: Pareto?
    /// The probability that a size is drawn from the tail.
    public let tailShare: Double
    public let capBytes: Double

    public init(body: LogNormal, tail: Pareto?, tailShare: Double, capBytes: Double) {
        precondition((0...1).contains(tailShare) && capBytes > 0)
        self.body = body
        self.tail = tail
        self.tailShare = tail == nil ? 0 : tailShare
        self.capBytes = capBytes
    }

    /// Project repositories.
    public static let projects: RepositorySizeModel = {
        // ASSUMED: median 5 MB, sigma 2 (the body's 99th percentile is about 0.5 GB).
        let body = try! LogNormal(mu: log(5e6), sigma: 2.0)
        // ASSUMED: 1% of projects from a Pareto tail starting at 1 GB with shape 1.2 (infinite
        // variance, finite mean), so about 1 in 100,000 projects reaches the cap.
        let tail = try! Pareto(scale: 1e9, shape: 1.2)
        // PUBLIC: the largest single repositories are 250–280 GB (production#8134, #8426).
        return RepositorySizeModel(body: body, tail: tail, tailShare: 0.01, capBytes: 280e9)
    }()

    /// Wikis, snippets and design repositories: small, no tail. ASSUMED: median 50 kB, sigma 1.5.
    public static let small: RepositorySizeModel = {
        RepositorySizeModel(body: try! LogNormal(mu: log(50e3), sigma: 1.5), tail: nil, tailShare: 0, capBytes: 280e9)
    }()

    /// One size in bytes: the component from one uniform, the size by inversion from another.
    public func sample(_ rng: inout RandomStream) -> Double {
        let fromTail = tailShare > 0 && rng.nextDouble() < tailShare
        let x = fromTail ? tail!.sample(&rng) : body.sample(&rng)
        return min(x, capBytes)
    }

    /// P(size ≤ x) of the capped mixture.
    public func cdf(_ x: Double) -> Double {
        if x >= capBytes { return 1 }
        let t = tail.map { $0.cdf(x) } ?? 0
        return (1 - tailShare) * body.cdf(x) + tailShare * t
    }

    /// The generalised inverse of `cdf`, by bisection on the logarithm of the size (the mixture
    /// has no closed-form inverse).
    public func quantile(_ p: Double) -> Double {
        precondition((0...1).contains(p))
        if p >= cdf(capBytes.nextDown) { return capBytes }
        var lo = 0.0, hi = log(capBytes)  // sizes below 1 byte have probability ~0 here
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(exp(mid)) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 { break }
        }
        return exp(hi)
    }
}

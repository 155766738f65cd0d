#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SimKernel
@testable import Stochastics

/// The seed every statistical test in this target starts from; failure messages print it
/// together with the component name so a failing run can be replayed.
let testSeed: UInt64 = 20_261_123

func stream(_ component: String, seed: UInt64 = testSeed) -> RandomStream {
    RandomStreams(seed: seed).stream(component)
}

/// The `name` of an `invalidParameter` error, or nil for any other error.
func invalidParameterName(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let DistributionError.invalidParameter(name, _, _) {
        return name
    } catch {
        return nil
    }
}

/// The text of an `invalidData` error, or nil for any other outcome.
func invalidDataText(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let DistributionError.invalidData(text) {
        return text
    } catch {
        return nil
    }
}

/// Mean and unbiased variance by the two-pass formula, written here rather than borrowed
/// from the code under test.
func meanAndVariance(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let n = Double(xs.count)
    let mean = xs.reduce(0, +) / n
    var ss = 0.0
    for x in xs { ss += (x - mean) * (x - mean) }
    return (mean, ss / (n - 1))
}

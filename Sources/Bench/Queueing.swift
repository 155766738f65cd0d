#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Closed forms of classic queues, the independent truth the kernel is validated against.
public enum Queueing {
    /// Erlang's C formula for M/M/c: the probability an arrival waits, and the mean wait in
    /// queue Wq = C / (c·μ − λ) (Kleinrock, "Queueing Systems" vol. 1, 3.5). Needs λ < c·μ.
    /// Computed with the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)) and
    /// C = c·B / (c − a·(1 − B)), which never forms a^c / c! and so stays stable for large c.
    public static func erlangC(servers c: Int, arrivalRate lambda: Double, serviceRate mu: Double) -> (probabilityOfWait: Double, meanWaitInQueue: Double) {
        precondition(c >= 1 && lambda > 0 && mu > 0 && lambda < Double(c) * mu, "Erlang C needs a stable queue: λ < c·μ")
        let a = lambda / mu
        var b = 1.0
        for k in 1...c { b = a * b / (Double(k) + a * b) }
        let pWait = Double(c) * b / (Double(c) - a * (1 - b))
        return (pWait, pWait / (Double(c) * mu - lambda))
    }

    /// M/M/1/K: the probability an arrival finds the system full (K in it, one in service) and is
    /// lost, Pk = (1 − ρ)·ρ^K / (1 − ρ^(K+1)), or 1/(K+1) when ρ = 1 (Gross and Harris,
    /// "Fundamentals of Queueing Theory", 2.5).
    public static func mm1kBlocking(arrivalRate lambda: Double, serviceRate mu: Double, capacity k: Int) -> Double {
        precondition(k >= 1 && lambda > 0 && mu > 0)
        let rho = lambda / mu
        if abs(rho - 1) < 1e-12 { return 1 / Double(k + 1) }
        return (1 - rho) * pow(rho, Double(k)) / (1 - pow(rho, Double(k + 1)))
    }
}

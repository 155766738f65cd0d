import CGSL

/// Quantiles of Student's t and the standard normal, from GSL's inverse CDFs.
public enum StudentT {
    /// The p-quantile of Student's t with `degreesOfFreedom` degrees of freedom.
    public static func quantile(probability p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "t quantile needs 0 < p < 1 and nu > 0, got p=\(p), nu=\(nu)")
        GSL.ready()
        return gsl_cdf_tdist_Pinv(p, nu)
    }
}

public enum StandardNormal {
    public static func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normal quantile needs 0 < p < 1, got \(p)")
        GSL.ready()
        return gsl_cdf_ugaussian_Pinv(p)
    }
    public static func cdf(_ x: Double) -> Double {
        GSL.ready()
        return gsl_cdf_ugaussian_P(x)
    }
}

/// GSL set-up, done once per process: its default error handler aborts, so it is switched off
/// and every caller checks results instead.
public enum GSL {
    private static let quieted: Bool = { rehearse_gsl_quiet(); return true }()
    @inlinable public static func ready() { _ = isQuiet }
    public static var isQuiet: Bool { quieted }
}

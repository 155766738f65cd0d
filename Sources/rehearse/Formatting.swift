import Experiments
import Foundation

// Number formatting shared by every command's text and JSON output.

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

// JSON numbers and strings: `jsonNumber`, `jsonString` (SpecFiles).

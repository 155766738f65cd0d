/// A repository's checksum as Gitaly's `CalculateChecksum` computes it, which GitLab's move
/// compares between source and destination (PRAEFECT.md §8): every line of
/// `git show-ref --head` ("OID REFNAME") that matches `HEAD|(refs/(heads|tags|keep-around|
/// merge-requests|environments|notes)/)` anywhere in it is hashed with SHA-1, and the hashes are
/// XORed together as one big number (gitaly `internal/git/checksum.go`, `Checksum.AddBytes`;
/// `internal/gitaly/service/repository/calculate_checksum.go`). The result is that number in
/// hex without leading zero bytes (Go's `big.Int.Bytes`), or forty zeros when no line counted.
/// The order of the references does not matter, only which ones exist and where they point.
public struct RepositoryChecksum: Equatable, Sendable, CustomStringConvertible {
    public static let zero = String(repeating: "0", count: 40)
    private var sum = [UInt8](repeating: 0, count: 20)
    private var added = false

    public init() {}

    /// The checksum of `git show-ref --head` output.
    public init(showRef output: String) {
        self.init()
        for line in output.split(separator: "\n", omittingEmptySubsequences: true) { add(line: String(line)) }
    }

    static let allowedPrefixes = ["heads", "tags", "keep-around", "merge-requests", "environments", "notes"].map { "refs/\($0)/" }

    /// Whether Gitaly counts the line: the pattern is unanchored, so it may match anywhere.
    static func counts(_ line: String) -> Bool {
        line.contains("HEAD") || allowedPrefixes.contains { line.contains($0) }
    }

    public mutating func add(line: String) {
        guard Self.counts(line) else { return }
        let digest = SHA1.digest(line.utf8)
        for i in 0..<20 { sum[i] ^= digest[i] }
        added = true
    }

    public var description: String {
        // A sum that XORed back to 0 is zero for Go's big.Int too: BitLen 0, "IsZero".
        let bytes = sum.drop { $0 == 0 }
        guard added, !bytes.isEmpty else { return Self.zero }
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

import Foundation
import Testing
@testable import LocalGit

/// Goal: SHA-1 is SHA-1. Method: the FIPS 180 test vectors.
@Test func sha1MatchesTheFIPSVectors() {
    func hex(_ s: String) -> String { SHA1.digest(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
    #expect(hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
    #expect(hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    // 64 bytes: the padding takes a block of its own.
    #expect(hex(String(repeating: "a", count: 64)) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
}

/// Goal: the checksum is Gitaly's `CalculateChecksum`. Method: values computed apart, with
/// Python's hashlib over the same lines and the same rule (the unanchored pattern, XOR of
/// SHA-1 as one number, hex without leading zero bytes):
/// - HEAD, a branch, a tag and a merge-request ref count, a remote-tracking ref does not,
///   and the order does not matter;
/// - a lone remote-tracking ref is the empty repository's forty zeros;
/// - two refs whose hashes share their first byte XOR to a number one byte shorter.
@Test func checksumIsGitalys() {
    let a = "1e292f8fedd741b75372e19097c76d327140c312", b = "7975be0116940bf2ad4321f79d02addc1d33eae6"
    let lines = ["\(a) HEAD", "\(a) refs/heads/main", "\(b) refs/tags/v1", "\(b) refs/remotes/origin/main", "\(a) refs/merge-requests/1/head"]
    #expect(RepositoryChecksum(showRef: lines.joined(separator: "\n")).description == "3da3fdf5ebeddf8951abadb46295fc5d1318c132")
    #expect(RepositoryChecksum(showRef: lines.reversed().joined(separator: "\n") + "\n").description == "3da3fdf5ebeddf8951abadb46295fc5d1318c132")
    #expect(RepositoryChecksum(showRef: lines[1]).description == "cc9ceb480af2e018993b574ec2c1e26eab712cc2")
    #expect(RepositoryChecksum(showRef: lines[3]).description == RepositoryChecksum.zero)
    #expect(RepositoryChecksum(showRef: "\(a) refs/heads/b6\n\(a) refs/heads/b13").description == "a50f66e6266c7f53bf85c4fb62481d61299d37")
}

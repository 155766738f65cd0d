import Testing
@testable import SimKernel

/// Goal: `fnv1a` is the published 64-bit FNV-1a, so every name keys the same stream, storage
/// and draw on every machine. Method: the test vectors of the FNV reference code
/// (http://www.isthe.com/chongo/src/fnv/test_fnv.c, FNV1A_64 for "", "a" and "foobar"), and a
/// name past one byte of UTF-8 checked against the definition worked byte by byte here.
@Test func fnv1aGivesThePublishedVectors() {
    #expect(fnv1a("".utf8) == 0xcbf2_9ce4_8422_2325)
    #expect(fnv1a("a".utf8) == 0xaf63_dc4c_8601_ec8c)
    #expect(fnv1a("foobar".utf8) == 0x8594_4171_f739_67e8)
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte: UInt8 in [0x67, 0xc3, 0xa9, 0x6f] { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    #expect(fnv1a("géo".utf8) == h)
}

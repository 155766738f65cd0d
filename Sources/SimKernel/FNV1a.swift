/// The 64-bit FNV-1a hash of `bytes` (http://www.isthe.com/chongo/tech/comp/fnv/): stable on
/// every platform and in every process, unlike `Hasher`, so what it keys (a component's random
/// stream, a traced name's storage, an API error draw) is the same on every run. (Migration,
/// which imports no simulator module, keeps its own for its plans' identities.)
@inlinable
public func fnv1a(_ bytes: String.UTF8View) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return h
}
